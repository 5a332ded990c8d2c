// Pure: what a ClusterVaultSecret needs done, namespace by namespace. A selected namespace gets
// the VaultSecret (created, or brought back to the template); a namespace no longer selected
// loses the one this ClusterVaultSecret owns; a VaultSecret of that name owned by anyone else is
// never touched, only reported.
import type { ClusterVaultSecret, NamespaceLabels } from '../../api/cluster-vault-secret.ts';
import {
  clusterOwnerReference,
  followsTemplate,
  isOwnedBy,
  ownedVaultSecretName,
  selectsNamespace,
} from '../../api/cluster-vault-secret.ts';
import type { VaultSecret } from '../../api/vault-secret.ts';

export interface NamespaceView extends NamespaceLabels {
  /** Being deleted: nothing can be created in it, and what it holds goes with it. */
  readonly terminating: boolean;
}

export interface OwnedCopy {
  readonly namespace: string;
  readonly uid: string;
}

export interface RolloutPlan {
  /** Selected namespaces, sorted by name. */
  readonly selected: readonly string[];
  /** Selected namespaces whose VaultSecret is missing or differs from the template. */
  readonly apply: readonly string[];
  /** Owned VaultSecrets in namespaces that are no longer selected. */
  readonly remove: readonly OwnedCopy[];
  /** Selected namespaces holding a VaultSecret of that name that this one does not own. */
  readonly conflicts: ReadonlySet<string>;
}

export function planRollout(
  cluster: ClusterVaultSecret,
  namespaces: readonly NamespaceView[],
  vaultSecretIn: (namespace: string) => VaultSecret | undefined,
): RolloutPlan {
  const selected: string[] = [];
  const apply: string[] = [];
  const remove: OwnedCopy[] = [];
  const conflicts = new Set<string>();
  for (const namespace of [...namespaces].sort((a, b) => compare(a.name, b.name))) {
    if (namespace.terminating) continue;
    const existing = vaultSecretIn(namespace.name);
    const owned = existing && isOwnedBy(existing, cluster) ? existing : undefined;
    if (!selectsNamespace(cluster, namespace)) {
      if (owned) remove.push({ namespace: namespace.name, uid: owned.metadata.uid ?? '' });
      continue;
    }
    selected.push(namespace.name);
    if (existing === undefined) apply.push(namespace.name);
    else if (!owned) conflicts.add(namespace.name);
    else if (!upToDate(owned, cluster)) apply.push(namespace.name);
  }
  return { selected, apply, remove, conflicts };
}

/** The VaultSecret a ClusterVaultSecret keeps in a namespace, as server-side apply sends it. */
export function desiredVaultSecret(cluster: ClusterVaultSecret, namespace: string): VaultSecret {
  return {
    apiVersion: cluster.apiVersion,
    kind: 'VaultSecret',
    metadata: {
      name: ownedVaultSecretName(cluster),
      namespace,
      labels: { [CLUSTER_VAULT_SECRET_LABEL]: cluster.metadata.name },
      ownerReferences: [clusterOwnerReference(cluster)],
    },
    spec: cluster.spec.template,
  };
}

/** On every VaultSecret a ClusterVaultSecret keeps: `kubectl get vsec -A -l kvsync.io/cluster-vault-secret=<name>`. */
export const CLUSTER_VAULT_SECRET_LABEL = 'kvsync.io/cluster-vault-secret';

function upToDate(vaultSecret: VaultSecret, cluster: ClusterVaultSecret): boolean {
  const labels = new Map(Object.entries(vaultSecret.metadata.labels ?? {}));
  return (
    followsTemplate(vaultSecret, cluster) &&
    labels.get(CLUSTER_VAULT_SECRET_LABEL) === cluster.metadata.name
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
