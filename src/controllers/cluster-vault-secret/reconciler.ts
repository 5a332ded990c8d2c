// Reconciles one ClusterVaultSecret: plan from the caches, create or update the VaultSecret in
// every selected namespace, delete the ones it owns where it no longer selects, then write a
// status that counts where each namespace stands. Reads come from informer caches; the VaultSecret
// controller does the syncing, so Key Vault is read once per object whatever the namespace count.
import type { V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterVaultSecret } from '../../api/cluster-vault-secret.ts';
import { ownedVaultSecretName } from '../../api/cluster-vault-secret.ts';
import type { VaultSecret } from '../../api/vault-secret.ts';
import type { ClusterStatusWriter } from '../../kube/cluster-status-writer.ts';
import type { VaultSecretWriter } from '../../kube/vault-secret-writer.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import type { ReadonlyStore } from '../../runtime/store.ts';
import { desiredVaultSecret, planRollout, type NamespaceView, type RolloutPlan } from './plan.ts';
import { clusterStatusChanged, namespaceState, nextClusterStatus } from './status.ts';

export interface ClusterVaultSecretReconcilerOptions {
  readonly clusterVaultSecrets: ReadonlyStore<ClusterVaultSecret>;
  readonly namespaces: ReadonlyStore<V1Namespace>;
  readonly vaultSecrets: ReadonlyStore<VaultSecret>;
  /** The namespaces kvsync syncs; empty: all. A ClusterVaultSecret reaches no further. */
  readonly watchedNamespaces: readonly string[];
  readonly writer: VaultSecretWriter;
  readonly statusWriter: ClusterStatusWriter;
  readonly log: Logger;
  /** VaultSecret writes in flight at once per ClusterVaultSecret. Default 16. */
  readonly writeConcurrency?: number;
  readonly now?: () => Date;
}

export class ClusterVaultSecretReconciler {
  readonly #options: ClusterVaultSecretReconcilerOptions;
  readonly #watched: ReadonlySet<string>;

  constructor(options: ClusterVaultSecretReconcilerOptions) {
    this.#options = options;
    this.#watched = new Set(options.watchedNamespaces);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { clusterVaultSecrets, vaultSecrets, writer, statusWriter } = this.#options;
    const cluster = clusterVaultSecrets.get(key);
    // Deleted: the garbage collector removes the VaultSecrets through their ownerReferences.
    if (!cluster || cluster.metadata.deletionTimestamp) return undefined;
    const name = ownedVaultSecretName(cluster);
    const inNamespace = (namespace: string) => vaultSecrets.get(`${namespace}/${name}`);
    const plan = planRollout(cluster, this.#namespaceViews(), inNamespace);
    // A kvsync restricted to some namespaces speaks only for ClusterVaultSecrets that reach them:
    // the status of one selecting other namespaces is not its to write.
    if (this.#watched.size > 0 && plan.selected.length === 0 && plan.remove.length === 0) {
      return undefined;
    }

    const failures = await settleAll(
      [
        ...plan.apply.map((ns) => () => writer.apply(desiredVaultSecret(cluster, ns))),
        ...plan.remove.map((copy) => () => writer.delete(copy.namespace, name, copy.uid)),
      ],
      this.#options.writeConcurrency ?? 16,
    );
    this.#log(cluster, plan, failures.length);

    const states = plan.selected.map((ns) =>
      namespaceState(cluster, ns, inNamespace(ns), plan.conflicts.has(ns)),
    );
    const status = nextClusterStatus(cluster, states, this.#options.now?.() ?? new Date());
    if (clusterStatusChanged(cluster.status, status)) await statusWriter.write(key, status);

    if (failures.length > 0) {
      throw new Error(
        `${failures.length} VaultSecret writes failed; first: ${errorMessage(failures[0])}`,
      );
    }
    return undefined;
  }

  #namespaceViews(): NamespaceView[] {
    const views: NamespaceView[] = [];
    for (const namespace of this.#options.namespaces.list()) {
      const name = namespace.metadata?.name ?? '';
      if (this.#watched.size > 0 && !this.#watched.has(name)) continue;
      views.push({
        name,
        labels: namespace.metadata?.labels ?? {},
        terminating:
          namespace.metadata?.deletionTimestamp !== undefined ||
          namespace.status?.phase === 'Terminating',
      });
    }
    return views;
  }

  #log(cluster: ClusterVaultSecret, plan: RolloutPlan, failed: number): void {
    if (plan.apply.length === 0 && plan.remove.length === 0) return;
    this.#options.log.info(
      {
        clustervaultsecret: cluster.metadata.name,
        applied: plan.apply.length,
        removed: plan.remove.length,
        failed,
      },
      'rolled VaultSecrets out to namespaces',
    );
  }
}

/** Runs the tasks, at most `limit` at once, and returns the errors of those that failed. */
async function settleAll(
  tasks: readonly (() => Promise<void>)[],
  limit: number,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task().catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return errors;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
