// Identity resolution against the real API server (ServiceAccounts, TokenRequest, Secrets) and
// the fake Entra ID and Key Vault: each namespace's identity reads exactly what it was granted,
// Entra and Key Vault refusals say what to fix, and tokens are requested once per identity.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VaultIdentity } from '../../../src/api/vault-secret.ts';
import { kubeIdentityPort, type KubernetesPort } from '../../../src/identity/kubernetes-port.ts';
import { createIdentityResolver } from '../../../src/identity/resolver.ts';
import {
  IdentityError,
  type IdentityResolver,
  type ResolvedIdentity,
  type TokenRequestKind,
} from '../../../src/identity/types.ts';
import { createVaultBudget } from '../../../src/keyvault/budget.ts';
import { VaultError } from '../../../src/keyvault/errors.ts';
import { createSecretReader } from '../../../src/keyvault/secret-reader.ts';
import {
  serviceAccountSubject,
  startAzureDoubles,
  type AppRegistration,
  type AzureDoubles,
} from '../../support/azure/index.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  serviceAccountToken,
} from '../../support/kube.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const core = kc.makeApiClient(CoreV1Api);
const budget = createVaultBudget();

let azure: AzureDoubles;
let dir: string;
let payments: string;
let orders: string;
let outsider: string;
let paymentsApp: AppRegistration;
let ordersApp: AppRegistration;
let resolver: IdentityResolver;
const tokenRequests = new Map<string, number>();
const tokenRequestKinds: TokenRequestKind[] = [];
/** Every value stored in a vault or a Secret, to prove none reaches an error message. */
const values: string[] = [];

function newValue(label: string): string {
  const value = `${label}-${randomBytes(12).toString('hex')}`;
  values.push(value);
  return value;
}

async function createServiceAccount(namespace: string, name: string, clientId?: string) {
  await core.createNamespacedServiceAccount({
    namespace,
    body: {
      metadata: {
        name,
        ...(clientId ? { annotations: { 'azure.workload.identity/client-id': clientId } } : {}),
      },
    },
  });
}

/** An app federated with `namespace/serviceAccount`, a ServiceAccount pointing at it, a vault. */
async function federatedIdentity(namespace: string, serviceAccount: string, vaultName: string) {
  const app = azure.entra.registerApp({
    federatedCredentials: [
      { issuer: info.issuer, subject: serviceAccountSubject(namespace, serviceAccount) },
    ],
  });
  await createServiceAccount(namespace, serviceAccount, app.clientId);
  const vault = azure.keyVault.createVault(vaultName);
  vault.grant(app.clientId, { readOnly: true });
  return { app, vault };
}

/** The real port, counting TokenRequests per ServiceAccount. */
function countingPort(port: KubernetesPort): KubernetesPort {
  return {
    getServiceAccount: (namespace, name) => port.getServiceAccount(namespace, name),
    getSecret: (namespace, name) => port.getSecret(namespace, name),
    createToken: (namespace, name, spec) => {
      const key = `${namespace}/${name}`;
      tokenRequests.set(key, (tokenRequests.get(key) ?? 0) + 1);
      return port.createToken(namespace, name, spec);
    },
  };
}

function resolve(namespace: string, identity?: VaultIdentity): Promise<ResolvedIdentity> {
  return resolver.resolve({
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name: 'app', namespace },
    spec: { vault: { url: azure.vaultUrl('unused'), ...(identity ? { identity } : {}) } },
  });
}

/** What kvsync does per reconcile: a reader on the resolved credential, then a read. */
function readerFor(identity: ResolvedIdentity, vaultName: string) {
  return createSecretReader({
    vaultUrl: azure.vaultUrl(vaultName),
    credential: identity.credential,
    budget,
    clientOptions: azure.clientOptions,
    ...(identity.hints ? { identityHints: identity.hints } : {}),
  });
}

async function read(
  identity: ResolvedIdentity,
  vaultName: string,
  secret: string,
): Promise<string> {
  return (await readerFor(identity, vaultName).getSecret(secret)).value;
}

async function vaultError(promise: Promise<unknown>): Promise<VaultError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VaultError);
  const vaultFailure = error as VaultError;
  for (const value of values) expect(vaultFailure.message).not.toContain(value);
  return vaultFailure;
}

async function identityError(promise: Promise<unknown>): Promise<IdentityError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IdentityError);
  return error as IdentityError;
}

beforeAll(async () => {
  azure = await startAzureDoubles({ kubeIssuerCaFile: info.caFile });
  dir = await mkdtemp(path.join(tmpdir(), 'kvsync-identity-'));
  [payments, orders, outsider] = await Promise.all([
    createTestNamespace(kc, 'id-payments'),
    createTestNamespace(kc, 'id-orders'),
    createTestNamespace(kc, 'id-outsider'),
  ]);
  ({ app: paymentsApp } = await federatedIdentity(payments, 'reader', 'payments-kv'));
  ({ app: ordersApp } = await federatedIdentity(orders, 'reader', 'orders-kv'));
  azure.keyVault.vault('payments-kv').setSecret('db-password', newValue('payments-db'));
  azure.keyVault.vault('orders-kv').setSecret('db-password', newValue('orders-db'));

  // The operator's own workload identity, as the webhook would project it into kvsync's pod.
  const operator = await createTestNamespace(kc, 'id-kvsync');
  const operatorApp = azure.entra.registerApp({
    federatedCredentials: [
      { issuer: info.issuer, subject: serviceAccountSubject(operator, 'kvsync') },
    ],
  });
  await createServiceAccount(operator, 'kvsync');
  const tokenFile = path.join(dir, 'azure-identity-token');
  await writeFile(
    tokenFile,
    await serviceAccountToken(kc, operator, 'kvsync', 'api://AzureADTokenExchange'),
  );
  azure.keyVault.vault('payments-kv').grant(operatorApp.clientId, { readOnly: true });

  resolver = createIdentityResolver({
    kubernetes: countingPort(kubeIdentityPort(kc)),
    azureOptions: azure.clientOptions,
    env: {
      AZURE_CLIENT_ID: operatorApp.clientId,
      AZURE_TENANT_ID: azure.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: azure.authorityHost,
    },
    defaultIdentityNamespaces: [payments],
    onTokenRequest: (kind) => tokenRequestKinds.push(kind),
  });
});

afterAll(async () => {
  await Promise.all(
    [payments, orders, outsider].filter(Boolean).map((ns) => deleteTestNamespace(kc, ns)),
  );
  await azure?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('per-namespace workload identity', () => {
  it('reads exactly what each namespace identity was granted', async () => {
    const paymentsIdentity = await resolve(payments, { serviceAccountName: 'reader' });
    const ordersIdentity = await resolve(orders, { serviceAccountName: 'reader' });
    const entra = `${azure.tenantId}@${new URL(azure.authorityHost).host}`;
    expect(paymentsIdentity.key).toBe(`sa:${payments}/reader:${paymentsApp.clientId}@${entra}`);
    expect(ordersIdentity.key).toBe(`sa:${orders}/reader:${ordersApp.clientId}@${entra}`);

    expect(await read(paymentsIdentity, 'payments-kv', 'db-password')).toMatch(/^payments-db-/);
    expect(await read(ordersIdentity, 'orders-kv', 'db-password')).toMatch(/^orders-db-/);

    for (const [identity, vault] of [
      [paymentsIdentity, 'orders-kv'],
      [ordersIdentity, 'payments-kv'],
    ] as const) {
      const forbidden = await vaultError(read(identity, vault, 'db-password'));
      expect(forbidden.kind).toBe('Forbidden');
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.message).toContain('Key Vault Secrets User');
    }
  });

  it('sends one TokenRequest and one token exchange per identity over 50 reconciles', async () => {
    const { app } = await federatedIdentity(orders, 'batch', 'batch-kv');
    azure.keyVault.vault('batch-kv').setSecret('api-key', newValue('batch'));
    const before = tokenRequestKinds.length;
    for (let i = 0; i < 50; i++) {
      const identity = await resolve(orders, { serviceAccountName: 'batch' });
      expect(await read(identity, 'batch-kv', 'api-key')).toMatch(/^batch-/);
    }
    expect(tokenRequests.get(`${orders}/batch`)).toBe(1);
    expect(azure.entra.tokenRequests(app.clientId)).toBe(1);
    expect(azure.entra.tokensIssued(app.clientId)).toBe(1);
    expect(tokenRequestKinds.slice(before).sort()).toEqual(['entra', 'serviceaccount']);
  });

  it('names the missing federated credential: issuer and subject to add', async () => {
    const app = azure.entra.registerApp(); // no federated credential
    await createServiceAccount(payments, 'unfederated', app.clientId);
    azure.keyVault.vault('payments-kv').grant(app.clientId, { readOnly: true });
    const identity = await resolve(payments, { serviceAccountName: 'unfederated' });
    const callsBefore = azure.keyVault.counters.calls({ vault: 'payments-kv' });
    const refused = await vaultError(read(identity, 'payments-kv', 'db-password'));
    expect(refused.kind).toBe('Unauthenticated');
    expect(refused.message).toContain('(AADSTS700211)');
    expect(refused.message).toContain(`issuer "${info.issuer}"`);
    expect(refused.message).toContain(
      `subject "${serviceAccountSubject(payments, 'unfederated')}"`,
    );
    // Only the token-less challenge reached the vault.
    expect(azure.keyVault.counters.calls({ vault: 'payments-kv' })).toBe(callsBefore);
  });

  it('reports a deleted ServiceAccount as an identity error', async () => {
    await federatedIdentity(payments, 'short-lived', 'short-lived-kv');
    await resolve(payments, { serviceAccountName: 'short-lived' });
    await core.deleteNamespacedServiceAccount({ namespace: payments, name: 'short-lived' });
    const error = await identityError(resolve(payments, { serviceAccountName: 'short-lived' }));
    expect(error.reason).toBe('IdentityError');
    expect(error.message).toContain(
      `ServiceAccount short-lived not found in namespace ${payments}`,
    );
  });
});

describe('client secret identity', () => {
  async function storeClientSecret(namespace: string, name: string, data: Record<string, string>) {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name }, stringData: data },
    });
  }

  it('reads with a client secret stored in the namespace, and names a wrong one', async () => {
    const clientSecret = newValue('client-secret');
    const app = azure.entra.registerApp({ clientSecret });
    azure.keyVault.vault('orders-kv').grant(app.clientId, { readOnly: true });
    const ids = { tenantId: azure.tenantId, clientId: app.clientId };
    await storeClientSecret(orders, 'azure-creds', { ...ids, clientSecret });
    const identity = await resolve(orders, { clientSecretRef: { name: 'azure-creds' } });
    expect(identity.key).toMatch(new RegExp(`^secret:${orders}/azure-creds:[0-9a-f]{16}$`));
    expect(await read(identity, 'orders-kv', 'db-password')).toMatch(/^orders-db-/);

    await storeClientSecret(orders, 'wrong-creds', { ...ids, clientSecret: newValue('wrong') });
    const wrong = await resolve(orders, { clientSecretRef: { name: 'wrong-creds' } });
    const refused = await vaultError(read(wrong, 'orders-kv', 'db-password'));
    expect(refused.kind).toBe('Unauthenticated');
    expect(refused.message).toContain('AADSTS7000215');
    expect(refused.message).toContain('client secret');
  });

  it('names a missing Secret and a missing key', async () => {
    const missing = await identityError(resolve(orders, { clientSecretRef: { name: 'nothing' } }));
    expect(missing.message).toContain(`Secret nothing not found in namespace ${orders}`);

    await storeClientSecret(orders, 'partial-creds', {
      tenantId: azure.tenantId,
      clientSecret: newValue('p'),
    });
    const partial = await identityError(
      resolve(orders, { clientSecretRef: { name: 'partial-creds' } }),
    );
    expect(partial.message).toContain('has no key "clientId"');
    for (const value of values) expect(partial.message).not.toContain(value);
  });
});

describe("the operator's own identity", () => {
  it('reads for an allowed namespace with the projected workload identity token', async () => {
    const identity = await resolve(payments);
    expect(identity.key).toBe('default');
    expect(await read(identity, 'payments-kv', 'db-password')).toMatch(/^payments-db-/);
  });

  it('is refused to a namespace outside --default-identity-namespaces', async () => {
    const error = await identityError(resolve(outsider));
    expect(error.reason).toBe('IdentityNotAllowed');
    expect(error.message).toContain('--default-identity-namespaces');
  });
});
