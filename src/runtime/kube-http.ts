// Raw requests to the Kubernetes API with a KubeConfig's credentials. The runtime needs what the
// generated clients do not give: streamed watch bodies, abort signals and the HTTP status of every
// failure. client-node builds a new connection pool per request; this reuses one per KubeConfig
// while still asking the KubeConfig for headers each time, so rotating bearer tokens apply.

import type { KubeConfig } from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { fetch, type Dispatcher, type Response } from 'undici';

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

const dispatchers = new WeakMap<KubeConfig, Dispatcher | undefined>();

/** Sends a request; the caller reads (or cancels) the body. Throws KubeApiError on non-2xx. */
export async function kubeFetch(
  kubeConfig: KubeConfig,
  path: string,
  request: KubeRequest = {},
): Promise<Response> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  const context = new RequestContext(url.toString(), HttpMethod.GET);
  await kubeConfig.applySecurityAuthentication(context);
  if (!dispatchers.has(kubeConfig)) dispatchers.set(kubeConfig, context.getDispatcher());
  const headers: Record<string, string> = { ...context.getHeaders(), accept: 'application/json' };
  if (request.body !== undefined) {
    headers['content-type'] = request.contentType ?? 'application/json';
  }
  const response = await fetch(url, {
    method: request.method ?? 'GET',
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    dispatcher: dispatchers.get(kubeConfig),
    signal: request.signal,
  });
  if (response.ok) return response;
  throw await apiError(response);
}

/** Sends a request and parses the JSON answer. */
export async function kubeJson<T>(
  kubeConfig: KubeConfig,
  path: string,
  request: KubeRequest = {},
): Promise<T> {
  const response = await kubeFetch(kubeConfig, path, request);
  return (await response.json()) as T;
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

async function apiError(response: Response): Promise<KubeApiError> {
  const text = await response.text().catch(() => '');
  let status: StatusBody = {};
  try {
    status = JSON.parse(text) as StatusBody;
  } catch {
    // Not a Status object (e.g. a proxy's HTML page); the status line is all we know.
  }
  const message =
    status.kind === 'Status' && status.message
      ? status.message
      : `${response.status} ${response.statusText}`.trim();
  return new KubeApiError(response.status, message, status.reason);
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
