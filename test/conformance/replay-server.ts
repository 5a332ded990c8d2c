// Recorded Key Vault sessions served over HTTPS, so kvsync's reader and the real SDK meet the real
// service's answers. Each recording gets a vault host of its own (`<name>.vault.localtest`, test
// CA, reached through the doubles' CONNECT proxy, certificate checks on). A request is answered
// with the first not yet used entry of the same method, path and query; api-version is left out
// (the recordings span 7.6-preview.2 to 2025-07-01, the SDK asks for its own) and so is
// maxresults (kvsync asks for pages of 25, the SDK tests asked for 1: the page the service
// returned is in the body, whatever was asked). A request without a token is answered with the
// recording's challenge, as Key Vault answers any such request.
//
// Mapped, because the recorder sanitized them: the vault host in bodies and nextLinks
// (`keyvault_name.vault.azure.net`, `Sanitized.vault.azure.net`) becomes the replay host, keeping an
// explicit `:443`; the challenge's resource `https://vault.azure.net` becomes
// `https://vault.localtest` (the parent domain of the replay hosts, so the SDK's challenge
// resource verification passes, as it does for `<name>.vault.azure.net`); its authority
// `https://login.microsoftonline.com/<tenant>` becomes `https://login.localtest/<replay tenant>`.
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startConnectProxy, type ConnectProxy } from '../support/azure/connect-proxy.ts';
import { createTestPki, LOGIN_HOST, VAULT_DNS_SUFFIX } from '../support/azure/tls.ts';
import { TunnelingAgent } from '../support/azure/tunneling-agent.ts';
import {
  isChallenge,
  RECORDED_HOSTS,
  requestKey,
  type RecordedEntry,
  type Recording,
} from './recordings.ts';

export const REPLAY_TENANT = '72f988bf-0000-4000-8000-00000000beef';
export const REPLAY_RESOURCE = `https://${VAULT_DNS_SUFFIX}`;

export interface ReplayVault {
  readonly url: string;
  /** Requests answered, in order: `401 challenge` or the entry's index and status. */
  readonly served: string[];
  /** Requests no recorded entry answered. */
  readonly misses: string[];
}

export interface ReplayServer {
  /** Trusts the test CA and tunnels to the replay server; for SecretClient's `agent`. */
  readonly agent: TunnelingAgent;
  serve(vaultName: string, recording: Recording): ReplayVault;
  close(): Promise<void>;
}

interface Cassette extends ReplayVault {
  readonly host: string;
  readonly recording: Recording;
  readonly used: Set<number>;
}

export async function startReplayServer(): Promise<ReplayServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-replay-'));
  const pki = await createTestPki(dir);
  const cassettes = new Map<string, Cassette>();
  const server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) =>
    answer(cassettes, req, res),
  );
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const port = (server.address() as AddressInfo).port;
  const proxy: ConnectProxy = await startConnectProxy((host) =>
    cassettes.has(host) ? port : undefined,
  );
  const agent = new TunnelingAgent(proxy.port, pki.caPem);
  return {
    agent,
    serve(vaultName, recording) {
      const host = `${vaultName}.${VAULT_DNS_SUFFIX}`;
      const cassette: Cassette = {
        url: `https://${host}`,
        host,
        recording,
        used: new Set(),
        served: [],
        misses: [],
      };
      cassettes.set(host, cassette);
      return cassette;
    },
    async close() {
      agent.destroy();
      await proxy.close();
      await stop(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function answer(
  cassettes: ReadonlyMap<string, Cassette>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const cassette = cassettes.get((req.headers.host ?? '').replace(/:\d+$/, ''));
  if (!cassette) return void res.writeHead(421).end();
  const key = requestKey(req.method ?? '', new URL(req.url ?? '/', cassette.url));
  const { entries } = cassette.recording;
  if (!req.headers.authorization) {
    const challenge = entries.find(isChallenge);
    if (challenge) {
      cassette.served.push('401 challenge');
      return send(res, cassette, challenge);
    }
  }
  const index = entries.findIndex(
    (entry, i) =>
      !cassette.used.has(i) &&
      !isChallenge(entry) &&
      requestKey(entry.RequestMethod, new URL(entry.RequestUri)) === key,
  );
  if (index === -1) {
    cassette.misses.push(key);
    const body = { error: { code: 'NotRecorded', message: `no recorded answer for ${key}` } };
    return void res
      .writeHead(501, { 'content-type': 'application/json' })
      .end(JSON.stringify(body));
  }
  cassette.used.add(index);
  cassette.served.push(`${index} ${entries[index]!.StatusCode}`);
  send(res, cassette, entries[index]!);
}

function send(res: ServerResponse, cassette: Cassette, entry: RecordedEntry): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.ResponseHeaders)) {
    headers[name.toLowerCase()] = mapHeader(name.toLowerCase(), value, cassette.host);
  }
  const text =
    entry.ResponseBody === null ? '' : JSON.stringify(mapHosts(entry.ResponseBody, cassette.host));
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(entry.StatusCode, headers).end(text);
}

function mapHeader(name: string, value: string, host: string): string {
  if (name === 'www-authenticate') {
    return value
      .replace(
        /authorization="https:\/\/login\.microsoftonline\.com\/[^"]*"/,
        `authorization="https://${LOGIN_HOST}/${REPLAY_TENANT}"`,
      )
      .replace(/resource="https:\/\/vault\.azure\.net"/, `resource="${REPLAY_RESOURCE}"`);
  }
  return name === 'location' ? value.replace(RECORDED_HOSTS, `https://${host}`) : value;
}

/** Every URL string naming the recorded vault names the replay host instead. */
function mapHosts(body: unknown, host: string): unknown {
  if (typeof body === 'string') return body.replace(RECORDED_HOSTS, `https://${host}`);
  if (Array.isArray(body)) return body.map((item) => mapHosts(item, host));
  if (body !== null && typeof body === 'object') {
    return Object.fromEntries(
      Object.entries(body).map(([key, value]) => [key, mapHosts(value, host)]),
    );
  }
  return body;
}

function stop(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}
