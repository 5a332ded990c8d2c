// The ClusterVaultSecret resource as the engine sees it: API coordinates, the object type built
// from the generated spec/status types, and the pure rules every part of kvsync applies the same
// way: which namespaces one selects, and which VaultSecret in a namespace is really its own.
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { labelsMatch } from '../runtime/label-selector.ts';
import type {
  ClusterVaultSecretSpec,
  ClusterVaultSecretStatus,
} from './cluster-vault-secret.generated.ts';
import { apiVersion, type VaultSecret } from './vault-secret.ts';

export type * from './cluster-vault-secret.generated.ts';

export const clusterKind = 'ClusterVaultSecret';
export const clusterPlural = 'clustervaultsecrets';

export interface ClusterVaultSecret {
  apiVersion: typeof apiVersion;
  kind: typeof clusterKind;
  metadata: V1ObjectMeta & { name: string };
  spec: ClusterVaultSecretSpec;
  status?: ClusterVaultSecretStatus;
}

/** A namespace as selection needs it. */
export interface NamespaceLabels {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export function selectsNamespace(
  cluster: Pick<ClusterVaultSecret, 'spec'>,
  namespace: NamespaceLabels,
): boolean {
  const { namespaces, namespaceSelector } = cluster.spec;
  if (namespaces?.includes(namespace.name)) return true;
  return namespaceSelector !== undefined && labelsMatch(namespaceSelector, namespace.labels);
}

/** The name of the VaultSecret a ClusterVaultSecret keeps in each selected namespace. */
export function ownedVaultSecretName(cluster: Pick<ClusterVaultSecret, 'metadata'>): string {
  return cluster.metadata.name;
}

/** The controller ownerReference kvsync puts on the VaultSecrets a ClusterVaultSecret keeps. */
export function clusterOwnerReference(cluster: ClusterVaultSecret): V1OwnerReference {
  return {
    apiVersion,
    kind: clusterKind,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The ClusterVaultSecret a VaultSecret names as its controller, if any (a claim, not proof). */
export function claimedClusterOwner(
  vaultSecret: Pick<VaultSecret, 'metadata'>,
): V1OwnerReference | undefined {
  return vaultSecret.metadata.ownerReferences?.find(
    (ref) => ref.controller === true && ref.kind === clusterKind && ref.apiVersion === apiVersion,
  );
}

/** Whether the ClusterVaultSecret is this VaultSecret's controller (same uid, not only name). */
export function isOwnedBy(
  vaultSecret: Pick<VaultSecret, 'metadata'>,
  cluster: Pick<ClusterVaultSecret, 'metadata'>,
): boolean {
  const owner = claimedClusterOwner(vaultSecret);
  return owner !== undefined && owner.uid === cluster.metadata.uid;
}

/** Whether the VaultSecret's spec is exactly the template (the API server defaults both alike). */
export function followsTemplate(
  vaultSecret: Pick<VaultSecret, 'spec'>,
  cluster: Pick<ClusterVaultSecret, 'spec'>,
): boolean {
  return canonicalJson(vaultSecret.spec) === canonicalJson(cluster.spec.template);
}

/** JSON with object keys sorted, so equal documents compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
