// Which namespaces may read with the operator's own identity. Whoever can create a VaultSecret can
// read whatever that identity can, so multi-tenant clusters list only trusted namespaces here and
// give every other namespace an identity of its own.
import { IdentityError } from './types.ts';

export type NamespaceList = readonly string[] | '*';

export function mayUseDefaultIdentity(namespace: string, allowed: NamespaceList): boolean {
  return allowed === '*' || allowed.includes(namespace);
}

export function defaultIdentityNotAllowed(namespace: string): IdentityError {
  return new IdentityError(
    'IdentityNotAllowed',
    `namespace ${namespace} may not use kvsync's own identity: set spec.vault.identity ` +
      '(serviceAccountName of a federated ServiceAccount, or clientSecretRef), or ask the ' +
      `operator to add ${namespace} to --default-identity-namespaces`,
  );
}

export function noDefaultIdentity(): IdentityError {
  return new IdentityError(
    'IdentityError',
    'kvsync has no identity of its own configured; set spec.vault.identity or install with workload identity',
  );
}

export function clusterServiceAccountNotAllowed(): IdentityError {
  return new IdentityError(
    'IdentityNotAllowed',
    "a VaultSecret kept by a ClusterVaultSecret reads with kvsync's own identity or a clientSecretRef " +
      "in kvsync's namespace, never a ServiceAccount of the target namespace",
  );
}

export function noOperatorNamespace(): IdentityError {
  return new IdentityError(
    'IdentityError',
    "kvsync does not know its own namespace (POD_NAMESPACE), where a ClusterVaultSecret's clientSecretRef lives",
  );
}
