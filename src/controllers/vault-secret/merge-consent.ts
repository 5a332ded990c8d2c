// Pure: whether an existing Secret consents to a Merge. Permission to create a VaultSecret must not
// become permission to write any Secret of the namespace, so whoever may edit the Secret says which
// VaultSecret may merge into it; the Secrets that mint cluster credentials are never written.
import type { VaultSecret } from '../../api/vault-secret.ts';
import type { SecretWithoutData } from '../../kube/secret-digest.ts';

/** On an existing Secret: the VaultSecret (same namespace) that may merge into it, or "*". */
export const MERGE_FROM_ANNOTATION = 'kvsync.io/merge-from';

/** Secret types the API server or the bootstrap authenticator turn into credentials. */
export const CREDENTIAL_SECRET_TYPES: ReadonlySet<string> = new Set([
  'kubernetes.io/service-account-token',
  'bootstrap.kubernetes.io/token',
]);

/** Undefined when `vaultSecret` may merge into `current`; otherwise why not and what to do. */
export function mergeRefusal(
  current: SecretWithoutData,
  vaultSecret: VaultSecret,
): string | undefined {
  const name = current.metadata?.name;
  const type = current.type ?? 'Opaque';
  if (CREDENTIAL_SECRET_TYPES.has(type)) {
    return `Secret ${name} is of type ${type}; kvsync never writes such Secrets`;
  }
  const annotations = current.metadata?.annotations ?? {};
  const consent = Object.hasOwn(annotations, MERGE_FROM_ANNOTATION)
    ? annotations[MERGE_FROM_ANNOTATION]
    : undefined;
  if (consent === '*' || consent === vaultSecret.metadata.name) return undefined;
  const asked = `annotate it with ${MERGE_FROM_ANNOTATION}: ${vaultSecret.metadata.name} (or "*")`;
  return consent === undefined
    ? `Secret ${name} does not consent to creationPolicy Merge: ${asked}`
    : `Secret ${name} consents to a Merge from ${JSON.stringify(consent)} only: ${asked}`;
}
