// An HTTP CONNECT proxy on loopback that stands in for DNS: it tunnels `*.localtest` hosts to the
// doubles' loopback ports and refuses everything else. A separate process reaches the doubles
// with nothing but HTTPS_PROXY (as AKS's HTTP proxy feature injects it) and NODE_EXTRA_CA_CERTS;
// in-process clients use the same proxy through TunnelingAgent, so both paths are one path.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Loopback port serving `host`, or undefined when nothing answers for it (like NXDOMAIN). */
export type ResolveHost = (host: string) => number | undefined;

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`: the value for HTTPS_PROXY. */
  readonly url: string;
  readonly port: number;
  /** CONNECT requests answered, by outcome; never the tunnelled bytes. */
  readonly stats: { tunnelled: number; refused: number };
  close(): Promise<void>;
}

const TEST_DOMAIN = '.localtest';

export async function startConnectProxy(
  resolve: ResolveHost,
  log: (line: string) => void = () => {},
): Promise<ConnectProxy> {
  const sockets = new Set<Duplex>();
  const stats = { tunnelled: 0, refused: 0 };
  const server: Server = createServer((req, res) => {
    // Plain proxying (absolute-URI requests) would send cleartext HTTP; only tunnels are offered.
    log(`proxy refused ${req.method} ${req.url}: only CONNECT is supported`);
    res.writeHead(405, { allow: 'CONNECT' }).end('only CONNECT is supported\n');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = parseAuthority(req.url ?? '');
    const port = target && target.host.endsWith(TEST_DOMAIN) ? resolve(target.host) : undefined;
    if (!target || port === undefined) {
      stats.refused++;
      const status = target?.host.endsWith(TEST_DOMAIN) ? '502 Bad Gateway' : '403 Forbidden';
      log(`proxy refused CONNECT ${req.url}: ${status}`);
      client.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    stats.tunnelled++;
    const upstream = connect(port, '127.0.0.1');
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    // A double that drops a connection (the "reset" fault) must look dropped to the client too.
    upstream.once('error', () => client.destroy());
    upstream.once('close', () => client.destroy());
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
  });

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    close: async () => {
      const closed = new Promise<void>((done) => server.close(() => done()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(authority);
  if (!match) return undefined;
  return { host: match[1]!.toLowerCase(), port: Number(match[2]) };
}
