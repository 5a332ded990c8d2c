// ClusterVaultSecret through the real API server (with garbage collection) and the Key Vault
// double: one definition kept as a VaultSecret in every selected namespace, as namespaces come,
// go and change labels; conflicts left alone; and the identity trust a tenant cannot forge.
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ClusterVaultSecret,
  ClusterVaultSecretSpec,
} from '../../../src/api/cluster-vault-secret.ts';
import { apiVersion, kind } from '../../../src/api/vault-secret.ts';
import { kubeIdentityPort } from '../../../src/identity/kubernetes-port.ts';
import { createIdentityResolver } from '../../../src/identity/resolver.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import {
  applyClusterVaultSecret,
  deleteClusterVaultSecret,
  getClusterVaultSecret,
  labelNamespace,
  tenantKubeConfig,
  waitForClusterStatus,
} from '../../support/cluster-vault-secrets.ts';
import { serverSideApply } from '../../support/crds.ts';
import { deleteTestNamespace, kubeConfigFrom, waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  deleteVaultSecret,
  getVaultSecret,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const values = {
  telemetry: 'cvs-telemetry-key-5b1e',
  region: 'cvs-region-value-77aa',
  platform: 'cvs-platform-only-value-e3c4',
};

describe('ClusterVaultSecret', () => {
  const info = inject('controlPlane');
  const admin = kubeConfigFrom(info);
  const run = randomBytes(4).toString('hex');
  const selectorLabel = 'kvsync.io/test-cvs';
  const name = `telemetry-${run}`;
  const names = {
    operator: `cvs-op-${run}`,
    a: `cvs-a-${run}`,
    b: `cvs-b-${run}`,
    conflict: `cvs-conflict-${run}`,
    late: `cvs-late-${run}`,
    tenant: `cvs-tenant-${run}`,
  };
  let env: SyncEnvironment;
  let vault: FakeVault;
  let template: ClusterVaultSecretSpec['template'];
  const calls = (operation: 'getSecret' | 'listSecrets') =>
    env.azure.keyVault.counters.calls({ vault: `cvs-${run}`, operation });

  async function createNamespace(ns: string, labels: Record<string, string> = {}): Promise<void> {
    await admin.makeApiClient(CoreV1Api).createNamespace({
      body: { metadata: { name: ns, labels: { 'kvsync.io/test': 'true', ...labels } } },
    });
  }
  const selected = { [selectorLabel]: run };

  beforeAll(async () => {
    for (const ns of [names.operator, names.tenant]) await createNamespace(ns);
    for (const ns of [names.a, names.b, names.conflict]) await createNamespace(ns, selected);
    env = await startSyncEnvironment(info, {
      prefix: 'cvs',
      // kvsync's own identity is allowed nowhere: only a ClusterVaultSecret's trust lets it in.
      identities: (azure, clientId, clientSecret) =>
        createIdentityResolver({
          kubernetes: kubeIdentityPort(admin),
          azureOptions: azure.clientOptions,
          env: {
            AZURE_CLIENT_ID: clientId,
            AZURE_CLIENT_SECRET: clientSecret,
            AZURE_TENANT_ID: azure.tenantId,
            AZURE_AUTHORITY_HOST: azure.authorityHost,
          },
          defaultIdentityNamespaces: [],
          operatorNamespace: names.operator,
        }),
      manager: {
        namespaces: [names.a, names.b, names.conflict, names.late, names.tenant],
        clusterVaultSecrets: true,
      },
    });
    vault = env.azure.keyVault.createVault(`cvs-${run}`);
    vault.grant(env.clientId);
    vault.setSecret('telemetry-key', values.telemetry);
    vault.setSecret('region', values.region);
    vault.setSecret('platform-only', values.platform);
    template = {
      vault: { url: env.azure.vaultUrl(`cvs-${run}`) },
      data: [{ key: 'token', secret: { name: 'telemetry-key' } }],
    };
  });

  afterAll(async () => {
    await deleteClusterVaultSecret(admin, name);
    await env?.close();
    for (const ns of Object.values(names)) await deleteTestNamespace(admin, ns);
  });

  it('keeps a VaultSecret in every namespace its selector matches, and leaves a foreign one alone', async () => {
    await applyVaultSecret(admin, names.conflict, name, {
      ...template,
      data: [{ key: 'mine', secret: { name: 'region' } }],
    });
    await applyClusterVaultSecret(admin, name, {
      namespaceSelector: { matchLabels: selected },
      template,
    });

    const cluster = await waitForClusterStatus(admin, name, {
      selected: 3,
      synced: 2,
      failed: 1,
      ready: 'False',
    });
    for (const ns of [names.a, names.b]) {
      expect(decoded(await readSecret(admin, ns, name))).toEqual({ token: values.telemetry });
      const copy = await getVaultSecret(admin, ns, name);
      expect(copy.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'ClusterVaultSecret',
          name,
          uid: cluster.metadata.uid,
          controller: true,
        }),
      ]);
    }
    expect(cluster.status?.failures).toEqual([
      expect.objectContaining({ namespace: names.conflict, reason: 'VaultSecretConflict' }),
    ]);
    const stalled = cluster.status?.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'VaultSecretConflict' });
    // The foreign VaultSecret is untouched: its own spec, no owner, its own Secret.
    const foreign = await getVaultSecret(admin, names.conflict, name);
    expect(foreign.metadata.ownerReferences).toBeUndefined();
    expect(foreign.spec.data).toEqual([{ key: 'mine', secret: { name: 'region' } }]);
    // kvsync's own identity is not allowed in that namespace: the foreign one is refused.
    await waitForReady(admin, names.conflict, name, {
      status: 'False',
      reason: 'IdentityNotAllowed',
    });
    expect(await readSecret(admin, names.conflict, name)).toBeUndefined();

    // Once the foreign VaultSecret is gone, the namespace gets the shared one.
    await deleteVaultSecret(admin, names.conflict, name);
    const synced = await waitForClusterStatus(admin, name, {
      selected: 3,
      synced: 3,
      failed: 0,
      ready: 'True',
    });
    expect(conditionStatuses(synced)).toEqual({
      Ready: 'True',
      Reconciling: 'False',
      Stalled: 'False',
    });
    expect(decoded(await readSecret(admin, names.conflict, name))).toEqual({
      token: values.telemetry,
    });
  });

  it('reads each object from Key Vault once, however many namespaces share it', () => {
    expect(calls('getSecret')).toBe(1);
  });

  it('a namespace created later gets the Secret', async () => {
    await createNamespace(names.late, selected);
    await waitFor(async () => decoded(await readSecret(admin, names.late, name)).token, {
      description: `the Secret in ${names.late}`,
    });
    await waitForClusterStatus(admin, name, { selected: 4, synced: 4, failed: 0, ready: 'True' });
  });

  it('a namespace relabelled away loses its VaultSecret and, under Owner, its Secret', async () => {
    await labelNamespace(admin, names.b, { [selectorLabel]: null });
    await waitFor(async () => (await readVaultSecret(admin, names.b, name)) === undefined, {
      description: `the VaultSecret in ${names.b} to be deleted`,
    });
    // Owner (the default): the garbage collector removes the Secret with its VaultSecret.
    await waitFor(async () => (await readSecret(admin, names.b, name)) === undefined, {
      description: `the Secret in ${names.b} to be garbage collected`,
    });
    await waitForClusterStatus(admin, name, { selected: 3, synced: 3, failed: 0, ready: 'True' });
  });

  it('a namespace dropped from spec.namespaces keeps its Secret under Orphan', async () => {
    const orphan = `orphan-${run}`;
    const spec = (namespace: string): ClusterVaultSecretSpec => ({
      namespaces: [namespace],
      template: { ...template, target: { creationPolicy: 'Orphan' } },
    });
    await applyClusterVaultSecret(admin, orphan, spec(names.b));
    await waitForClusterStatus(admin, orphan, { selected: 1, synced: 1, failed: 0, ready: 'True' });
    await applyClusterVaultSecret(admin, orphan, spec(names.tenant));
    await waitFor(async () => (await readVaultSecret(admin, names.b, orphan)) === undefined, {
      description: `the VaultSecret in ${names.b} to be deleted`,
    });
    await waitForClusterStatus(admin, orphan, { selected: 1, synced: 1, failed: 0, ready: 'True' });
    expect(decoded(await readSecret(admin, names.b, orphan))).toEqual({ token: values.telemetry });
    await deleteClusterVaultSecret(admin, orphan);
  });

  it("rolls a template change out to every namespace, with a clientSecretRef read from kvsync's namespace", async () => {
    // A second application, granted on the vault, whose credentials only the platform team holds.
    const platformSecret = `platform-client-secret-${run}`;
    const platformApp = env.azure.entra.registerApp({ clientSecret: platformSecret });
    vault.grant(platformApp.clientId);
    const core = admin.makeApiClient(CoreV1Api);
    const credentials = (clientSecret: string) => ({
      tenantId: env.azure.tenantId,
      clientId: platformApp.clientId,
      clientSecret,
    });
    await core.createNamespacedSecret({
      namespace: names.operator,
      body: { metadata: { name: 'platform-creds' }, stringData: credentials(platformSecret) },
    });
    // A decoy in a target namespace: read from there, every sync would fail.
    await core.createNamespacedSecret({
      namespace: names.a,
      body: { metadata: { name: 'platform-creds' }, stringData: credentials('wrong-secret') },
    });
    await applyClusterVaultSecret(admin, name, {
      namespaceSelector: { matchLabels: selected },
      template: {
        ...template,
        vault: { ...template.vault, identity: { clientSecretRef: { name: 'platform-creds' } } },
        data: [...(template.data ?? []), { key: 'region', secret: { name: 'region' } }],
      },
    });
    await waitForClusterStatus(admin, name, { selected: 3, synced: 3, failed: 0, ready: 'True' });
    for (const ns of [names.a, names.conflict, names.late]) {
      expect(decoded(await readSecret(admin, ns, name))).toEqual({
        token: values.telemetry,
        region: values.region,
      });
    }
  });

  it('a tenant cannot borrow the trust by forging an ownerReference on their own VaultSecret', async () => {
    const tenant = await tenantKubeConfig(admin, info, names.tenant, [names.tenant, names.a]);
    const owner = await getClusterVaultSecret(admin, name);
    const ownerReferences = [
      {
        apiVersion,
        kind: 'ClusterVaultSecret',
        name,
        uid: owner.metadata.uid!,
        controller: true,
      },
    ];
    const forged = { ...template, data: [{ key: 'stolen', secret: { name: 'platform-only' } }] };
    // In a namespace the ClusterVaultSecret does not select, and in one it does, under another
    // name: kvsync's identity is refused in both and no Secret is written.
    for (const ns of [names.tenant, names.a]) {
      await serverSideApply(tenant, {
        apiVersion,
        kind,
        metadata: { name: 'stolen', namespace: ns, ownerReferences },
        spec: forged,
      });
    }
    for (const ns of [names.tenant, names.a]) {
      const refused = await waitForReady(admin, ns, 'stolen', {
        status: 'False',
        reason: 'IdentityNotAllowed',
      });
      expect(refused.status?.conditions?.[0]?.message).toContain('may not use');
      expect(await readSecret(admin, ns, 'stolen')).toBeUndefined();
    }
    expect(JSON.stringify(env.logs.lines)).not.toContain(values.platform);
  });

  it('is Stalled when a kept VaultSecret is Stalled, Reconciling while one is retried, naming the namespace', async () => {
    /** A ClusterVaultSecret for the tenant namespace only, once its one VaultSecret has failed. */
    const failing = async (cluster: string, failed: ClusterVaultSecretSpec['template']) => {
      await applyClusterVaultSecret(admin, cluster, {
        namespaces: [names.tenant],
        template: failed,
      });
      const counts = { selected: 1, synced: 0, failed: 1, ready: 'False' };
      return waitForClusterStatus(admin, cluster, counts);
    };
    // An object missing from the vault needs a human: the kept VaultSecret is Stalled.
    const missing = `missing-${run}`;
    const stalled = await failing(missing, {
      ...template,
      data: [{ key: 'gone', secret: { name: 'no-such-secret' } }],
    });
    expect(conditionStatuses(stalled)).toEqual({
      Ready: 'False',
      Reconciling: 'False',
      Stalled: 'True',
    });
    expect(conditionOf(stalled, 'Stalled')?.message).toContain(
      `first: ${names.tenant}: ObjectNotFound`,
    );
    await deleteClusterVaultSecret(admin, missing);

    // A vault that answers 503: kvsync retries, the kept VaultSecret is Reconciling.
    const flaky = `flaky-${run}`;
    const down = env.azure.keyVault.createVault(`cvs-flaky-${run}`);
    down.grant(env.clientId);
    down.setSecret('telemetry-key', values.telemetry);
    down.faults.inject({ kind: 'status', status: 503 });
    const retrying = await failing(flaky, {
      ...template,
      vault: { url: env.azure.vaultUrl(`cvs-flaky-${run}`) },
    });
    expect(conditionStatuses(retrying)).toEqual({
      Ready: 'False',
      Reconciling: 'True',
      Stalled: 'False',
    });
    expect(conditionOf(retrying, 'Reconciling')?.message).toContain(
      `first: ${names.tenant}: VaultError`,
    );
    await deleteClusterVaultSecret(admin, flaky);
  });

  it('deleting the ClusterVaultSecret removes its VaultSecrets and their Secrets', async () => {
    await deleteClusterVaultSecret(admin, name);
    for (const ns of [names.a, names.conflict, names.late]) {
      await waitFor(async () => (await readVaultSecret(admin, ns, name)) === undefined, {
        description: `the VaultSecret in ${ns} to be garbage collected`,
        timeoutMs: 60_000,
      });
      await waitFor(async () => (await readSecret(admin, ns, name)) === undefined, {
        description: `the Secret in ${ns} to be garbage collected`,
        timeoutMs: 60_000,
      });
    }
  });
});

function conditionOf(cluster: ClusterVaultSecret, type: string) {
  return cluster.status?.conditions?.find((c) => c.type === type);
}

function conditionStatuses(cluster: ClusterVaultSecret): Record<string, string> {
  return Object.fromEntries((cluster.status?.conditions ?? []).map((c) => [c.type, c.status]));
}

async function readVaultSecret(kc: KubeConfig, namespace: string, name: string) {
  try {
    return await getVaultSecret(kc, namespace, name);
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}
