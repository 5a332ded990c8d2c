// Pure: the Secret a VaultSecret should produce, whether the one in the cluster already is it,
// and whether it is kvsync's to write. The one in the cluster is known by the digest of its data
// (secret-digest.ts): its values are never needed to decide.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../api/vault-secret.ts';
import { apiVersion, kind, targetSecretName } from '../../api/vault-secret.ts';
import type { DigestedSecret, SecretWithoutData } from '../../kube/secret-digest.ts';
import { dataDigest, digestSecret } from '../../kube/secret-digest.ts';
import { adoptionRefusal } from './adopt.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kvsync';
/** On every Secret kvsync writes: the VaultSecret (same namespace) it comes from. */
export const SOURCE_ANNOTATION = 'kvsync.io/vaultsecret';

export type CreationPolicy = 'Owner' | 'Merge' | 'Orphan';

export function creationPolicy(vaultSecret: VaultSecret): CreationPolicy {
  return vaultSecret.spec.target?.creationPolicy ?? 'Owner';
}

export function ownerReference(vaultSecret: VaultSecret): V1OwnerReference {
  return {
    apiVersion,
    kind,
    name: vaultSecret.metadata.name,
    uid: vaultSecret.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The Secret as kvsync wants it. Under Merge this is only kvsync's part of it. */
export function desiredSecret(
  vaultSecret: VaultSecret,
  data: ReadonlyMap<string, Buffer>,
): V1Secret {
  const { target } = vaultSecret.spec;
  const policy = creationPolicy(vaultSecret);
  // fromEntries defines each key as an own property: an assignment would drop "__proto__".
  // Keys in code-unit order: the same in every locale, and no ICU collation data paged in.
  const encoded = Object.fromEntries(
    [...data]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => [key, value.toString('base64')]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: targetSecretName(vaultSecret),
      namespace: vaultSecret.metadata.namespace,
      labels: { ...(target?.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: {
        ...(target?.annotations ?? {}),
        [SOURCE_ANNOTATION]: vaultSecret.metadata.name,
      },
      ...(policy === 'Owner' ? { ownerReferences: [ownerReference(vaultSecret)] } : {}),
    },
    ...(policy === 'Merge' ? {} : { type: target?.type ?? 'Opaque' }),
    data: encoded,
  };
}

/**
 * Whether kvsync may write this existing Secret for this VaultSecret. Under Owner and Orphan it
 * must be one kvsync wrote for it, or one it may adopt (see adopt.ts); under Merge any Secret not
 * claimed by another VaultSecret (that it consents to the Merge is merge-consent.ts's to decide).
 */
export function mayWrite(current: SecretWithoutData, vaultSecret: VaultSecret): boolean {
  const source = current.metadata?.annotations?.[SOURCE_ANNOTATION];
  if (source !== undefined && source !== vaultSecret.metadata.name) return false;
  if (creationPolicy(vaultSecret) === 'Merge') return true;
  if (adoptionRefusal(current, vaultSecret) === undefined) return true;
  if (source === undefined || current.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY)
    return false;
  const controller = current.metadata?.ownerReferences?.find((ref) => ref.controller);
  return controller === undefined || controller.uid === vaultSecret.metadata.uid;
}

/**
 * A Secret read from the API server as `needsWrite` compares it: under Merge only the keys kvsync
 * writes count (keys others added are theirs), under Owner and Orphan all of them.
 */
export function comparable(
  live: V1Secret,
  desired: V1Secret,
  policy: CreationPolicy,
): DigestedSecret {
  return policy === 'Merge'
    ? digestSecret(live, Object.keys(desired.data ?? {}))
    : digestSecret(live);
}

/**
 * Whether writing `desired` would change `current` (the informer's Secret, or `comparable`). An
 * owner reference to this VaultSecret must exist exactly under Owner.
 */
export function needsWrite(
  current: DigestedSecret,
  desired: V1Secret,
  policy: CreationPolicy,
  vaultSecretUid: string | undefined,
): boolean {
  if (!includes(current.metadata?.labels, desired.metadata?.labels)) return true;
  if (!includes(current.metadata?.annotations, desired.metadata?.annotations)) return true;
  if (dataDiffers(current, desired)) return true;
  if (policy === 'Merge') return false;
  if ((current.type ?? 'Opaque') !== desired.type) return true;
  const owned =
    current.metadata?.ownerReferences?.some((ref) => ref.uid === vaultSecretUid) ?? false;
  return owned !== (policy === 'Owner');
}

/** Whether the data differs: a key added, removed or changed (kvsync's keys only under Merge). */
export function dataDiffers(current: DigestedSecret, desired: V1Secret): boolean {
  return current.dataDigest !== dataDigest(desired.data ?? {});
}

/**
 * The full object to PUT under Owner/Orphan: desired content, metadata others added kept. Another
 * controller can only be the ExternalSecret of an adopted Secret (mayWrite): its reference goes,
 * in the same update, so its deletion no longer collects the Secret.
 */
export function replacement(
  current: SecretWithoutData,
  desired: V1Secret,
  vaultSecretUid: string | undefined,
): V1Secret {
  const others = (current.metadata?.ownerReferences ?? []).filter(
    (ref) => ref.uid !== vaultSecretUid && ref.controller !== true,
  );
  const ownerReferences = [...others, ...(desired.metadata?.ownerReferences ?? [])];
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      resourceVersion: current.metadata?.resourceVersion,
      labels: { ...current.metadata?.labels, ...desired.metadata?.labels },
      annotations: { ...current.metadata?.annotations, ...desired.metadata?.annotations },
      ...(ownerReferences.length > 0 ? { ownerReferences } : {}),
    },
  };
}

function includes(
  actual: Readonly<Record<string, string>> | undefined,
  expected: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const [key, value] of Object.entries(expected ?? {})) {
    if (ownValue(actual, key) !== value) return false;
  }
  return true;
}

/** `record[key]` for labels and annotations: never a value inherited from Object. */
function ownValue(
  record: Readonly<Record<string, string>> | undefined,
  key: string,
): string | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
