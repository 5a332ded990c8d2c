// Which VaultSecrets read with a ClusterVaultSecret's trust. Creating a ClusterVaultSecret is a
// cluster-admin decision, so the VaultSecrets it keeps may use kvsync's own identity wherever
// --default-identity-namespaces says otherwise, and their clientSecretRef names a Secret in
// kvsync's namespace. An ownerReference is only a claim anyone who can create a VaultSecret can
// write, so the claim is checked against the informer caches: the owner exists with that uid, is
// the controller, selects this namespace, keeps a VaultSecret of this name, and the VaultSecret's
// spec is exactly its template (a tenant who edits the copy loses the trust).
import type { ClusterVaultSecret, NamespaceLabels } from '../api/cluster-vault-secret.ts';
import {
  claimedClusterOwner,
  followsTemplate,
  ownedVaultSecretName,
  selectsNamespace,
} from '../api/cluster-vault-secret.ts';
import type { VaultSecret } from '../api/vault-secret.ts';
import type { IdentityResolver } from './types.ts';

export interface ClusterTrustLookups {
  clusterVaultSecret(name: string): ClusterVaultSecret | undefined;
  namespace(name: string): NamespaceLabels | undefined;
}

export function grantedByClusterVaultSecret(
  vaultSecret: VaultSecret,
  lookups: ClusterTrustLookups,
): boolean {
  const claim = claimedClusterOwner(vaultSecret);
  if (claim === undefined) return false;
  const cluster = lookups.clusterVaultSecret(claim.name);
  const namespace = lookups.namespace(vaultSecret.metadata.namespace);
  return (
    cluster !== undefined &&
    namespace !== undefined &&
    cluster.metadata.uid === claim.uid &&
    cluster.metadata.deletionTimestamp === undefined &&
    ownedVaultSecretName(cluster) === vaultSecret.metadata.name &&
    selectsNamespace(cluster, namespace) &&
    followsTemplate(vaultSecret, cluster)
  );
}

/** Resolves VaultSecrets a ClusterVaultSecret really keeps with the cluster scope. */
export function trustingClusterVaultSecrets(
  inner: IdentityResolver,
  lookups: ClusterTrustLookups,
): IdentityResolver {
  return {
    resolve: (vaultSecret) =>
      inner.resolve(
        vaultSecret,
        grantedByClusterVaultSecret(vaultSecret, lookups) ? 'cluster' : 'namespace',
      ),
  };
}
