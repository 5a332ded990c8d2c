// Lowkey Vault, an independent Key Vault emulator (a Spring Boot jar from Maven Central), started
// for one test file on free loopback ports and stopped with it; supervised so that it cannot
// outlive the test process. Its HTTPS certificate is self-signed: we download it from the token
// port's metadata endpoint and trust exactly that certificate; verification stays on.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { get as httpGet } from 'node:http';
import { createServer, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSupervised, type Supervised } from '../support/processes.ts';

const execFileAsync = promisify(execFile);

export const LOWKEY_JAVA =
  process.env.LOWKEY_VAULT_JAVA ?? '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java';
const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 250;

export interface LowkeyVault {
  /** `https://localhost:<port>`: the vault Lowkey Vault always registers for its own port. */
  readonly vaultUrl: string;
  /** Trusts Lowkey Vault's certificate (only) and resolves localhost to 127.0.0.1. */
  readonly agent: Agent;
  readonly caPem: string;
  readonly startupMs: number;
  readonly logPath: string;
  stop(): Promise<void>;
}

export type JarLookup = { jar: string } | { unavailable: string };

/** Runs scripts/fetch-lowkey-vault.sh; says why when the jar cannot be had here. */
export async function findLowkeyJar(): Promise<JarLookup> {
  if (!existsSync(LOWKEY_JAVA)) return { unavailable: `no Java 25 at ${LOWKEY_JAVA}` };
  const script = path.resolve(import.meta.dirname, '../../scripts/fetch-lowkey-vault.sh');
  try {
    const { stdout } = await execFileAsync('bash', [script], { timeout: 300_000 });
    const jar = stdout.trim().split('\n').at(-1) ?? '';
    return existsSync(jar) ? { jar } : { unavailable: `fetch-lowkey-vault.sh printed ${jar}` };
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
    return { unavailable: stderr.split('\n').at(-1) || (err as Error).message };
  }
}

// Lowkey Vault serves `https://<name>.localhost:<port>` for each of --LOWKEY_VAULT_NAMES, but
// its certificate covers those only as `*.localhost`, a wildcard over a single label that Node's
// host name check refuses (as browsers do). The vault it registers for `localhost:<port>` itself
// matches the certificate's DNS:localhost, so that is the one the suite reads, with the named
// vaults left registered beside it.
export async function startLowkeyVault(
  jar: string,
  vaultNames: readonly string[],
): Promise<LowkeyVault> {
  const started = performance.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-lowkey-'));
  const [port, tokenPort] = await freePorts(2);
  const logPath = path.join(dir, 'lowkey-vault.log');
  const server = await startSupervised({
    name: 'lowkey-vault',
    command: LOWKEY_JAVA,
    args: [
      // A short-lived test server: C1 only and a small heap start faster on two cores.
      '-XX:TieredStopAtLevel=1',
      '-Xmx384m',
      '-jar',
      jar,
      `--server.port=${port}`,
      '--server.address=127.0.0.1',
      `--app.token.port=${tokenPort}`,
      `--LOWKEY_VAULT_NAMES=${vaultNames.join(',')}`,
      '--LOWKEY_DEBUG_REQUEST_LOG=false',
      '--LOWKEY_VAULT_RELAXED_PORTS=true',
    ],
    logPath,
    graceMs: 5_000,
  });
  try {
    const password = await pollText(
      server,
      `http://127.0.0.1:${tokenPort}/metadata/default-cert/password`,
    );
    const p12 = await fetchBytes(
      `http://127.0.0.1:${tokenPort}/metadata/default-cert/lowkey-vault.p12`,
    );
    const caPem = await certificateFromPkcs12(p12, password, dir);
    const agent = loopbackAgent(caPem);
    const vaultUrl = `https://localhost:${port}`;
    await pollHttps(server, `${vaultUrl}/ping`, agent);
    return {
      vaultUrl,
      agent,
      caPem,
      startupMs: performance.now() - started,
      logPath,
      stop: async () => {
        agent.destroy();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    const log = await readFile(logPath, 'utf8').catch(() => '');
    throw new Error(
      `Lowkey Vault did not become ready: ${(err as Error).message}\n${log.slice(-2_000)}`,
      {
        cause: err,
      },
    );
  }
}

/** Trusts only `caPem` and resolves (*.)localhost to 127.0.0.1; certificate checks stay on. */
export function loopbackAgent(caPem: string): Agent {
  return new Agent({ ca: caPem, lookup: loopbackLookup, keepAlive: true });
}

/** `*.localhost` names the vault; it lives on loopback (RFC 6761), whatever the resolver says. */
const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    callback(
      new Error(`refusing to resolve ${hostname}: Lowkey Vault tests stay on loopback`),
      '',
      4,
    );
    return;
  }
  if ((options as { all?: boolean }).all) {
    (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
      { address: '127.0.0.1', family: 4 },
    ]);
  } else {
    callback(null, '127.0.0.1', 4);
  }
};

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Polls until the URL answers 200, failing early if the server process has exited. */
async function pollText(server: Supervised, url: string): Promise<string> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  let exited = false;
  void server.exited.then(() => (exited = true));
  let lastError = 'no answer';
  while (performance.now() < deadline) {
    if (exited) throw new Error(`the process exited (see ${server.logPath})`);
    try {
      return (await fetchBytes(url)).toString('utf8');
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${url} did not answer within ${READY_TIMEOUT_MS} ms: ${lastError}`);
}

async function pollHttps(server: Supervised, url: string, agent: Agent): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  let exited = false;
  void server.exited.then(() => (exited = true));
  let lastError = 'no answer';
  while (performance.now() < deadline && !exited) {
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(url, { agent, method: 'GET' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end();
      });
      if (status < 500) return;
      lastError = `status ${status}`;
    } catch (err) {
      lastError = (err as Error).message;
      // A certificate error will not fix itself by waiting.
      if (/certificate|self.signed|altname/i.test(lastError)) break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${url} is not ready: ${lastError}`);
}

function fetchBytes(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(Buffer.concat(chunks));
        else reject(new Error(`${url} answered ${res.statusCode}`));
      });
      res.on('error', reject);
    });
    req.once('error', reject);
  });
}

/** The certificate (no key) out of Lowkey Vault's PKCS#12 key store, as PEM. */
async function certificateFromPkcs12(p12: Buffer, password: string, dir: string): Promise<string> {
  const file = path.join(dir, 'lowkey-vault.p12');
  await writeFile(file, p12);
  const args = ['pkcs12', '-in', file, '-nokeys', '-clcerts', '-passin', `pass:${password.trim()}`];
  let pem: string;
  try {
    pem = (await execFileAsync('openssl', args)).stdout;
  } catch {
    // Key stores written by older keytools use algorithms OpenSSL 3 keeps in its legacy provider.
    pem = (await execFileAsync('openssl', [...args, '-legacy'])).stdout;
  }
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!block) throw new Error('no certificate in the default key store');
  return `${block}\n`;
}
