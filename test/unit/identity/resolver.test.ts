import {
  ClientAssertionCredential,
  ClientSecretCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { describe, expect, it } from 'vitest';
import type { VaultIdentity } from '../../../src/api/vault-secret.ts';
import {
  createIdentityResolver,
  type IdentityResolverOptions,
} from '../../../src/identity/resolver.ts';
import { IdentityError, type TokenRequestKind } from '../../../src/identity/types.ts';
import { BackedOffCredential } from '../../../src/identity/backed-off-credential.ts';
import { SharedTokenRequests } from '../../../src/identity/shared-token-requests.ts';
import { FakeKubernetes } from './fake-kubernetes.ts';
import { vaultSecret } from './vault-secrets.ts';

const operatorClientId = '11111111-1111-4111-8111-111111111111';
const operatorTenantId = '22222222-2222-4222-8222-222222222222';
const appClientId = '33333333-3333-4333-8333-333333333333';
const appTenantId = '44444444-4444-4444-8444-444444444444';
const otherClientId = '55555555-5555-4555-8555-555555555555';
const workloadIdentityEnv = {
  AZURE_CLIENT_ID: operatorClientId,
  AZURE_TENANT_ID: operatorTenantId,
  AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
  AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
};

function setup(overrides: Partial<IdentityResolverOptions> = {}) {
  const kubernetes = new FakeKubernetes();
  const tokenRequests: TokenRequestKind[] = [];
  const resolver = createIdentityResolver({
    kubernetes,
    azureOptions: { authorityHost: 'https://login.microsoftonline.com' },
    env: workloadIdentityEnv,
    defaultIdentityNamespaces: '*',
    onTokenRequest: (kind) => tokenRequests.push(kind),
    ...overrides,
  });
  const resolve = (namespace: string, identity?: VaultIdentity) =>
    resolver.resolve(vaultSecret(namespace, identity));
  return { kubernetes, resolver, resolve, tokenRequests };
}

async function identityError(promise: Promise<unknown>): Promise<IdentityError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IdentityError);
  return error as IdentityError;
}

describe('default identity', () => {
  it("is the operator's workload identity from the webhook's environment", async () => {
    const { resolve } = setup();
    const identity = await resolve('payments');
    expect(identity.key).toBe('default');
    expect(innerCredential(identity)).toBeInstanceOf(WorkloadIdentityCredential);
    expect(identity.hints).toEqual({ clientId: operatorClientId, tenantId: operatorTenantId });
    expect(await resolve('orders')).toBe(identity);
  });

  it('falls back to a client secret in the environment', async () => {
    const { resolve } = setup({
      env: {
        AZURE_CLIENT_ID: operatorClientId,
        AZURE_TENANT_ID: operatorTenantId,
        AZURE_CLIENT_SECRET: 'operator-client-secret-value',
      },
    });
    const identity = await resolve('payments');
    expect(identity.key).toBe('default');
    expect(innerCredential(identity)).toBeInstanceOf(ClientSecretCredential);
  });

  it('without one configured, says how to give a VaultSecret an identity', async () => {
    const { resolve } = setup({ env: { AZURE_TENANT_ID: operatorTenantId } });
    const error = await identityError(resolve('payments'));
    expect(error.reason).toBe('IdentityError');
    expect(error.message).toBe(
      'kvsync has no identity of its own configured; set spec.vault.identity or install with workload identity',
    );
  });

  it('is refused outside the allowed namespaces, with the two ways to fix it', async () => {
    const { resolve } = setup({ defaultIdentityNamespaces: ['platform', 'monitoring'] });
    expect((await resolve('platform')).key).toBe('default');
    const error = await identityError(resolve('payments'));
    expect(error.reason).toBe('IdentityNotAllowed');
    expect(error.message).toContain('namespace payments may not use');
    expect(error.message).toContain('--default-identity-namespaces');
    expect(error.message).toContain('spec.vault.identity');
  });

  it('is refused everywhere with an empty list, even with no identity configured', async () => {
    const { resolve } = setup({ defaultIdentityNamespaces: [], env: {} });
    expect((await identityError(resolve('payments'))).reason).toBe('IdentityNotAllowed');
  });
});

describe('ServiceAccount identity', () => {
  const annotated = {
    'azure.workload.identity/client-id': appClientId,
    'azure.workload.identity/tenant-id': appTenantId,
  };

  it("uses the ServiceAccount's annotations and is keyed by the whole identity", async () => {
    const { kubernetes, resolve } = setup({ defaultIdentityNamespaces: [] });
    kubernetes.addServiceAccount('payments', 'payments-app', annotated);
    const identity = await resolve('payments', { serviceAccountName: 'payments-app' });
    expect(identity.key).toBe(
      `sa:payments/payments-app:${appClientId}@${appTenantId}@login.microsoftonline.com`,
    );
    expect(innerCredential(identity)).toBeInstanceOf(ClientAssertionCredential);
    expect(identity.hints).toMatchObject({
      clientId: appClientId,
      tenantId: appTenantId,
      subject: 'system:serviceaccount:payments:payments-app',
    });
  });

  it('reuses one credential per identity and never requests a token just to resolve', async () => {
    const { kubernetes, resolve, tokenRequests } = setup();
    kubernetes.addServiceAccount('payments', 'payments-app', annotated);
    const first = await resolve('payments', { serviceAccountName: 'payments-app' });
    for (let i = 0; i < 50; i++) {
      const again = await resolve('payments', { serviceAccountName: 'payments-app' });
      expect(again.credential).toBe(first.credential);
    }
    expect(tokenRequests).toEqual([]);
    expect(kubernetes.tokenRequests).toEqual([]);
  });

  it('keeps identities of different namespaces apart', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', annotated);
    kubernetes.addServiceAccount('orders', 'app', annotated);
    const payments = await resolve('payments', { serviceAccountName: 'app' });
    const orders = await resolve('orders', { serviceAccountName: 'app' });
    expect(payments.key).not.toBe(orders.key);
    expect(payments.credential).not.toBe(orders.credential);
  });

  it('gives another tenant or authority its own key and credential: nothing cached is shared', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', annotated);
    const first = await resolve('payments', { serviceAccountName: 'app' });
    const otherTenant = await resolve('payments', {
      serviceAccountName: 'app',
      tenantId: operatorTenantId,
    });
    expect(otherTenant.key).not.toBe(first.key);
    expect(otherTenant.credential).not.toBe(first.credential);
    expect((await resolve('payments', { serviceAccountName: 'app' })).key).toBe(first.key);

    const sovereign = setup({ azureOptions: { authorityHost: 'https://login.chinacloudapi.cn' } });
    sovereign.kubernetes.addServiceAccount('payments', 'app', annotated);
    const elsewhere = await sovereign.resolve('payments', { serviceAccountName: 'app' });
    expect(elsewhere.key).toBe(
      `sa:payments/app:${appClientId}@${appTenantId}@login.chinacloudapi.cn`,
    );
  });

  it('reads the ServiceAccount in the VaultSecret own namespace only', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', annotated);
    const error = await identityError(resolve('orders', { serviceAccountName: 'app' }));
    expect(error.reason).toBe('IdentityError');
    expect(error.message).toContain('ServiceAccount app not found in namespace orders');
  });

  it('lets the spec override the annotations', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', annotated);
    const identity = await resolve('payments', {
      serviceAccountName: 'app',
      clientId: otherClientId,
    });
    expect(identity.key).toBe(
      `sa:payments/app:${otherClientId}@${appTenantId}@login.microsoftonline.com`,
    );
    expect(identity.hints?.tenantId).toBe(appTenantId);
  });

  it('names the missing client-id annotation', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', {});
    const error = await identityError(resolve('payments', { serviceAccountName: 'app' }));
    expect(error.message).toContain('has no annotation azure.workload.identity/client-id');
    expect(error.message).toContain('spec.vault.identity.clientId');
  });

  it("falls back to the operator's tenant, and names the tenant annotation when there is none", async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', {
      'azure.workload.identity/client-id': appClientId,
    });
    const identity = await resolve('payments', { serviceAccountName: 'app' });
    expect(identity.hints?.tenantId).toBe(operatorTenantId);

    const bare = setup({ env: {} });
    bare.kubernetes.addServiceAccount('payments', 'app', {
      'azure.workload.identity/client-id': appClientId,
    });
    const error = await identityError(bare.resolve('payments', { serviceAccountName: 'app' }));
    expect(error.message).toContain('has no annotation azure.workload.identity/tenant-id');
  });

  it('refuses an annotation that is not a client id', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', {
      'azure.workload.identity/client-id': 'payments-app',
    });
    const error = await identityError(resolve('payments', { serviceAccountName: 'app' }));
    expect(error.message).toContain('azure.workload.identity/client-id annotation');
    expect(error.message).toContain('is not a client id');
  });

  it('reports a deleted ServiceAccount even after it worked', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.addServiceAccount('payments', 'app', annotated);
    await resolve('payments', { serviceAccountName: 'app' });
    kubernetes.serviceAccounts.delete('payments/app');
    const error = await identityError(resolve('payments', { serviceAccountName: 'app' }));
    expect(error.message).toContain('ServiceAccount app not found in namespace payments');
  });

  it('keeps a bounded number of credentials', async () => {
    const { kubernetes, resolve } = setup({ maxIdentities: 2 });
    for (const ns of ['a', 'b', 'c']) kubernetes.addServiceAccount(ns, 'app', annotated);
    const a = await resolve('a', { serviceAccountName: 'app' });
    await resolve('b', { serviceAccountName: 'app' });
    await resolve('c', { serviceAccountName: 'app' });
    const again = await resolve('a', { serviceAccountName: 'app' });
    expect(again.key).toBe(a.key);
    expect(again.credential).not.toBe(a.credential);
  });
});

describe('client secret identity', () => {
  const clientSecret = 'Zq8~not-a-real-client-secret-value';
  const content = { tenantId: appTenantId, clientId: appClientId, clientSecret };

  it('is keyed by a hash of the content, never the content', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.secrets.set('payments/azure-creds', { ...content });
    const identity = await resolve('payments', { clientSecretRef: { name: 'azure-creds' } });
    expect(identity.key).toMatch(/^secret:payments\/azure-creds:[0-9a-f]{16}$/);
    expect(identity.key).not.toContain(clientSecret);
    expect(JSON.stringify(identity.hints)).not.toContain(clientSecret);
    expect(innerCredential(identity)).toBeInstanceOf(ClientSecretCredential);
    const again = await resolve('payments', { clientSecretRef: { name: 'azure-creds' } });
    expect(again.key).toBe(identity.key);
    expect(again.credential).toBe(identity.credential);
  });

  it('takes a rotated client secret into use', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.secrets.set('payments/azure-creds', { ...content });
    const before = await resolve('payments', { clientSecretRef: { name: 'azure-creds' } });
    kubernetes.secrets.set('payments/azure-creds', { ...content, clientSecret: 'rotated-value' });
    const after = await resolve('payments', { clientSecretRef: { name: 'azure-creds' } });
    expect(after.key).not.toBe(before.key);
    expect(after.credential).not.toBe(before.credential);
  });

  it('names a missing Secret', async () => {
    const { resolve } = setup();
    const error = await identityError(
      resolve('payments', { clientSecretRef: { name: 'azure-creds' } }),
    );
    expect(error.reason).toBe('IdentityError');
    expect(error.message).toContain('Secret azure-creds not found in namespace payments');
  });

  it('names every missing key and never a value', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.secrets.set('payments/azure-creds', { clientSecret, tenantId: '' });
    const error = await identityError(
      resolve('payments', { clientSecretRef: { name: 'azure-creds' } }),
    );
    expect(error.message).toContain('has no keys "tenantId", "clientId"');
    expect(error.message).not.toContain(clientSecret);

    kubernetes.secrets.set('payments/azure-creds', {
      tenantId: appTenantId,
      clientId: appClientId,
    });
    const onlySecret = await identityError(
      resolve('payments', { clientSecretRef: { name: 'azure-creds' } }),
    );
    expect(onlySecret.message).toContain('has no key "clientSecret"');
  });

  it('takes the ids from the spec when the Secret holds only the client secret', async () => {
    const { kubernetes, resolve } = setup();
    kubernetes.secrets.set('payments/azure-creds', { clientSecret });
    const identity = await resolve('payments', {
      clientSecretRef: { name: 'azure-creds' },
      clientId: appClientId,
      tenantId: appTenantId,
    });
    expect(identity.hints).toEqual({ clientId: appClientId, tenantId: appTenantId });
  });
});

/** The Azure credential behind the wrappers that pause refused identities and share
 * concurrent token requests. */
function innerCredential(identity: { credential: unknown }): unknown {
  expect(identity.credential).toBeInstanceOf(BackedOffCredential);
  const shared = (identity.credential as BackedOffCredential).inner;
  expect(shared).toBeInstanceOf(SharedTokenRequests);
  return (shared as SharedTokenRequests).inner;
}

describe('cluster scope (a VaultSecret a ClusterVaultSecret really keeps)', () => {
  const clientSecret = 'Zq8~cluster-client-secret-value';
  const content = { tenantId: appTenantId, clientId: appClientId, clientSecret };

  it("may use the operator's identity where --default-identity-namespaces does not allow it", async () => {
    const { resolver } = setup({ defaultIdentityNamespaces: ['kvsync-system'] });
    const copy = vaultSecret('payments');
    const refused = await identityError(resolver.resolve(copy));
    expect(refused.reason).toBe('IdentityNotAllowed');
    const identity = await resolver.resolve(copy, 'cluster');
    expect(identity.key).toBe('default');
  });

  it("reads clientSecretRef from kvsync's namespace, not the target namespace", async () => {
    const { kubernetes, resolver } = setup({ operatorNamespace: 'kvsync-system' });
    kubernetes.secrets.set('kvsync-system/platform-creds', { ...content });
    kubernetes.secrets.set('payments/platform-creds', {
      ...content,
      clientId: otherClientId,
    });
    const copy = vaultSecret('payments', { clientSecretRef: { name: 'platform-creds' } });
    const identity = await resolver.resolve(copy, 'cluster');
    expect(identity.key).toMatch(/^secret:kvsync-system\/platform-creds:/);
    expect(identity.hints?.clientId).toBe(appClientId);
    const tenants = await resolver.resolve(copy);
    expect(tenants.key).toMatch(/^secret:payments\/platform-creds:/);
  });

  it('never uses a ServiceAccount of the target namespace', async () => {
    const { resolver } = setup();
    const copy = vaultSecret('payments', { serviceAccountName: 'app' });
    const error = await identityError(resolver.resolve(copy, 'cluster'));
    expect(error.reason).toBe('IdentityNotAllowed');
  });

  it("names the missing POD_NAMESPACE when kvsync's namespace is unknown", async () => {
    const { resolver } = setup();
    const copy = vaultSecret('payments', { clientSecretRef: { name: 'platform-creds' } });
    const error = await identityError(resolver.resolve(copy, 'cluster'));
    expect(error.message).toContain('POD_NAMESPACE');
  });
});
