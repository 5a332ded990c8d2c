// kvsync run with exactly the Helm chart's permissions (a token of the chart's ServiceAccount,
// bound by the chart's ClusterRole and Role, fenced by its admission policies) through full syncs:
// a secret, a certificate, a per-namespace workload identity (TokenRequest), events, and a
// ClusterVaultSecret kept in a namespace. Proves the chart grants enough; chart.test.ts,
// rbac.test.ts and admission-policies.test.ts prove it grants no more.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIdentityResolver } from '../../../src/identity/resolver.ts';
import { kubeIdentityPort } from '../../../src/identity/kubernetes-port.ts';
import { serviceAccountSubject, type FakeVault } from '../../support/azure/index.ts';
import { makeChain, tlsHandshake, toPemBundle } from '../../support/certs.ts';
import {
  applyClusterVaultSecret,
  deleteClusterVaultSecret,
  waitForClusterStatus,
} from '../../support/cluster-vault-secrets.ts';
import { kubeConfigFrom } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  eventsFor,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';
import { chartIdentity, type ChartIdentity } from './chart.ts';

const password = 'rbac-sync-password-6e1f';

describe("kvsync with the chart's permissions", () => {
  const info = inject('controlPlane');
  const admin = kubeConfigFrom(info);
  let chart: ChartIdentity;
  let env: SyncEnvironment;
  let vault: FakeVault;

  beforeAll(async () => {
    // kvsync runs fenced by the chart's admission policies, as installed by default.
    chart = await chartIdentity(info, 'rbac-op');
    env = await startSyncEnvironment(info, {
      prefix: 'rbac-sync',
      identities: (azure) =>
        createIdentityResolver({
          kubernetes: kubeIdentityPort(chart.kc),
          azureOptions: azure.clientOptions,
          env: { AZURE_TENANT_ID: azure.tenantId, AZURE_AUTHORITY_HOST: azure.authorityHost },
          defaultIdentityNamespaces: [],
          // Refused identities stay paused for the whole test unless their ServiceAccount or
          // client-secret Secret changes.
          backoff: { initialMs: 3_600_000 },
          operatorNamespace: chart.namespace,
        }),
      manager: { kubeConfig: chart.kc, clusterVaultSecrets: true },
    });
    const app = env.azure.entra.registerApp({
      federatedCredentials: [
        { issuer: info.issuer, subject: serviceAccountSubject(env.namespace, 'app') },
      ],
    });
    await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({
      namespace: env.namespace,
      body: {
        metadata: {
          name: 'app',
          annotations: { 'azure.workload.identity/client-id': app.clientId },
        },
      },
    });
    vault = env.azure.keyVault.createVault('rbac-sync');
    vault.grant(app.clientId);
    vault.setSecret('db-password', password);
  });

  afterAll(async () => {
    if (env) await deleteClusterVaultSecret(admin, `rbac-${env.namespace}`);
    await env?.close();
    await chart?.remove();
  });

  it('syncs a secret and a certificate with a per-namespace identity, and records events', async () => {
    const chain = await makeChain({ keyType: 'rsa-2048', length: 3 });
    await vault.importCertificate('web-tls', { pem: toPemBundle(chain, { order: 'reverse' }) });
    await applyVaultSecret(env.kc, env.namespace, 'app', {
      vault: { url: env.azure.vaultUrl('rbac-sync'), identity: { serviceAccountName: 'app' } },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await applyVaultSecret(env.kc, env.namespace, 'web', {
      vault: { url: env.azure.vaultUrl('rbac-sync'), identity: { serviceAccountName: 'app' } },
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name: 'web-tls' } }],
    });
    await waitForReady(env.kc, env.namespace, 'app', { status: 'True' });
    await waitForReady(env.kc, env.namespace, 'web', { status: 'True' });
    expect(decoded(await readSecret(env.kc, env.namespace, 'app'))).toEqual({ password });
    const tls = decoded(await readSecret(env.kc, env.namespace, 'web'));
    expect(
      await tlsHandshake({ key: tls['tls.key']!, cert: tls['tls.crt']! }, chain.root.pem),
    ).toMatchObject({ authorized: true });
    expect((await eventsFor(env.kc, env.namespace, 'app')).map((e) => e.reason)).toContain(
      'Synced',
    );
    expect(env.logs.text).not.toMatch(/forbidden/i);
    expect(env.logs.text).not.toContain(password);
  });

  it('watches ServiceAccounts: a refused identity resumes as soon as its ServiceAccount changes', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const app = env.azure.entra.registerApp(); // no federated credential yet
    vault.grant(app.clientId);
    await core.createNamespacedServiceAccount({
      namespace: env.namespace,
      body: {
        metadata: {
          name: 'late',
          annotations: { 'azure.workload.identity/client-id': app.clientId },
        },
      },
    });
    await applyVaultSecret(env.kc, env.namespace, 'late', {
      vault: { url: env.azure.vaultUrl('rbac-sync'), identity: { serviceAccountName: 'late' } },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(env.kc, env.namespace, 'late', {
      status: 'False',
      reason: 'Unauthenticated',
    });
    env.azure.entra.addFederatedCredential(app.clientId, {
      issuer: info.issuer,
      subject: serviceAccountSubject(env.namespace, 'late'),
    });
    await core.patchNamespacedServiceAccount(
      {
        namespace: env.namespace,
        name: 'late',
        body: { metadata: { annotations: { 'kvsync.io/retry': 'now' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitForReady(env.kc, env.namespace, 'late', { status: 'True' });
    expect(env.logs.text).not.toMatch(/forbidden/i);
  });

  it("keeps a ClusterVaultSecret's VaultSecret with a clientSecretRef in kvsync's namespace, watching it once refused", async () => {
    // The platform team's credential, in kvsync's own namespace only; stored wrong at first.
    const clientSecret = 'rbac-sync-platform-client-secret';
    const platform = env.azure.entra.registerApp({ clientSecret });
    vault.grant(platform.clientId);
    const core = admin.makeApiClient(CoreV1Api);
    const creds = (secret: string) => ({
      metadata: { name: 'platform-creds' },
      stringData: {
        tenantId: env.azure.tenantId,
        clientId: platform.clientId,
        clientSecret: secret,
      },
    });
    await core.createNamespacedSecret({
      namespace: chart.namespace,
      body: creds('rbac-sync-platform-wrong-secret'),
    });
    const name = `rbac-${env.namespace}`;
    await applyClusterVaultSecret(admin, name, {
      namespaces: [env.namespace],
      template: {
        vault: {
          url: env.azure.vaultUrl('rbac-sync'),
          identity: { clientSecretRef: { name: 'platform-creds' } },
        },
        data: [{ key: 'password', secret: { name: 'db-password' } }],
      },
    });
    await waitForReady(env.kc, env.namespace, name, { status: 'False', reason: 'Unauthenticated' });
    // Paused for an hour: only the watch on platform-creds can end it now.
    await core.replaceNamespacedSecret({
      namespace: chart.namespace,
      name: 'platform-creds',
      body: creds(clientSecret),
    });
    await waitForClusterStatus(
      admin,
      name,
      { selected: 1, synced: 1, failed: 0, ready: 'True' },
      30_000,
    );
    expect(decoded(await readSecret(env.kc, env.namespace, name))).toEqual({ password });
    expect(env.logs.text).not.toMatch(/forbidden/i);
    expect(env.logs.text).not.toContain(clientSecret);
  });
});
