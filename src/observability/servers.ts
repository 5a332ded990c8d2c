// The operator's HTTP endpoints: /metrics for Prometheus, /healthz (liveness) and /readyz
// (readiness) for the kubelet. Plain node:http, GET only, no request bodies read. Metrics and
// health may share one address; port 0 picks a free port, which is then logged.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { splitAddress } from '../config.ts';
import { errorMessage } from './logger.ts';

export interface Probe {
  readonly ok: boolean;
  /** One line for humans and `kubectl describe`, e.g. `standby (leader: kvsync-7c9f_ab12cd34)`. */
  readonly detail: string;
}

export interface ServerOptions {
  readonly metricsAddress: string;
  readonly healthAddress: string;
  readonly registry: Registry;
  readonly live: () => Probe;
  readonly ready: () => Probe;
  readonly log: Logger;
}

export interface Servers {
  /** `host:port` actually bound, per endpoint group. */
  readonly metricsAddress: string;
  readonly healthAddress: string;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export async function startServers(options: ServerOptions): Promise<Servers> {
  const metricsRoutes: Record<string, Route> = {
    '/metrics': async (_req, res) => {
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
    },
  };
  const healthRoutes: Record<string, Route> = {
    '/healthz': (_req, res) => probe(res, options.live()),
    '/readyz': (_req, res) => probe(res, options.ready()),
  };
  // The same address twice shares one listener; port 0 twice means two free ports.
  const shared =
    options.metricsAddress === options.healthAddress &&
    splitAddress(options.metricsAddress).port !== 0;
  const metrics = await listen(
    options.metricsAddress,
    shared ? { ...metricsRoutes, ...healthRoutes } : metricsRoutes,
    options.log,
  );
  let health: Server;
  try {
    health = shared ? metrics : await listen(options.healthAddress, healthRoutes, options.log);
  } catch (error) {
    await close(metrics);
    throw error;
  }
  const result = {
    metricsAddress: boundAddress(metrics),
    healthAddress: boundAddress(health),
    close: async () => {
      await Promise.all([...new Set([metrics, health])].map(close));
    },
  };
  options.log.info({ address: result.metricsAddress }, 'serving /metrics');
  options.log.info({ address: result.healthAddress }, 'serving /healthz and /readyz');
  return result;
}

function probe(res: ServerResponse, result: Probe): void {
  res
    .writeHead(result.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
    .end(`${result.ok ? 'ok' : 'not ok'}: ${result.detail}\n`);
}

function listen(address: string, routes: Record<string, Route>, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    Promise.resolve(route(req, res)).catch((error: unknown) => {
      log.warn({ path, err: errorMessage(error) }, 'endpoint failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  // Probes and scrapes are small and quick; a stuck client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(new Error(`cannot listen on ${address}: ${errorMessage(error)}`)),
    );
    server.listen({ host, port }, () => resolve(server));
  });
}

function boundAddress(server: Server): string {
  const { address, port, family } = server.address() as AddressInfo;
  return family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
