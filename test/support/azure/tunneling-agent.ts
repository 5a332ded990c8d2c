// An https.Agent that reaches every host through an HTTP CONNECT proxy and trusts one extra CA:
// what HTTPS_PROXY + NODE_EXTRA_CA_CERTS give a separate process, scoped to one client instead of
// the whole test process. Certificate and host name verification stay on.
import { Agent, type AgentOptions } from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createSecureContext,
  connect as tlsConnect,
  rootCertificates,
  type SecureContext,
} from 'node:tls';

const MAX_PROXY_RESPONSE_BYTES = 16 * 1024;

export class TunnelingAgent extends Agent {
  readonly #proxyPort: number;
  readonly #trust: SecureContext;

  constructor(proxyPort: number, caPem: string, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#proxyPort = proxyPort;
    // Public roots too, so the agent behaves like NODE_EXTRA_CA_CERTS (which adds, not replaces).
    // Built once and kept out of the agent's options: https.Agent puts `ca` into every pool key,
    // which at ~150 roots cost milliseconds per request.
    this.#trust = createSecureContext({ ca: [...rootCertificates, caPem] });
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => {});
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const proxy = netConnect(this.#proxyPort, '127.0.0.1');
    proxy.once('error', (err) => done(err, proxy));
    proxy.once('connect', () => {
      proxy.write(`CONNECT ${host}:${port} HTTP/1.1\r\nhost: ${host}:${port}\r\n\r\n`);
    });
    readProxyResponse(proxy).then(
      (statusLine) => {
        if (!/^HTTP\/1\.[01] 200\b/.test(statusLine)) {
          proxy.destroy();
          done(new Error(`proxy refused CONNECT ${host}:${port}: ${statusLine}`), proxy);
          return;
        }
        // The request's host/port/path describe the tunnel's far end, not this socket.
        const tlsOptions: Record<string, unknown> = { ...options };
        for (const key of ['host', 'hostname', 'port', 'path']) delete tlsOptions[key];
        const secure = tlsConnect({
          ...tlsOptions,
          secureContext: this.#trust,
          socket: proxy,
          servername: host,
        });
        done(null, secure);
      },
      (err: Error) => done(err, proxy),
    );
    return undefined;
  }
}

/** Reads the proxy's response head (status line returned). */
function readProxyResponse(socket: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_PROXY_RESPONSE_BYTES)
          fail(new Error('proxy response head too large'));
        return;
      }
      cleanup();
      // The server speaks only after our TLS ClientHello, so nothing may follow the head.
      if (end + 4 < head.length)
        return fail(new Error('proxy sent data before the tunnel was used'));
      resolve(head.subarray(0, head.indexOf('\r\n')).toString('latin1'));
    };
    const onEnd = () => fail(new Error('proxy closed the connection before answering CONNECT'));
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', fail);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', fail);
  });
}
