// Pure: whether a VaultSecret with `target.adopt: true` may take over an existing Secret it did
// not write. Taking over is a write to someone else's Secret, so the Secret must consent (an
// annotation set by whoever may edit it), and only Secrets nobody controls or that an
// ExternalSecret controls are ever taken: moving from External Secrets Operator is the use.
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { VaultSecret } from '../../api/vault-secret.ts';
import type { SecretWithoutData } from '../../kube/secret-digest.ts';
import { CREDENTIAL_SECRET_TYPES } from './merge-consent.ts';

/** On a Secret: the name of the VaultSecret (same namespace) allowed to adopt it. */
export const ADOPT_BY_ANNOTATION = 'kvsync.io/adopt-by';

const EXTERNAL_SECRETS_GROUP = 'external-secrets.io';

export function isExternalSecretOwner(ref: V1OwnerReference): boolean {
  return ref.kind === 'ExternalSecret' && ref.apiVersion.split('/')[0] === EXTERNAL_SECRETS_GROUP;
}

/**
 * Why `vaultSecret` may not adopt `current`, or undefined when it may. Only asked for Secrets
 * that are not already this VaultSecret's.
 */
export function adoptionRefusal(
  current: SecretWithoutData,
  vaultSecret: VaultSecret,
): string | undefined {
  const name = current.metadata?.name ?? '';
  if (vaultSecret.spec.target?.adopt !== true) return 'target.adopt is not set';
  if (CREDENTIAL_SECRET_TYPES.has(current.type ?? '')) {
    return `Secret ${name} is of type ${current.type}, which kvsync never writes`;
  }
  const controller = current.metadata?.ownerReferences?.find((ref) => ref.controller);
  if (controller && !isExternalSecretOwner(controller)) {
    return (
      `Secret ${name} is controlled by ${controller.kind} ${controller.name}; kvsync adopts only ` +
      'Secrets without a controller or controlled by an ExternalSecret'
    );
  }
  if (current.metadata?.annotations?.[ADOPT_BY_ANNOTATION] !== vaultSecret.metadata.name) {
    return (
      `Secret ${name} has not consented to adoption: annotate it with ` +
      `${ADOPT_BY_ANNOTATION}=${vaultSecret.metadata.name}`
    );
  }
  return undefined;
}
