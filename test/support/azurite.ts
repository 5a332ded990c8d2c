// Azurite's queue service (npm `azurite`) as the Storage Queue Event Grid would fill: HTTPS on
// loopback with a certificate from a CA made for the run, `--oauth basic` (it checks a bearer
// token's issuer https://sts.windows.net/<tenant>/, audience https://storage.azure.com and
// lifetime), its own temp dir, telemetry off. `stop()` makes the queue unreachable; `restart()`
// brings it back on the same port with the same messages.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { QueueClientOptions } from '../../src/events/storage-queue-source.ts';
import { QueueClient } from '@azure/storage-queue';
import { createTestPki } from './azure/tls.ts';
import { waitFor } from './kube.ts';
import type { Supervised } from './processes.ts';
import { startSupervised } from './processes.ts';

/** Azurite's fixed development account. */
const ACCOUNT = 'devstoreaccount1';
export const STORAGE_RESOURCE = 'https://storage.azure.com';

export interface Azurite {
  readonly port: number;
  /** `https://127.0.0.1:<port>/devstoreaccount1` */
  readonly accountUrl: string;
  /** Azurite's test CA on disk, for a separate process's NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** Options that make @azure/storage-queue trust Azurite's test CA. */
  readonly clientOptions: QueueClientOptions;
  queueUrl(name: string): string;
  /** A client for test set-up and inspection (not kvsync's identity). */
  queue(name: string): QueueClient;
  /** Stops the server, keeping its data: the queue is unreachable until restart(). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAzurite(options: { tenantId: string }): Promise<Azurite> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-azurite-'));
  try {
    const pki = await createTestPki(dir);
    const agent = new Agent({ ca: pki.caPem, keepAlive: true });
    const clientOptions: QueueClientOptions = { agent, retryOptions: { maxTries: 1 } };
    const admin = testTokenCredential(options.tenantId);
    const main = createRequire(import.meta.url).resolve('azurite/dist/src/queue/main.js');
    const logPath = path.join(dir, 'azurite.log');
    let server: Supervised | undefined;
    let port = 0;

    const start = async (): Promise<void> => {
      const logStart = (await readFile(logPath, 'utf8').catch(() => '')).length;
      server = await startSupervised({
        name: 'azurite-queue',
        command: process.execPath,
        args: [
          main,
          '--queueHost', '127.0.0.1', '--queuePort', String(port),
          '--location', path.join(dir, 'data'),
          '--cert', path.join(dir, 'server.crt'), '--key', path.join(dir, 'server.key'),
          '--oauth', 'basic',
          '--disableTelemetry', '--silent',
        ], // prettier-ignore
        logPath,
        graceMs: 5_000,
      });
      let gone = false;
      void server.exited.then(() => (gone = true));
      const listening = await waitFor(
        async () => {
          const log = (await readFile(logPath, 'utf8')).slice(logStart);
          const match = /listens on https:\/\/127\.0\.0\.1:(\d+)/.exec(log);
          if (match) return Number(match[1]);
          if (gone) throw new Error(`Azurite exited; see ${logPath}`);
          return undefined;
        },
        { description: 'Azurite queue service listening', timeoutMs: 30_000 },
      );
      port = listening;
    };

    await start();
    const accountUrl = () => `https://127.0.0.1:${port}/${ACCOUNT}`;
    return {
      get port() {
        return port;
      },
      get accountUrl() {
        return accountUrl();
      },
      caFile: pki.caFile,
      clientOptions,
      queueUrl: (name) => `${accountUrl()}/${name}`,
      queue: (name) => new QueueClient(`${accountUrl()}/${name}`, admin, clientOptions),
      stop: async () => {
        await server?.stop();
        server = undefined;
      },
      restart: async () => {
        await server?.stop();
        await start();
      },
      close: async () => {
        await server?.stop();
        agent.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * An unsigned token with the claims Azurite's `--oauth basic` checks, for test set-up only.
 * kvsync itself gets real tokens from the fake Entra ID (resource https://storage.azure.com).
 */
export function testTokenCredential(tenantId: string): TokenCredential {
  return {
    getToken(): Promise<AccessToken> {
      const now = Math.floor(Date.now() / 1000);
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const claims = {
        iss: `https://sts.windows.net/${tenantId}/`,
        aud: STORAGE_RESOURCE,
        iat: now,
        nbf: now,
        exp: now + 3600,
      };
      const token = `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
      return Promise.resolve({ token, expiresOnTimestamp: (now + 3600) * 1000 });
    },
  };
}
