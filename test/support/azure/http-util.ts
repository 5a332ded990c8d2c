// Small HTTP plumbing shared by the doubles. Bodies are read and written here and never logged.
import type { IncomingMessage, ServerResponse } from 'node:http';

// Key Vault refuses secrets over 25 KB; a megabyte leaves room for any honest request.
const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * Injected latency: resolves after `ms`, or as soon as the client goes away (a client that timed
 * out must not keep a timer, and the test process, alive). True when the client is still there.
 */
export function delayAnswer(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

/** Method and path without the query string, for messages: queries may carry tokens. */
export function describeRequest(req: IncomingMessage): string {
  return `${req.method ?? '?'} ${(req.url ?? '').split('?')[0]}`;
}
