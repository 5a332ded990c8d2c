// A vault URL pointing at a host that is not Key Vault but answers like it: a 401 challenge naming
// Key Vault's resource. With the SDK's challenge resource verification on (kvsync never turns it
// off), the host never receives a token. The same server with verification off does receive one,
// which shows the test would notice a leak.
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createVaultBudget } from '../../../src/keyvault/budget.ts';
import { VaultError } from '../../../src/keyvault/errors.ts';
import { createSecretReader } from '../../../src/keyvault/secret-reader.ts';
import { createTestPki } from '../../support/azure/tls.ts';

const TENANT = '72f988bf-0000-4000-8000-00000000cafe';

let dir: string;
let server: Server;
let agent: Agent;
let vaultUrl: string;
const seen: IncomingHttpHeaders[] = [];

/** A credential that would hand out a token to anyone: it counts who asked. */
function generousCredential(): TokenCredential & { calls: number } {
  const credential = {
    calls: 0,
    getToken(): Promise<AccessToken> {
      credential.calls++;
      return Promise.resolve({
        token: 'eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.',
        expiresOnTimestamp: Date.now() + 3_600_000,
      });
    },
  };
  return credential;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kvsync-hostile-'));
  const pki = await createTestPki(dir);
  server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(401, {
      'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ error: { code: 'Unauthorized', message: 'AKV10000' } }));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  vaultUrl = `https://localhost:${(server.address() as AddressInfo).port}/`;
  agent = new Agent({ ca: pki.caPem, keepAlive: false });
});

afterAll(async () => {
  agent?.destroy();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

function read(credential: TokenCredential, disableChallengeResourceVerification: boolean) {
  return createSecretReader({
    vaultUrl,
    credential,
    budget: createVaultBudget(),
    clientOptions: { agent, disableChallengeResourceVerification },
  }).getSecret('db-password');
}

it('never sends a token to a host that only claims to be Key Vault', async () => {
  seen.length = 0;
  const credential = generousCredential();
  const failure = await read(credential, false).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(failure).toBeInstanceOf(VaultError);
  expect((failure as VaultError).kind).toBe('UntrustedHost');
  expect((failure as VaultError).message).toContain(
    'challenge names resource "vault.azure.net", which this vault host does not belong to',
  );
  expect((failure as VaultError).message).toContain('check spec.vault.url');
  expect(seen).toHaveLength(1);
  expect(seen[0]?.authorization).toBeUndefined();
  expect(credential.calls).toBe(0);
});

it('would have leaked the token with verification off (the test can see a leak)', async () => {
  seen.length = 0;
  const credential = generousCredential();
  await read(credential, true).catch(() => undefined);
  expect(credential.calls).toBe(1);
  expect(seen.map((headers) => headers.authorization)).toContain(
    'Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.',
  );
});
