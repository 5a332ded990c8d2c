// Raw requests to the Kubernetes API with a KubeConfig's credentials. The runtime needs what the
// generated clients do not give: streamed watch bodies, abort signals and the HTTP status of every
// failure. client-node builds a new connection pool per request; this keeps one kept-alive agent
// per KubeConfig while still asking the KubeConfig for headers each time, so rotating bearer
// tokens apply. It speaks node:http(s) rather than undici: undici's module graph and its HTTP
// parser (WebAssembly) cost about 25 MiB of RSS that kvsync does not otherwise need
// (docs/benchmarks.md).

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A non-2xx answer from the API server, with the Status reason when it sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  /** metav1.Status `reason`, e.g. `Conflict`, `NotFound`, `Expired`, `Gone`. */
  readonly reason: string | undefined;

  constructor(statusCode: number, message: string, reason?: string) {
    super(message);
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** A 2xx answer whose body the caller reads (or cancels through its signal). */
export interface KubeResponse {
  readonly status: number;
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * A request (or a watch) that sends or receives nothing for this long fails, as undici's header
 * and body timeouts did: the informer restarts its watch, a write reports its error.
 */
const IDLE_TIMEOUT_MS = 300_000;
/**
 * An unused kept-alive connection is closed after this long, well before the API server closes
 * it (IdleTimeout 90 s in k8s.io/apiserver's secure_serving.go): a request never starts on a
 * connection the server is closing.
 */
const FREE_SOCKET_TIMEOUT_MS = 30_000;

const agents = new WeakMap<KubeConfig, HttpAgent>();

/** Sends a request; the caller reads (or cancels) the body. Throws KubeApiError on non-2xx. */
export async function kubeFetch(
  kubeConfig: KubeConfig,
  path: string,
  request: KubeRequest = {},
): Promise<KubeResponse> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  const options: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const headers: Record<string, string | number> = {
    ...(options.headers as Record<string, string> | undefined),
    accept: 'application/json',
  };
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  if (body !== undefined) {
    headers['content-type'] = request.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  const response = await send(
    url,
    {
      method: request.method ?? 'GET',
      headers,
      auth: options.auth,
      agent: agentFor(kubeConfig, url, options),
    },
    body,
    request.signal,
  );
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return { status, body: response };
  throw apiError(status, response.statusMessage, await readAll(response).catch(() => ''));
}

/**
 * One kept-alive agent per KubeConfig, built from the TLS material of its first request (as the
 * pool it replaces was). A cluster behind a proxy (`proxy-url`) uses client-node's proxy agent.
 */
function agentFor(kubeConfig: KubeConfig, url: URL, options: RequestOptions): HttpAgent {
  if (kubeConfig.getCurrentCluster()?.proxyUrl && options.agent instanceof HttpAgent) {
    return options.agent;
  }
  let agent = agents.get(kubeConfig);
  if (!agent) {
    const tls = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      servername: options.servername,
      ...(options.rejectUnauthorized === undefined
        ? {}
        : { rejectUnauthorized: options.rejectUnauthorized }),
    };
    agent =
      url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, ...tls })
        : new HttpAgent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS });
    agents.set(kubeConfig, agent);
  }
  return agent;
}

/**
 * Sends one request. An abort before the answer rejects with the signal's reason (as fetch does);
 * an abort while the body streams ends the stream, so its reader throws. Once the body has been
 * received whole, aborting touches nothing (its kept-alive socket is back in the pool by then).
 */
function send(
  url: URL,
  options: RequestOptions,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options);
    let response: IncomingMessage | undefined;
    const abort = (): void => {
      reject(signal?.reason as Error);
      // A body received whole is left to its reader: its socket may be in the pool already.
      if (!response?.complete) request.destroy(signal?.reason as Error);
    };
    signal?.addEventListener('abort', abort, { once: true });
    request.once('close', () => signal?.removeEventListener('abort', abort));
    request.setTimeout(IDLE_TIMEOUT_MS, () =>
      request.destroy(new Error(`no answer from the API server in ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    request.once('response', (answer: IncomingMessage) => {
      response = answer;
      resolve(answer);
    });
    // Also after the answer arrived: a reset then reaches the reader through the response
    // stream, and the request's own 'error' must not go unhandled.
    request.on('error', reject);
    request.end(body);
  });
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends a request and parses the JSON answer. */
export async function kubeJson<T>(
  kubeConfig: KubeConfig,
  path: string,
  request: KubeRequest = {},
): Promise<T> {
  const response = await kubeFetch(kubeConfig, path, request);
  return JSON.parse(await readAll(response.body)) as T;
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

function apiError(status: number, statusText: string | undefined, text: string): KubeApiError {
  let body: StatusBody = {};
  try {
    body = JSON.parse(text) as StatusBody;
  } catch {
    // Not a Status object (e.g. a proxy's HTML page); the status line is all we know.
  }
  const message =
    body.kind === 'Status' && body.message ? body.message : `${status} ${statusText ?? ''}`.trim();
  return new KubeApiError(status, message, body.reason);
}

/** The collection path of a resource, e.g. `/api/v1/namespaces/ns/secrets`. */
export function collectionPath(
  resource: { apiVersion: string; plural: string },
  namespace?: string,
): string {
  const base = resource.apiVersion.includes('/')
    ? `/apis/${resource.apiVersion}`
    : `/api/${resource.apiVersion}`;
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${scope}/${resource.plural}`;
}
