// The Key Vault and Entra ID doubles, driven by the real, unmodified Azure SDK clients over HTTPS
// with certificate verification and the SDK's challenge resource verification on. Identities
// are real workload identities: ServiceAccount tokens from the test API server (TokenRequest),
// verified by the fake Entra against the API server's own discovery document and JWKS.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import {
  ClientSecretCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { CoreV1Api } from '@kubernetes/client-node';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  serviceAccountSubject,
  startAzureDoubles,
  type AzureDoubles,
  type FakeVault,
} from '../support/azure/index.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  serviceAccountToken,
} from '../support/kube.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const execFileAsync = promisify(execFile);
const AUDIENCE = 'api://AzureADTokenExchange';

let azure: AzureDoubles;
let dir: string;
let namespace: string;
let vault: FakeVault;
/** The federated app for ServiceAccount `payments-app`, granted on the vault. */
let paymentsClientId: string;
/** Federated for ServiceAccount `other-app`, granted nothing. */
let otherClientId: string;
const tokenFiles: Record<string, string> = {};
const doubleLog: string[] = [];
const secretValues: string[] = [];

/** A fresh, recognisable value; every value goes through here so the log check can look for it. */
function newValue(label: string): string {
  const value = `${label}-${randomBytes(12).toString('hex')}`;
  secretValues.push(value);
  return value;
}

function workloadCredential(clientId: string, serviceAccount: string): WorkloadIdentityCredential {
  return new WorkloadIdentityCredential({
    tenantId: azure.tenantId,
    clientId,
    tokenFilePath: tokenFiles[serviceAccount],
    ...azure.clientOptions,
  });
}

function secretClient(
  credential: TokenCredential,
  options: SecretClientOptions = {},
  vaultName = 'payments',
) {
  // Challenge resource verification is left at its default: on.
  return new SecretClient(azure.vaultUrl(vaultName), credential, {
    ...azure.clientOptions,
    ...options,
  });
}

/** Fast retries, so fault tests exercise the SDK's retry policy without waiting for its delays. */
const quickRetries = { retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 } };
const noRetries = { retryOptions: { maxRetries: 0 } };

async function refusal(
  promise: Promise<unknown>,
): Promise<Error & { statusCode?: number; code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal, got a result');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kvsync-azure-test-'));
  azure = await startAzureDoubles({
    kubeIssuerCaFile: info.caFile,
    log: (line) => doubleLog.push(line),
  });
  namespace = await createTestNamespace(kc, 'azure-doubles');
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of ['payments-app', 'other-app']) {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    tokenFiles[name] = path.join(dir, `${name}.token`);
    await writeFile(tokenFiles[name], await serviceAccountToken(kc, namespace, name, AUDIENCE), {
      mode: 0o600,
    });
  }
  const federated = (sa: string) => [
    { issuer: info.issuer, subject: serviceAccountSubject(namespace, sa) },
  ];
  paymentsClientId = azure.entra.registerApp({
    federatedCredentials: federated('payments-app'),
  }).clientId;
  otherClientId = azure.entra.registerApp({
    federatedCredentials: federated('other-app'),
  }).clientId;
  vault = azure.keyVault.createVault('payments');
  vault.grant(paymentsClientId);
});

afterAll(async () => {
  await azure?.close();
  if (namespace) await deleteTestNamespace(kc, namespace);
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  vault.faults.clear();
  azure.keyVault.counters.reset();
  azure.entra.resetCounters();
});

describe('workload identity through the fake Entra ID', () => {
  it('exchanges a TokenRequest token for a Key Vault token and reads a secret with it', async () => {
    const value = newValue('db');
    const { version } = vault.setSecret('db-password', value, {
      contentType: 'text/plain',
      tags: { team: 'payments' },
    });
    const credential = workloadCredential(paymentsClientId, 'payments-app');

    const secret = await secretClient(credential).getSecret('db-password');

    expect(secret.value).toBe(value);
    expect(secret.properties.version).toBe(version);
    expect(secret.properties.contentType).toBe('text/plain');
    expect(secret.properties.tags).toEqual({ team: 'payments' });
    expect(secret.properties.vaultUrl).toBe(azure.vaultUrl('payments'));
    // The challenge came first, then exactly one authenticated call.
    expect(azure.keyVault.counters.challenges({ vault: 'payments' })).toBe(1);
    expect(
      azure.keyVault.counters.calls({ vault: 'payments', operation: 'getSecret', status: 200 }),
    ).toBe(1);

    const token = await credential.getToken(`${azure.keyVaultResource}/.default`);
    const claims = decodeJwt(token.token);
    expect(claims).toMatchObject({
      aud: azure.keyVaultResource,
      appid: paymentsClientId,
      tid: azure.tenantId,
    });
  });

  it('makes one token exchange per identity per token lifetime, however many clients read', async () => {
    const value = newValue('shared');
    vault.setSecret('shared', value);
    const credential = workloadCredential(paymentsClientId, 'payments-app');
    for (const client of [secretClient(credential), secretClient(credential)]) {
      for (let i = 0; i < 3; i++) expect((await client.getSecret('shared')).value).toBe(value);
    }
    expect(azure.entra.tokenRequests(paymentsClientId)).toBe(1);
    expect(azure.entra.tokensIssued(paymentsClientId)).toBe(1);
  });

  it('refuses the token of another ServiceAccount with AADSTS700213 naming the subject', async () => {
    const credential = workloadCredential(paymentsClientId, 'other-app');
    const err = await refusal(secretClient(credential, noRetries).getSecret('db-password'));
    expect(err.message).toContain(
      `AADSTS700213: No matching federated identity record found for presented assertion subject '${serviceAccountSubject(namespace, 'other-app')}'.`,
    );
    expect(azure.keyVault.counters.calls()).toBe(0);
  });

  it('refuses an expired assertion with AADSTS700024', async () => {
    const issuer = await azure.startTestIssuer();
    const app = azure.entra.registerApp({
      federatedCredentials: [
        { issuer: issuer.issuer, subject: serviceAccountSubject('ns', 'late') },
      ],
    });
    vault.grant(app.clientId);
    const tokenFile = path.join(dir, 'expired.token');
    await writeFile(
      tokenFile,
      await issuer.token({ namespace: 'ns', serviceAccount: 'late', expiresInSeconds: -300 }),
    );
    const credential = new WorkloadIdentityCredential({
      tenantId: azure.tenantId,
      clientId: app.clientId,
      tokenFilePath: tokenFile,
      ...azure.clientOptions,
    });
    const err = await refusal(credential.getToken(`${azure.keyVaultResource}/.default`));
    expect(err.message).toContain('AADSTS700024');
  });

  it('refuses an unknown application with AADSTS700016', async () => {
    const credential = workloadCredential('00000000-0000-4000-8000-00000000beef', 'payments-app');
    const err = await refusal(credential.getToken(`${azure.keyVaultResource}/.default`));
    expect(err.message).toContain('AADSTS700016');
  });

  it('issues tokens for a client secret and refuses a wrong one with AADSTS7000215', async () => {
    const clientSecret = randomBytes(16).toString('base64url');
    secretValues.push(clientSecret);
    const app = azure.entra.registerApp({ clientSecret });
    vault.grant(app.clientId);
    const value = newValue('by-secret');
    vault.setSecret('by-secret', value);
    const good = new ClientSecretCredential(
      azure.tenantId,
      app.clientId,
      clientSecret,
      azure.clientOptions,
    );
    expect((await secretClient(good).getSecret('by-secret')).value).toBe(value);

    const bad = new ClientSecretCredential(
      azure.tenantId,
      app.clientId,
      'not-the-secret',
      azure.clientOptions,
    );
    const err = await refusal(bad.getToken(`${azure.keyVaultResource}/.default`));
    expect(err.message).toContain('AADSTS7000215');
  });
});

describe('Key Vault access and errors', () => {
  it('answers 403 ForbiddenByRbac to an identity without a role on the vault', async () => {
    vault.setSecret('guarded', newValue('guarded'));
    const client = secretClient(workloadCredential(otherClientId, 'other-app'), noRetries);
    const err = await refusal(client.getSecret('guarded'));
    expect(err).toBeInstanceOf(RestError);
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('Forbidden');
    expect(err.message).toContain('Caller is not authorized to perform action on resource');
    expect(err.message).toContain(`appid=${otherClientId}`);
  });

  it('limits an object-scoped grant to its objects, and it cannot list', async () => {
    const clientSecret = randomBytes(16).toString('base64url');
    secretValues.push(clientSecret);
    const app = azure.entra.registerApp({ clientSecret });
    vault.grant(app.clientId, { objects: ['Scoped-One'], readOnly: true });
    const value = newValue('scoped');
    vault.setSecret('scoped-one', value);
    vault.setSecret('scoped-two', newValue('scoped'));
    const client = secretClient(
      new ClientSecretCredential(azure.tenantId, app.clientId, clientSecret, azure.clientOptions),
      noRetries,
    );

    expect((await client.getSecret('scoped-one')).value).toBe(value);
    expect((await refusal(client.getSecret('scoped-two'))).statusCode).toBe(403);
    expect((await refusal(client.listPropertiesOfSecrets().next())).statusCode).toBe(403);
    expect((await refusal(client.setSecret('scoped-one', newValue('scoped')))).statusCode).toBe(
      403,
    );
  });

  it('answers 404 SecretNotFound, and 403 for a disabled secret', async () => {
    const client = secretClient(workloadCredential(paymentsClientId, 'payments-app'), noRetries);
    const missing = await refusal(client.getSecret('no-such-secret'));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('SecretNotFound');

    vault.setSecret('switched-off', newValue('off'), { enabled: false });
    const disabled = await refusal(client.getSecret('switched-off'));
    expect(disabled.statusCode).toBe(403);
    expect(disabled.code).toBe('Forbidden');
    expect(disabled.message).toBe('Operation get is not allowed on a disabled secret.');
    // Listing still shows it, disabled.
    const listed = [];
    for await (const item of client.listPropertiesOfSecrets())
      if (item.name === 'switched-off') listed.push(item);
    expect(listed.map((p) => p.enabled)).toEqual([false]);
  });

  it('fails loudly on a request it does not understand: 500 naming method and path', async () => {
    vault.setSecret('backup-me', newValue('backup'));
    const client = secretClient(workloadCredential(paymentsClientId, 'payments-app'), noRetries);
    const err = await refusal(client.backupSecret('backup-me'));
    expect(err.statusCode).toBe(500);
    expect(err.message).toContain('does not understand POST /secrets/backup-me/backup');
    expect(azure.keyVault.counters.calls({ operation: 'unknown', status: 500 })).toBe(1);
  });
});

describe('reaching the doubles', () => {
  it('keeps challenge resource verification meaningful: a foreign resource gets no token', async () => {
    const rogue = azure.keyVault.createVault('rogue');
    rogue.grant(paymentsClientId);
    rogue.setSecret('bait', newValue('bait'));
    rogue.challengeResource = 'https://vault.azure.net';
    const client = secretClient(
      workloadCredential(paymentsClientId, 'payments-app'),
      noRetries,
      'rogue',
    );
    const err = await refusal(client.getSecret('bait'));
    expect(err.message).toContain(
      "The challenge resource 'vault.azure.net' does not match the requested domain",
    );
    expect(azure.entra.tokenRequests()).toBe(0);
    expect(azure.keyVault.counters.calls({ vault: 'rogue' })).toBe(0);
  });

  it('resolves only existing vaults and the login host; other hosts are refused by the proxy', async () => {
    const client = secretClient(
      workloadCredential(paymentsClientId, 'payments-app'),
      noRetries,
      'nosuchvault',
    );
    const missing = await refusal(client.getSecret('anything'));
    expect(missing.message).toContain(
      'proxy refused CONNECT nosuchvault.vault.localtest:443: HTTP/1.1 502',
    );

    const pipeline = createPipelineFromOptions({ ...azure.clientOptions, ...noRetries });
    const request = createPipelineRequest({ url: 'https://example.com/', method: 'GET' });
    const foreign = await refusal(pipeline.sendRequest(createDefaultHttpClient(), request));
    expect(foreign.message).toContain('proxy refused CONNECT example.com:443: HTTP/1.1 403');
  });
});

describe('secrets through the SDK', () => {
  it('lists 60 secrets in 3 pages of at most 25 with nextLink', async () => {
    const paging = azure.keyVault.createVault('paging');
    paging.grant(paymentsClientId);
    for (let i = 0; i < 60; i++)
      paging.setSecret(`s-${String(i).padStart(2, '0')}`, newValue('page'));
    const client = secretClient(workloadCredential(paymentsClientId, 'payments-app'), {}, 'paging');

    const pages: string[][] = [];
    for await (const page of client.listPropertiesOfSecrets().byPage())
      pages.push(page.map((p) => p.name));

    expect(pages.map((p) => p.length)).toEqual([25, 25, 10]);
    expect(pages.flat()).toEqual(
      Array.from({ length: 60 }, (_, i) => `s-${String(i).padStart(2, '0')}`),
    );
    expect(
      azure.keyVault.counters.calls({ vault: 'paging', operation: 'listSecrets', status: 200 }),
    ).toBe(3);

    const small: number[] = [];
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 20 }))
      small.push(page.length);
    // A full last page links on to an empty one, as Key Vault's do (conformance recordings).
    expect(small).toEqual([20, 20, 20, 0]);
  });

  it('sets versions, reads old ones, updates attributes, deletes, recovers and purges', async () => {
    const client = secretClient(workloadCredential(paymentsClientId, 'payments-app'));
    const first = newValue('v1');
    const second = newValue('v2');
    const v1 = await client.setSecret('rotating', first, { tags: { gen: '1' } });
    const v2 = await client.setSecret('rotating', second, { contentType: 'text/plain' });
    expect(v2.properties.version).not.toBe(v1.properties.version);
    expect((await client.getSecret('rotating')).value).toBe(second);
    expect((await client.getSecret('rotating', { version: v1.properties.version! })).value).toBe(
      first,
    );

    const versions = [];
    for await (const p of client.listPropertiesOfSecretVersions('rotating'))
      versions.push(p.version);
    expect(versions.sort()).toEqual([v1.properties.version, v2.properties.version].sort());

    const expiresOn = new Date('2031-01-01T00:00:00Z');
    const updated = await client.updateSecretProperties('rotating', v2.properties.version!, {
      enabled: false,
      expiresOn,
      tags: { gen: '2' },
      contentType: 'application/json',
    });
    expect(updated).toMatchObject({
      enabled: false,
      expiresOn,
      tags: { gen: '2' },
      contentType: 'application/json',
    });
    expect(vault.secret('rotating').enabled).toBe(false);
    await client.updateSecretProperties('rotating', v2.properties.version!, { enabled: true });

    const poller = await client.beginDeleteSecret('rotating');
    const deleted = await poller.pollUntilDone();
    expect(deleted.recoveryId).toBe(`${azure.vaultUrl('payments')}/deletedsecrets/rotating`);
    expect((await refusal(client.getSecret('rotating'))).statusCode).toBe(404);
    expect((await client.getDeletedSecret('rotating')).name).toBe('rotating');

    await (await client.beginRecoverDeletedSecret('rotating')).pollUntilDone();
    expect((await client.getSecret('rotating')).value).toBe(second);
    await (await client.beginDeleteSecret('rotating')).pollUntilDone();
    await client.purgeDeletedSecret('rotating');
    expect((await refusal(client.getDeletedSecret('rotating'))).statusCode).toBe(404);
  });
});

describe('certificates', () => {
  it('serves the backing secret (PEM and PFX) and the certificate with its leaf and thumbprint', async () => {
    const chain = await makeCertificateChain(path.join(dir, 'cert'));
    const pem = await vault.importCertificate('web-tls', { pem: chain.pem });
    const pfx = await vault.importCertificate('web-pfx', { pfxBase64: chain.pfxBase64 });
    const credential = workloadCredential(paymentsClientId, 'payments-app');
    const client = secretClient(credential);

    const pemSecret = await client.getSecret('web-tls');
    expect(pemSecret.value).toBe(chain.pem);
    expect(pemSecret.properties).toMatchObject({
      managed: true,
      contentType: 'application/x-pem-file',
    });
    expect(pemSecret.properties.version).toBe(pem.version);
    expect(pemSecret.properties.certificateKeyId).toBe(
      `${azure.vaultUrl('payments')}/keys/web-tls/${pem.version}`,
    );
    const pfxSecret = await client.getSecret('web-pfx');
    expect(pfxSecret.value).toBe(chain.pfxBase64);
    expect(pfxSecret.properties).toMatchObject({
      managed: true,
      contentType: 'application/x-pkcs12',
    });

    const get = await keyVaultGet(
      credential,
      `${azure.vaultUrl('payments')}/certificates/web-tls?api-version=7.4`,
    );
    expect(get.status).toBe(200);
    const certificate = JSON.parse(get.bodyAsText ?? '') as {
      cer: string;
      x5t: string;
      sid: string;
    };
    expect(Buffer.from(certificate.cer, 'base64')).toEqual(chain.leafDer);
    expect(certificate.x5t).toBe(createHash('sha1').update(chain.leafDer).digest('base64url'));
    expect(certificate.sid).toBe(`${azure.vaultUrl('payments')}/secrets/web-tls/${pem.version}`);

    const list = await keyVaultGet(
      credential,
      `${azure.vaultUrl('payments')}/certificates?api-version=2025-07-01`,
    );
    const items = (JSON.parse(list.bodyAsText ?? '') as { value: { id: string; x5t: string }[] })
      .value;
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: `${azure.vaultUrl('payments')}/certificates/web-tls`,
          x5t: pem.x5t,
        }),
        expect.objectContaining({
          id: `${azure.vaultUrl('payments')}/certificates/web-pfx`,
          x5t: pfx.x5t,
        }),
      ]),
    );
  });
});

describe('faults seen by the SDK', () => {
  let client: SecretClient;
  let value: string;
  beforeAll(async () => {
    value = newValue('faulty');
    vault.setSecret('faulty', value);
    client = secretClient(workloadCredential(paymentsClientId, 'payments-app'), quickRetries);
    await client.getSecret('faulty'); // settle the challenge and the token first
  });
  beforeEach(() => azure.keyVault.counters.reset());

  it('429 with Retry-After: the SDK waits and retries by itself', async () => {
    vault.faults.inject({ kind: 'throttle', retryAfterSeconds: 1 }, { times: 1 });
    expect((await client.getSecret('faulty')).value).toBe(value);
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status: 429 })).toBe(1);
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status: 200 })).toBe(1);
  });

  it('429 without Retry-After: the SDK gives up at once, leaving backoff to the caller', async () => {
    vault.faults.inject({ kind: 'throttle' }, { times: 1 });
    const err = await refusal(client.getSecret('faulty'));
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('Throttled');
    expect(azure.keyVault.counters.calls({ operation: 'getSecret' })).toBe(1);
  });

  it.each([500, 503] as const)('%i once: the SDK retries and succeeds', async (status) => {
    vault.faults.inject({ kind: 'status', status }, { times: 1 });
    expect((await client.getSecret('faulty')).value).toBe(value);
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status })).toBe(1);
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status: 200 })).toBe(1);
  });

  it('503 that persists: the SDK stops after its retries', async () => {
    vault.faults.inject({ kind: 'status', status: 503 });
    const err = await refusal(client.getSecret('faulty'));
    expect(err.statusCode).toBe(503);
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status: 503 })).toBe(4);
  });

  it('a fault scoped to one operation leaves the others alone', async () => {
    vault.faults.inject({ kind: 'status', status: 500 }, { operations: ['listSecrets'] });
    expect((await client.getSecret('faulty')).value).toBe(value);
    expect((await refusal(client.listPropertiesOfSecrets().next())).statusCode).toBe(500);
  });

  it('connection reset: retried by the SDK, and surfaced as ECONNRESET without retries', async () => {
    vault.faults.inject({ kind: 'reset' }, { times: 1 });
    expect((await client.getSecret('faulty')).value).toBe(value);
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status: 0 })).toBe(1);

    vault.faults.inject({ kind: 'reset' }, { times: 1 });
    // Only authenticated calls are faulted: the challenge passes, the read itself is reset.
    const once = secretClient(workloadCredential(paymentsClientId, 'payments-app'), noRetries);
    const err = await refusal(once.getSecret('faulty'));
    expect(err.code).toBe('ECONNRESET');
  });

  it('added latency: a client with a short timeout gives up while the vault is slow', async () => {
    vault.faults.setLatency(60_000);
    const impatient = secretClient(workloadCredential(paymentsClientId, 'payments-app'), noRetries);
    const err = await refusal(impatient.getSecret('faulty', { requestOptions: { timeout: 300 } }));
    expect(err.name).toBe('AbortError');
  });

  it('a real throttle admits N calls per window and answers 429 beyond it', async () => {
    vault.faults.throttle({ limit: 5, windowMs: 10 * 60_000 });
    for (let i = 0; i < 5; i++) await client.getSecret('faulty');
    const err = await refusal(client.getSecret('faulty'));
    expect(err.statusCode).toBe(429);
    expect(azure.keyVault.counters.calls({ vault: 'payments', status: 200 })).toBe(5);
    expect(azure.keyVault.counters.calls({ vault: 'payments', status: 429 })).toBe(1);
  });
});

describe('a separate process', () => {
  it('reads a secret with only HTTPS_PROXY and NODE_EXTRA_CA_CERTS (plus workload identity env)', async () => {
    const value = newValue('remote');
    const { version } = vault.setSecret('remote', value);
    const script = `
      import { createHash } from 'node:crypto';
      import { WorkloadIdentityCredential } from '@azure/identity';
      import { SecretClient } from '@azure/keyvault-secrets';
      const credential = new WorkloadIdentityCredential({ disableInstanceDiscovery: true });
      const secret = await new SecretClient(process.env.VAULT_URL, credential).getSecret('remote');
      const sha256 = createHash('sha256').update(secret.value).digest('hex');
      console.log(JSON.stringify({ version: secret.properties.version, sha256 }));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: {
        ...azure.processEnv(),
        AZURE_CLIENT_ID: paymentsClientId,
        AZURE_FEDERATED_TOKEN_FILE: tokenFiles['payments-app'],
        VAULT_URL: azure.vaultUrl('payments'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({
      version,
      sha256: createHash('sha256').update(value).digest('hex'),
    });
    expect(azure.keyVault.counters.calls({ operation: 'getSecret', status: 200 })).toBe(1);
  });
});

describe('the doubles’ own log', () => {
  it('names requests but never a secret value', () => {
    expect(doubleLog.length).toBeGreaterThan(0);
    const leaked = secretValues.filter((value) => doubleLog.some((line) => line.includes(value)));
    expect(leaked).toEqual([]);
  });
});

/** Sends one GET with a bearer token for the Key Vault resource (no challenge round trip). */
async function keyVaultGet(credential: TokenCredential, url: string): Promise<PipelineResponse> {
  const pipeline = createPipelineFromOptions({ ...azure.clientOptions, ...noRetries });
  pipeline.addPolicy(
    bearerTokenAuthenticationPolicy({ credential, scopes: `${azure.keyVaultResource}/.default` }),
  );
  return pipeline.sendRequest(
    createDefaultHttpClient(),
    createPipelineRequest({ url, method: 'GET' }),
  );
}

/** A CA and a leaf it signed: PEM with key + leaf + CA (upload order), a blank-password PFX. */
async function makeCertificateChain(
  dir: string,
): Promise<{ pem: string; pfxBase64: string; leafDer: Buffer }> {
  await mkdir(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-new',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-subj',
    '/CN=Test Issuing CA',
    '-days',
    '30',
  ]);
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-new',
    ...ec,
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-keyout',
    f('leaf.key'),
    '-out',
    f('leaf.crt'),
    '-subj',
    '/CN=web.payments.example',
    '-days',
    '30',
  ]);
  await execFileAsync('openssl', [
    'pkcs12',
    '-export',
    '-inkey',
    f('leaf.key'),
    '-in',
    f('leaf.crt'),
    '-certfile',
    f('ca.crt'),
    '-passout',
    'pass:',
    '-out',
    f('web.pfx'),
  ]);
  const [key, leaf, ca, pfx] = await Promise.all([
    readFile(f('leaf.key'), 'utf8'),
    readFile(f('leaf.crt'), 'utf8'),
    readFile(f('ca.crt'), 'utf8'),
    readFile(f('web.pfx')),
  ]);
  return {
    pem: key + leaf + ca,
    pfxBase64: pfx.toString('base64'),
    leafDer: new X509Certificate(leaf).raw,
  };
}
