// What kvsync takes from a Key Vault event: which object of which vault changed and how. The
// payload itself is never acted on beyond this: events only say "look again" (DESIGN §4b).

export type ObjectKind = 'secret' | 'certificate';

/** NewVersion: re-read the object. NearExpiry/Expired: refresh status and metrics only. */
export type EventChange = 'NewVersion' | 'NearExpiry' | 'Expired';

/** Event types kvsync acts on, as Event Grid names them without `Microsoft.KeyVault.`. */
export const handledEventTypes = [
  'SecretNewVersionCreated',
  'SecretNearExpiry',
  'SecretExpired',
  'CertificateNewVersionCreated',
  'CertificateNearExpiry',
  'CertificateExpired',
] as const;

export type HandledEventType = (typeof handledEventTypes)[number];

/** Key Vault event types kvsync receives but has nothing to do for (keys, access policies). */
export const otherKeyVaultEventTypes = [
  'KeyNewVersionCreated',
  'KeyNearExpiry',
  'KeyExpired',
  'VaultAccessPolicyChanged',
] as const;

/** A bounded label for metrics: a Key Vault event type, `other` or `malformed`. */
export type EventTypeLabel =
  HandledEventType | (typeof otherKeyVaultEventTypes)[number] | 'other' | 'malformed';

export interface KeyVaultEvent {
  /** Event Grid's id: the same for every delivery of one event. */
  readonly id: string;
  readonly type: HandledEventType;
  readonly change: EventChange;
  readonly kind: ObjectKind;
  /** Lower-case `host[:port]` of the vault, as in a VaultSecret's spec.vault.url. */
  readonly vaultHost: string;
  readonly name: string;
  readonly version: string | undefined;
  /** When Key Vault published the event (its clock). */
  readonly time: Date | undefined;
  readonly notBefore: Date | undefined;
  readonly expiresOn: Date | undefined;
}
