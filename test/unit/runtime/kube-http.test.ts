// kube-http.ts against a loopback HTTP server: what the runtime relies on from its transport —
// the API server's Status in errors, aborts that reject with their reason and leave nothing
// unhandled, a bearer token asked for on every request, and connections kept alive.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiError, kubeFetch, kubeJson } from '../../../src/runtime/kube-http.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

describe('kube-http', () => {
  let server: Server;
  let handler: Handler;
  let connections: number;
  let kubeConfig: KubeConfig;
  const tokens = ['first', 'second'];

  beforeEach(async () => {
    connections = 0;
    handler = (_request, response) => response.end('{}');
    server = createServer((request, response) => handler(request, response));
    server.on('connection', () => (connections += 1));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: tokens[0] }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });

  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it("reports the API server's Status: code, message and reason", async () => {
    handler = (_request, response) => {
      response.writeHead(409, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          kind: 'Status',
          message: 'secrets "a" already exists',
          reason: 'AlreadyExists',
        }),
      );
    };
    const error = await kubeJson(kubeConfig, '/api/v1/namespaces/n/secrets', {
      method: 'POST',
      body: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({
      statusCode: 409,
      reason: 'AlreadyExists',
      message: 'secrets "a" already exists',
    });
  });

  it('reports the status line when the answer is not a Status (a proxy page)', async () => {
    handler = (_request, response) => {
      response.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      response.end('<html>bad gateway</html>');
    };
    await expect(kubeJson(kubeConfig, '/api/v1/namespaces')).rejects.toMatchObject({
      statusCode: 502,
      message: '502 Bad Gateway',
      reason: undefined,
    });
  });

  it('sends the body as JSON with its length, and the current bearer token on every request', async () => {
    const seen: { authorization?: string; type?: string; length?: string; body: string }[] = [];
    handler = (request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        seen.push({
          authorization: request.headers.authorization,
          type: request.headers['content-type'],
          length: request.headers['content-length'],
          body,
        });
        response.end('{"ok":true}');
      });
    };
    const body = { metadata: { name: 'é' } };
    await expect(
      kubeJson(kubeConfig, '/x', {
        method: 'PATCH',
        body,
        contentType: 'application/apply-patch+yaml',
      }),
    ).resolves.toEqual({ ok: true });
    // A rotated token (client-node re-reads a token file the same way): the next request has it.
    (kubeConfig.getCurrentUser() as { token?: string }).token = tokens[1];
    await kubeJson(kubeConfig, '/x');
    expect(seen).toEqual([
      {
        authorization: 'Bearer first',
        type: 'application/apply-patch+yaml',
        length: String(Buffer.byteLength(JSON.stringify(body))),
        body: JSON.stringify(body),
      },
      { authorization: 'Bearer second', type: undefined, length: undefined, body: '' },
    ]);
  });

  it('reuses one kept-alive connection for requests one after another', async () => {
    for (let i = 0; i < 5; i++) await kubeJson(kubeConfig, '/api/v1/namespaces');
    expect(connections).toBe(1);
  });

  it('rejects with the abort reason when aborted before the answer', async () => {
    const arrived = new Promise<void>((resolve) => {
      handler = () => resolve(); // never answers
    });
    const abort = new AbortController();
    const pending = kubeJson(kubeConfig, '/slow', { signal: abort.signal });
    await arrived;
    const reason = new Error('leadership lost');
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('ends a streaming body when aborted, and an abort after a whole body touches nothing', async () => {
    let finish: (() => void) | undefined;
    handler = (_request, response) => {
      response.write('{"type":"ADDED"}\n');
      finish = () => response.end('{"type":"BOOKMARK"}\n');
    };
    const streaming = new AbortController();
    const watch = await kubeFetch(kubeConfig, '/watch', { signal: streaming.signal });
    const read = (async () => {
      for await (const chunk of watch.body) {
        expect(Buffer.from(chunk).toString()).toContain('ADDED');
        streaming.abort(new Error('restart'));
      }
    })();
    await expect(read).rejects.toThrow();

    // A body received whole, then the signal aborted while its reader still holds it: the
    // reader gets it all, and nothing is thrown anywhere (the socket is back in the pool).
    const late = new AbortController();
    handler = (_request, response) => response.end('{"type":"ADDED"}\n{"type":"DELETED"}\n');
    const whole = await kubeFetch(kubeConfig, '/watch', { signal: late.signal });
    const chunks: string[] = [];
    for await (const chunk of whole.body) {
      chunks.push(Buffer.from(chunk).toString());
      late.abort(new Error('restart'));
    }
    expect(chunks.join('')).toContain('DELETED');
    finish?.();
    handler = (_request, response) => response.end('{}');
    await expect(kubeJson(kubeConfig, '/api/v1/namespaces')).resolves.toEqual({});
  });
});
