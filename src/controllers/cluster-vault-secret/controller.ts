// Runs the ClusterVaultSecret controller next to the VaultSecret one, in the same manager (so only
// on the leader): informers for ClusterVaultSecrets and Namespaces, a work queue keyed by
// ClusterVaultSecret name, and the identity trust that the VaultSecrets it keeps read with.
import type { KubeConfig, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterVaultSecret } from '../../api/cluster-vault-secret.ts';
import { clusterPlural } from '../../api/cluster-vault-secret.ts';
import { apiVersion, group, type VaultSecret } from '../../api/vault-secret.ts';
import { trustingClusterVaultSecrets } from '../../identity/cluster-trust.ts';
import type { IdentityResolver } from '../../identity/types.ts';
import { kubeClusterStatusWriter } from '../../kube/cluster-status-writer.ts';
import { kubeVaultSecretWriter } from '../../kube/vault-secret-writer.ts';
import { informerStatusLogger } from '../../observability/informer-log.ts';
import { Controller, type ReconcileEvent, type Syncable } from '../../runtime/controller.ts';
import { kubeInformer, type Informer } from '../../runtime/informer.ts';
import { collectionPath, KubeApiError, kubeJson } from '../../runtime/kube-http.ts';
import { splitKey } from '../../runtime/store.ts';
import { ClusterVaultSecretReconciler } from './reconciler.ts';

export interface ClusterVaultSecretControllerOptions {
  readonly kubeConfig: KubeConfig;
  /** The manager's VaultSecret informer: its cache and change events are shared, not duplicated. */
  readonly vaultSecrets: Informer<VaultSecret>;
  /** The namespaces kvsync syncs; empty: all. */
  readonly watchedNamespaces: readonly string[];
  readonly workers: number;
  readonly log: Logger;
  readonly onWrite?: (resource: string, verb: string) => void;
  readonly onReconcile?: (event: ReconcileEvent) => void;
}

export interface ClusterVaultSecretController {
  /** Caches the VaultSecret controller must also wait for: its identity trust reads them. */
  readonly caches: readonly Syncable[];
  /** `identities`, extended with the trust of the ClusterVaultSecrets in the caches. */
  trusting(identities: IdentityResolver): IdentityResolver;
  start(): Promise<void>;
  hasSynced(): boolean;
  stop(deadlineMs: number): Promise<void>;
}

export function clusterVaultSecretController(
  options: ClusterVaultSecretControllerOptions,
): ClusterVaultSecretController {
  const { kubeConfig, log } = options;
  const clusters = kubeInformer<ClusterVaultSecret>(
    kubeConfig,
    { apiVersion, plural: clusterPlural },
    { onStatus: informerStatusLogger(log, clusterPlural) },
  );
  const namespaces = kubeInformer<V1Namespace>(
    kubeConfig,
    { apiVersion: 'v1', plural: 'namespaces' },
    { onStatus: informerStatusLogger(log, 'namespaces') },
  );
  const reconciler = new ClusterVaultSecretReconciler({
    clusterVaultSecrets: clusters.store,
    namespaces: namespaces.store,
    vaultSecrets: options.vaultSecrets.store,
    watchedNamespaces: options.watchedNamespaces,
    writer: kubeVaultSecretWriter(kubeConfig, (verb) => options.onWrite?.('vaultsecrets', verb)),
    statusWriter: kubeClusterStatusWriter(kubeConfig, () =>
      options.onWrite?.('clustervaultsecrets/status', 'apply'),
    ),
    log,
  });
  const controller = new Controller({
    reconcile: (key) => reconciler.reconcile(key),
    workers: Math.max(1, Math.min(options.workers, 4)),
    waitFor: [clusters, namespaces, options.vaultSecrets],
    ...(options.onReconcile ? { onReconcile: options.onReconcile } : {}),
  });

  // Without the CRD (a kvsync upgraded before its CRDs) or the cluster-wide reads (RBAC not yet
  // upgraded), ClusterVaultSecrets are not served, but VaultSecrets keep syncing.
  const served = whyNotServed(kubeConfig).then((reason) => {
    if (reason !== undefined) log.warn({ reason }, 'ClusterVaultSecrets are not served');
    return reason === undefined;
  });
  let enabled = false;
  const caches: Syncable = {
    async waitForSync(signal) {
      if (!(await served)) return;
      await Promise.all([clusters.waitForSync(signal), namespaces.waitForSync(signal)]);
    },
  };

  const enqueueAll = (): void => {
    for (const key of clusters.store.keys()) controller.enqueue(key);
  };
  clusters.onChange((key) => controller.enqueue(key));
  // A namespace created, deleted or relabelled may change what any ClusterVaultSecret selects.
  namespaces.onChange(enqueueAll);
  // The VaultSecret a ClusterVaultSecret keeps carries its name, owned or not (a conflict).
  options.vaultSecrets.onChange((key) => {
    const { name } = splitKey(key);
    if (clusters.store.get(name) !== undefined) controller.enqueue(name);
  });

  return {
    caches: [caches],
    trusting: (identities) =>
      trustingClusterVaultSecrets(identities, {
        clusterVaultSecret: (name) => clusters.store.get(name),
        namespace: (name) => {
          const namespace = namespaces.store.get(name);
          return namespace && { name, labels: namespace.metadata?.labels ?? {} };
        },
      }),
    async start() {
      enabled = await served;
      if (!enabled) return;
      clusters.start();
      namespaces.start();
      await controller.start();
    },
    hasSynced: () => !enabled || (clusters.hasSynced() && namespaces.hasSynced()),
    async stop(deadlineMs) {
      if (!enabled) return;
      await controller.stop(deadlineMs);
      await Promise.all([clusters.stop(), namespaces.stop()]);
    },
  };
}

/** Why ClusterVaultSecrets cannot be served (CRD missing, reads refused), or undefined. */
async function whyNotServed(kubeConfig: KubeConfig): Promise<string | undefined> {
  const reads = [
    { path: collectionPath({ apiVersion, plural: clusterPlural }), what: clusterPlural },
    { path: collectionPath({ apiVersion: 'v1', plural: 'namespaces' }), what: 'namespaces' },
  ];
  for (const { path, what } of reads) {
    try {
      await kubeJson(kubeConfig, path, { query: { limit: 1 } });
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      if (error.statusCode === 404)
        return `the ${clusterPlural}.${group} CRD is not installed (apply crds/)`;
      if (error.statusCode === 403)
        return `kvsync may not list ${what} cluster-wide (update its RBAC)`;
      throw error;
    }
  }
  return undefined;
}
