// Fan-out: one ClusterVaultSecret with two objects into 200 namespaces. Each object is read from
// Key Vault once, and each rotation sweep lists the vault once, whatever the namespace count
// (External Secrets' ClusterExternalSecret reads each object once per namespace per refresh).
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  applyClusterVaultSecret,
  deleteClusterVaultSecret,
  waitForClusterStatus,
} from '../../support/cluster-vault-secrets.ts';
import { deleteTestNamespace, kubeConfigFrom, waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import { decoded, metricValue, readSecret, startSyncEnvironment } from '../../support/kvsync.ts';

const namespaceCount = 200;
const values = { pull: 'cvs-scale-pull-secret-41c9', ca: 'cvs-scale-ca-bundle-8d02' };

describe('ClusterVaultSecret fan-out to 200 namespaces', () => {
  const info = inject('controlPlane');
  const admin = kubeConfigFrom(info);
  const run = randomBytes(4).toString('hex');
  const name = `shared-${run}`;
  const vaultName = `fanout-${run}`;
  const namespaces = Array.from({ length: namespaceCount }, (_, i) => `fan-${run}-${i}`);
  let env: SyncEnvironment;
  const calls = (operation: 'getSecret' | 'listSecrets') =>
    env.azure.keyVault.counters.calls({ vault: vaultName, operation });
  const sweeps = () => metricValue(env.metrics, 'kvsync_vault_sweeps_total');

  beforeAll(async () => {
    const core = admin.makeApiClient(CoreV1Api);
    for (let i = 0; i < namespaces.length; i += 20) {
      await Promise.all(
        namespaces.slice(i, i + 20).map((ns) =>
          core.createNamespace({
            body: { metadata: { name: ns, labels: { 'kvsync.io/test': 'true', fanout: run } } },
          }),
        ),
      );
    }
    env = await startSyncEnvironment(info, {
      prefix: 'cvs-scale',
      manager: { namespaces, clusterVaultSecrets: true },
    });
    const vault = env.azure.keyVault.createVault(vaultName);
    vault.grant(env.clientId);
    vault.setSecret('pull-secret', values.pull);
    vault.setSecret('ca-bundle', values.ca);
  });

  afterAll(async () => {
    await deleteClusterVaultSecret(admin, name);
    await env?.close();
    await Promise.all(namespaces.map((ns) => deleteTestNamespace(admin, ns)));
  });

  it('syncs every namespace with one Key Vault read per object, and sweeps once per interval', async () => {
    await applyClusterVaultSecret(admin, name, {
      namespaceSelector: { matchLabels: { fanout: run } },
      template: {
        vault: { url: env.azure.vaultUrl(vaultName) },
        refreshInterval: '10s',
        data: [
          { key: 'pull', secret: { name: 'pull-secret' } },
          { key: 'ca.crt', secret: { name: 'ca-bundle' } },
        ],
      },
    });
    await waitForClusterStatus(
      admin,
      name,
      { selected: namespaceCount, synced: namespaceCount, failed: 0, ready: 'True' },
      120_000,
    );
    for (const ns of [namespaces[0]!, namespaces.at(-1)!]) {
      expect(decoded(await readSecret(admin, ns, name))).toEqual({
        pull: values.pull,
        'ca.crt': values.ca,
      });
    }
    expect(calls('getSecret')).toBe(2);

    // Steady state: each sweep of the (vault, identity) is one list call, not one per namespace.
    const first = await sweeps();
    await waitFor(async () => (await sweeps()) > first, { description: 'a sweep' });
    const [start, lists, gets] = [await sweeps(), calls('listSecrets'), calls('getSecret')];
    await waitFor(async () => (await sweeps()) >= start + 2, {
      description: 'two more sweeps',
      timeoutMs: 40_000,
    });
    const [end, listsAfter] = [await sweeps(), calls('listSecrets')];
    expect(listsAfter - lists).toBe(end - start);
    expect(calls('getSecret')).toBe(gets);
  });
});
