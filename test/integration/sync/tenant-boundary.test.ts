// The tenant boundary, through kvsync's manager and the real API server: a VaultSecret reaches
// only what its namespace already owns. Merge needs the target Secret's consent, names from specs
// and vault content are data, a corrected tenant is a new identity with nothing cached, and the
// vault hosts tenants choose do not grow the metrics without bound.
import { randomUUID } from 'node:crypto';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIdentityResolver } from '../../../src/identity/resolver.ts';
import { kubeIdentityPort } from '../../../src/identity/kubernetes-port.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { collectionPath, kubeJson } from '../../../src/runtime/kube-http.ts';
import { serviceAccountSubject, type FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import { chartIdentity, type ChartIdentity } from '../packaging/chart.ts';
import {
  applyVaultSecret,
  decoded,
  metricValue,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const password = 'tenant-boundary-password-3b9d';
const prefix = 'tenant';
const metrics = createMetrics({ defaultMetrics: false, maxVaultLabels: 1 });

describe('the tenant boundary', () => {
  const info = inject('controlPlane');
  let env: SyncEnvironment;
  let vault: FakeVault;
  let vaultUrl: string;
  let core: CoreV1Api;
  let chart: ChartIdentity;

  /** The Secret as the API server stores it (client-node's typed reads drop a "__proto__" key). */
  const rawSecret = (name: string) =>
    kubeJson<V1Secret>(
      env.kc,
      `${collectionPath({ apiVersion: 'v1', plural: 'secrets' }, env.namespace)}/${name}`,
    );
  const createSecret = (body: V1Secret) =>
    core.createNamespacedSecret({ namespace: env.namespace, body });

  beforeAll(async () => {
    // kvsync runs as the chart installs it: its RBAC, fenced by its admission policies.
    chart = await chartIdentity(info, 'tenant-op');
    env = await startSyncEnvironment(info, {
      prefix,
      // kvsync's real resolver: the operator's identity from its environment, ServiceAccounts by
      // TokenRequest and exchange with Entra ID.
      identities: (azure, clientId) =>
        createIdentityResolver({
          kubernetes: kubeIdentityPort(chart.kc),
          azureOptions: azure.clientOptions,
          env: {
            AZURE_CLIENT_ID: clientId,
            AZURE_CLIENT_SECRET: `test-client-secret-${prefix}`,
            AZURE_TENANT_ID: azure.tenantId,
            AZURE_AUTHORITY_HOST: azure.authorityHost,
          },
          defaultIdentityNamespaces: '*',
        }),
      manager: { metrics, kubeConfig: chart.kc },
    });
    core = env.kc.makeApiClient(CoreV1Api);
    vault = env.azure.keyVault.createVault('tenant-kv');
    vault.grant(env.clientId);
    vaultUrl = env.azure.vaultUrl('tenant-kv');
    vault.setSecret('db-password', password);
  });

  afterAll(async () => {
    await env?.close();
    await chart?.remove();
  });

  describe('creationPolicy Merge', () => {
    const merge = (name: string, target: string, key = 'token', refreshInterval?: string) =>
      applyVaultSecret(env.kc, env.namespace, name, {
        vault: { url: vaultUrl },
        target: { name: target, creationPolicy: 'Merge' },
        data: [{ key, secret: { name: 'db-password' } }],
        ...(refreshInterval ? { refreshInterval } : {}),
      });
    /** The Ready message once the VaultSecret reports SecretConflict. */
    const conflict = async (name: string) => {
      const vs = await waitForReady(env.kc, env.namespace, name, {
        status: 'False',
        reason: 'SecretConflict',
      });
      return vs.status?.conditions?.[0]?.message;
    };

    it('needs the Secret to consent with kvsync.io/merge-from, and says so', async () => {
      await createSecret({ metadata: { name: 'theirs' }, stringData: { token: 'theirs' } });
      await merge('merger', 'theirs');
      expect(await conflict('merger')).toContain('annotate it with kvsync.io/merge-from: merger');
      expect(decoded(await rawSecret('theirs'))).toEqual({ token: 'theirs' });

      // The Secret's owner consents: kvsync merges its key.
      await core.patchNamespacedSecret(
        {
          namespace: env.namespace,
          name: 'theirs',
          body: { metadata: { annotations: { 'kvsync.io/merge-from': '*' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      // kvsync looks again within a minute; a spec change makes it look now.
      await merge('merger', 'theirs', 'token', '30m');
      await waitFor(async () => decoded(await rawSecret('theirs')).token === password, {
        description: 'the consenting Secret to hold the merged key',
      });
      await waitForReady(env.kc, env.namespace, 'merger', { status: 'True' });
    });

    it("leaves another team's TLS Secret alone", async () => {
      await createSecret({
        metadata: { name: 'web-tls', annotations: { 'kvsync.io/merge-from': 'someone-else' } },
        type: 'kubernetes.io/tls',
        stringData: { 'tls.crt': 'their-cert', 'tls.key': 'their-key' },
      });
      await merge('tls-merger', 'web-tls', 'tls.key');
      expect(await conflict('tls-merger')).toContain('consents to a Merge from');
      expect(decoded(await rawSecret('web-tls'))['tls.key']).toBe('their-key');
    });

    it('never writes a service-account-token Secret, even one annotated "*"', async () => {
      await createSecret({
        metadata: {
          name: 'sa-token',
          annotations: {
            'kubernetes.io/service-account.name': 'default',
            'kvsync.io/merge-from': '*',
          },
        },
        type: 'kubernetes.io/service-account-token',
        stringData: { token: 'real-token' },
      });
      await merge('token-merger', 'sa-token');
      expect(await conflict('token-merger')).toContain(
        'is of type kubernetes.io/service-account-token',
      );
      expect(decoded(await rawSecret('sa-token')).token).toBe('real-token');
    });
  });

  describe('names are data', () => {
    it('a JSON field "__proto__" expanded by dataFrom becomes a key like any other', async () => {
      vault.setSecret('proto-json', '{"__proto__":"a","ok":"b"}');
      await applyVaultSecret(env.kc, env.namespace, 'proto', {
        vault: { url: vaultUrl },
        dataFrom: [{ secret: { name: 'proto-json' } }],
      });
      const vs = await waitForReady(env.kc, env.namespace, 'proto', { status: 'True' });
      expect(vs.status?.conditions?.[0]?.message).toMatch(/^2 keys/);
      const secret = await rawSecret('proto');
      expect(Object.keys(secret.data ?? {}).sort()).toEqual(['__proto__', 'ok']);
      expect(decoded(secret)).toMatchObject({ ok: 'b' });
    });

    it('{{ .password | toString }} is a TemplateError in the status', async () => {
      await applyVaultSecret(env.kc, env.namespace, 'to-string', {
        vault: { url: vaultUrl },
        data: [{ key: 'password', secret: { name: 'db-password' } }],
        target: { template: { data: { out: '{{ .password | toString }}' } } },
      });
      const vs = await waitForReady(env.kc, env.namespace, 'to-string', {
        status: 'False',
        reason: 'TemplateError',
      });
      expect(vs.status?.conditions?.[0]?.message).toContain('unknown function toString');
    });

    it('target.type constructor is a Secret of type constructor', async () => {
      await applyVaultSecret(env.kc, env.namespace, 'ctor', {
        vault: { url: vaultUrl },
        target: { type: 'constructor' },
        data: [{ key: 'password', secret: { name: 'db-password' } }],
      });
      await waitForReady(env.kc, env.namespace, 'ctor', { status: 'True' });
      expect((await rawSecret('ctor')).type).toBe('constructor');
    });
  });

  it('a corrected tenant is a new identity: it takes effect at once and never reads the old cache', async () => {
    const app = env.azure.entra.registerApp({
      federatedCredentials: [
        { issuer: info.issuer, subject: serviceAccountSubject(env.namespace, 'app') },
      ],
    });
    await core.createNamespacedServiceAccount({
      namespace: env.namespace,
      body: {
        metadata: {
          name: 'app',
          annotations: { 'azure.workload.identity/client-id': app.clientId },
        },
      },
    });
    vault.grant(app.clientId);
    // The vault lives in the default tenant; another tenant is the kind of typo users correct.
    const wrongTenant = randomUUID();
    const spec = (tenantId: string) => ({
      vault: { url: vaultUrl, identity: { serviceAccountName: 'app', tenantId } },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });

    await applyVaultSecret(env.kc, env.namespace, 'per-tenant', spec(wrongTenant));
    const wrong = await waitForReady(env.kc, env.namespace, 'per-tenant', {
      status: 'False',
      reason: 'Unauthenticated',
    });
    expect(wrong.status?.conditions?.[0]?.message).toContain(
      `the vault's authentication challenge names tenant ${env.azure.tenantId}, but the identity (client id ${app.clientId}) is in tenant ${wrongTenant}`,
    );

    // Corrected: a new credential and reader for the right tenant, without a restart.
    const exchanges = env.azure.entra.tokensIssued(app.clientId);
    await applyVaultSecret(env.kc, env.namespace, 'per-tenant', spec(env.azure.tenantId));
    await waitForReady(env.kc, env.namespace, 'per-tenant', { status: 'True' });
    expect(decoded(await rawSecret('per-tenant'))).toEqual({ password });
    expect(env.azure.entra.tokensIssued(app.clientId)).toBeGreaterThan(exchanges);

    // Back to the other tenant: refused, not served from the right tenant's cached values, and
    // the Secret keeps what it had.
    await applyVaultSecret(env.kc, env.namespace, 'per-tenant', spec(wrongTenant));
    await waitForReady(env.kc, env.namespace, 'per-tenant', {
      status: 'False',
      reason: 'Unauthenticated',
    });
    expect(decoded(await rawSecret('per-tenant'))).toEqual({ password });
  });

  it('counts vault hosts past --max-vault-metric-labels as "other"', async () => {
    const second = env.azure.keyVault.createVault('tenant-kv-2');
    second.grant(env.clientId);
    second.setSecret('db-password', password);
    await applyVaultSecret(env.kc, env.namespace, 'second-vault', {
      vault: { url: env.azure.vaultUrl('tenant-kv-2') },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(env.kc, env.namespace, 'second-vault', { status: 'True' });
    const requests = (vault: string) =>
      metricValue(metrics, 'kvsync_vault_requests_total', { vault });
    expect(await requests(new URL(vaultUrl).host)).toBeGreaterThan(0);
    expect(await requests(new URL(env.azure.vaultUrl('tenant-kv-2')).host)).toBe(0);
    expect(await requests('other')).toBeGreaterThan(0);
  });
});
