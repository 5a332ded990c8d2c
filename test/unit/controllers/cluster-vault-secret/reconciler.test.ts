// The reconciler's orchestration against in-memory caches and writers: what it writes where, what
// it reports, and what a namespace-restricted kvsync leaves to others.
import type { V1Namespace } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type {
  ClusterVaultSecret,
  ClusterVaultSecretStatus,
} from '../../../../src/api/cluster-vault-secret.ts';
import type { VaultSecret } from '../../../../src/api/vault-secret.ts';
import { ClusterVaultSecretReconciler } from '../../../../src/controllers/cluster-vault-secret/reconciler.ts';
import { objectKey, type ReadonlyStore } from '../../../../src/runtime/store.ts';
import { cluster, foreignCopy, keptCopy, readyStatus } from './fixtures.ts';

function store<T extends { metadata?: { name?: string; namespace?: string } }>(
  ...objects: T[]
): ReadonlyStore<T> {
  const map = new Map(objects.map((o) => [objectKey(o), o]));
  return {
    get: (key) => map.get(key),
    list: () => [...map.values()],
    keys: () => [...map.keys()],
    get size() {
      return map.size;
    },
  };
}

const namespace = (
  name: string,
  labels: Record<string, string> = { shared: 'yes' },
): V1Namespace => ({
  metadata: { name, labels },
});

function setup(options: {
  clusters: ClusterVaultSecret[];
  namespaces: V1Namespace[];
  vaultSecrets?: VaultSecret[];
  watched?: string[];
  failApplyIn?: string;
}) {
  const applied: string[] = [];
  const deleted: string[] = [];
  const statuses: ClusterVaultSecretStatus[] = [];
  const reconciler = new ClusterVaultSecretReconciler({
    clusterVaultSecrets: store(...options.clusters),
    namespaces: store(...options.namespaces),
    vaultSecrets: store(...(options.vaultSecrets ?? [])),
    watchedNamespaces: options.watched ?? [],
    writer: {
      apply: (vs) => {
        if (vs.metadata.namespace === options.failApplyIn) {
          return Promise.reject(new Error('admission webhook said no'));
        }
        applied.push(vs.metadata.namespace);
        return Promise.resolve();
      },
      delete: (ns, name, uid) => {
        deleted.push(`${ns}/${name}@${uid}`);
        return Promise.resolve();
      },
    },
    statusWriter: {
      write: (_name, status) => {
        statuses.push(status);
        return Promise.resolve();
      },
    },
    log: pino({ level: 'silent' }),
    now: () => new Date('2026-12-07T10:00:00Z'),
  });
  return { reconciler, applied, deleted, statuses };
}

describe('ClusterVaultSecretReconciler', () => {
  const owner = cluster();

  it('creates what is missing, removes what is no longer selected, and reports the conflict', async () => {
    const { reconciler, applied, deleted, statuses } = setup({
      clusters: [owner],
      namespaces: [namespace('a'), namespace('taken'), namespace('dropped', {})],
      vaultSecrets: [foreignCopy(owner, 'taken'), keptCopy(owner, 'dropped')],
    });
    await reconciler.reconcile('telemetry');
    expect(applied).toEqual(['a']);
    expect(deleted).toEqual(['dropped/telemetry@vs-dropped']);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({
      selectedNamespaces: 2,
      syncedNamespaces: 0,
      failedNamespaces: 1,
      failures: [{ namespace: 'taken', reason: 'VaultSecretConflict' }],
    });
  });

  it('writes nothing when everything is in place and the status already says so', async () => {
    const synced = keptCopy(owner, 'a', readyStatus('True', 'Synced'));
    const first = setup({
      clusters: [owner],
      namespaces: [namespace('a')],
      vaultSecrets: [synced],
    });
    await first.reconciler.reconcile('telemetry');
    const settled = { ...owner, status: first.statuses[0]! };
    const again = setup({
      clusters: [settled],
      namespaces: [namespace('a')],
      vaultSecrets: [synced],
    });
    await again.reconciler.reconcile('telemetry');
    expect([again.applied, again.deleted, again.statuses]).toEqual([[], [], []]);
  });

  it('writes every namespace it can, then fails so the key is retried', async () => {
    const { reconciler, applied, statuses } = setup({
      clusters: [owner],
      namespaces: [namespace('a'), namespace('b'), namespace('c')],
      failApplyIn: 'b',
    });
    await expect(reconciler.reconcile('telemetry')).rejects.toThrow(
      '1 VaultSecret writes failed; first: admission webhook said no',
    );
    expect(applied).toEqual(['a', 'c']);
    expect(statuses).toHaveLength(1);
  });

  it('restricted to some namespaces, reaches no further and leaves other ClusterVaultSecrets alone', async () => {
    const mine = setup({
      clusters: [owner],
      namespaces: [namespace('a'), namespace('elsewhere')],
      watched: ['a'],
    });
    await mine.reconciler.reconcile('telemetry');
    expect(mine.applied).toEqual(['a']);
    const others = setup({
      clusters: [owner],
      namespaces: [namespace('elsewhere')],
      watched: ['a'],
    });
    await others.reconciler.reconcile('telemetry');
    expect([others.applied, others.statuses]).toEqual([[], []]);
  });

  it('does nothing for a deleted ClusterVaultSecret: the garbage collector cleans up', async () => {
    const { reconciler, applied, statuses } = setup({ clusters: [], namespaces: [namespace('a')] });
    await reconciler.reconcile('telemetry');
    expect([applied, statuses]).toEqual([[], []]);
  });
});
