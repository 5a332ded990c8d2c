// A loopback HTTP server that speaks just enough of the API server's list/watch protocol to drive
// an informer through relists, reconnects and stalls: lists return the current objects and
// resourceVersion; watches stream newline-delimited events until the test ends them.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Secret } from '@kubernetes/client-node';

export interface WatchRequest {
  namespace: string | undefined;
  resourceVersion: string | null;
  labelSelector: string | null;
  fieldSelector: string | null;
  allowWatchBookmarks: string | null;
}

export interface ListRequest {
  namespace: string | undefined;
  labelSelector: string | null;
}

/** What the next watch request gets instead of a stream. */
export type WatchAnswer = 'stream' | 'http-410' | 'error-event-410' | 'http-500';

interface OpenWatch {
  namespace: string | undefined;
  response: ServerResponse;
}

export class FakeWatchServer {
  readonly lists: ListRequest[] = [];
  readonly watches: WatchRequest[] = [];
  /** Answers for the next watch requests, in order; 'stream' once they run out. */
  readonly watchAnswers: WatchAnswer[] = [];
  /** Status codes for the next list requests, in order; 200 once they run out. */
  readonly listAnswers: number[] = [];
  readonly #objects = new Map<string, V1Secret>();
  #open: OpenWatch[] = [];
  #version = 100;
  #server: Server;

  constructor() {
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  get openWatches(): number {
    return this.#open.length;
  }

  async start(): Promise<KubeConfig> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    const { port } = this.#server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  async close(): Promise<void> {
    for (const watch of this.#open) watch.response.destroy();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  /** Changes an object without telling open watches (as if the event were lost). */
  put(
    namespace: string,
    name: string,
    labels: Record<string, string> = {},
    data: Record<string, string> = { key: Buffer.from(name).toString('base64') },
  ): V1Secret {
    const secret: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        namespace,
        name,
        labels,
        resourceVersion: String(++this.#version),
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
      data,
    };
    this.#objects.set(`${namespace}/${name}`, secret);
    return secret;
  }

  remove(namespace: string, name: string): V1Secret | undefined {
    const secret = this.#objects.get(`${namespace}/${name}`);
    this.#objects.delete(`${namespace}/${name}`);
    if (!secret) return undefined;
    return {
      ...secret,
      metadata: { ...secret.metadata, resourceVersion: String(++this.#version) },
    };
  }

  /** Sends an event to the open watches of the object's namespace (and all-namespace ones). */
  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', secret: V1Secret): void {
    this.#send(secret.metadata?.namespace, { type, object: secret });
  }

  bookmark(): void {
    const version = String(++this.#version);
    this.#send(undefined, {
      type: 'BOOKMARK',
      object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: version } },
    });
  }

  /** Ends every open watch stream cleanly, as the server does at timeoutSeconds. */
  endWatches(): void {
    const open = this.#open;
    this.#open = [];
    for (const watch of open) watch.response.end();
  }

  get resourceVersion(): string {
    return String(this.#version);
  }

  #send(namespace: string | undefined, event: unknown): void {
    for (const watch of this.#open) {
      if (
        watch.namespace === undefined ||
        namespace === undefined ||
        watch.namespace === namespace
      ) {
        watch.response.write(`${JSON.stringify(event)}\n`);
      }
    }
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/secrets$/.exec(url.pathname);
    if (!match) {
      this.#status(response, 404, 'NotFound', 'no such path');
      return;
    }
    const namespace = match[1];
    const labelSelector = url.searchParams.get('labelSelector');
    if (url.searchParams.get('watch') === 'true') {
      this.#watch(request, response, {
        namespace,
        resourceVersion: url.searchParams.get('resourceVersion'),
        labelSelector,
        fieldSelector: url.searchParams.get('fieldSelector'),
        allowWatchBookmarks: url.searchParams.get('allowWatchBookmarks'),
      });
      return;
    }
    this.lists.push({ namespace, labelSelector });
    const code = this.listAnswers.shift() ?? 200;
    if (code !== 200) {
      this.#status(response, code, 'InternalError', 'list failed');
      return;
    }
    const items = [...this.#objects.values()].filter(
      (secret) =>
        (namespace === undefined || secret.metadata?.namespace === namespace) &&
        matches(secret, labelSelector),
    );
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        kind: 'SecretList',
        apiVersion: 'v1',
        metadata: { resourceVersion: this.resourceVersion },
        items,
      }),
    );
  }

  #watch(request: IncomingMessage, response: ServerResponse, watch: WatchRequest): void {
    this.watches.push(watch);
    const answer = this.watchAnswers.shift() ?? 'stream';
    if (answer === 'http-410') {
      this.#status(response, 410, 'Expired', 'too old resource version');
      return;
    }
    if (answer === 'http-500') {
      this.#status(response, 500, 'InternalError', 'etcd unavailable');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    if (answer === 'error-event-410') {
      const status = { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 };
      response.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    response.flushHeaders();
    const entry = { namespace: watch.namespace, response };
    this.#open.push(entry);
    request.on('close', () => {
      this.#open = this.#open.filter((open) => open !== entry);
    });
  }

  #status(response: ServerResponse, code: number, reason: string, message: string): void {
    response.writeHead(code, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ kind: 'Status', status: 'Failure', code, reason, message }));
  }
}

function matches(secret: V1Secret, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [name, value] = term.split('=');
    return secret.metadata?.labels?.[name ?? ''] === value;
  });
}
