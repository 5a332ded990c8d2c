// Key Vault's JSON bodies (SecretBundle, SecretItem, DeletedSecretBundle, CertificateBundle,
// CertificateItem) built from the store's records, field for field as the REST spec names them.
import type {
  CertificateVersionRecord,
  DeletedSecret,
  SecretVersionRecord,
} from './vault-store.ts';

const RECOVERY = { recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 } as const;

/** Key Vault leaves `tags` out of a body when an object has none. */
function tagsOf(tags: Record<string, string>): { tags?: Record<string, string> } {
  return Object.keys(tags).length > 0 ? { tags } : {};
}

function secretAttributes(record: SecretVersionRecord): Record<string, unknown> {
  return {
    enabled: record.enabled,
    ...(record.notBefore !== undefined ? { nbf: record.notBefore } : {}),
    ...(record.expires !== undefined ? { exp: record.expires } : {}),
    created: record.created,
    updated: record.updated,
    ...RECOVERY,
  };
}

function secretCommon(record: SecretVersionRecord): Record<string, unknown> {
  return {
    attributes: secretAttributes(record),
    ...tagsOf(record.tags),
    ...(record.contentType !== undefined ? { contentType: record.contentType } : {}),
    ...(record.managed ? { managed: true } : {}),
  };
}

/** GET/PUT answer; `withValue` false for PATCH, which returns the bundle without its value. */
export function secretBundle(
  vaultUrl: string,
  record: SecretVersionRecord,
  withValue = true,
): Record<string, unknown> {
  return {
    ...(withValue ? { value: record.value } : {}),
    id: `${vaultUrl}/secrets/${record.name}/${record.version}`,
    ...secretCommon(record),
    ...(record.managed ? { kid: `${vaultUrl}/keys/${record.name}/${record.version}` } : {}),
  };
}

/** A list item: the id has no version, and there is never a value. */
export function secretItem(
  vaultUrl: string,
  record: SecretVersionRecord,
  versioned: boolean,
): Record<string, unknown> {
  return {
    id: `${vaultUrl}/secrets/${record.name}${versioned ? `/${record.version}` : ''}`,
    ...secretCommon(record),
  };
}

export function deletedSecretBundle(
  vaultUrl: string,
  deleted: DeletedSecret,
): Record<string, unknown> {
  return {
    recoveryId: `${vaultUrl}/deletedsecrets/${deleted.secret.name}`,
    deletedDate: deleted.deletedDate,
    scheduledPurgeDate: deleted.scheduledPurgeDate,
    ...secretBundle(vaultUrl, deleted.secret.latest, false),
  };
}

function certificateAttributes(record: CertificateVersionRecord): Record<string, unknown> {
  return {
    enabled: record.enabled,
    nbf: record.notBefore,
    exp: record.expires,
    created: record.created,
    updated: record.updated,
    ...RECOVERY,
  };
}

export function certificateBundle(
  vaultUrl: string,
  record: CertificateVersionRecord,
): Record<string, unknown> {
  const base = `${vaultUrl}/certificates/${record.name}`;
  return {
    id: `${base}/${record.version}`,
    kid: `${vaultUrl}/keys/${record.name}/${record.version}`,
    sid: `${vaultUrl}/secrets/${record.name}/${record.version}`,
    x5t: record.x5t,
    cer: record.cer.toString('base64'),
    attributes: certificateAttributes(record),
    ...tagsOf(record.tags),
    policy: {
      id: `${base}/policy`,
      key_props: { exportable: record.exportable, kty: 'RSA', key_size: 2048, reuse_key: false },
      secret_props: { contentType: record.contentType },
      x509_props: { subject: record.subject, validity_months: 12 },
      lifetime_actions: [
        { trigger: { lifetime_percentage: 80 }, action: { action_type: 'EmailContacts' } },
      ],
      issuer: { name: 'Unknown' },
      attributes: { enabled: true, created: record.created, updated: record.updated },
    },
  };
}

export function certificateItem(
  vaultUrl: string,
  record: CertificateVersionRecord,
  versioned: boolean,
): Record<string, unknown> {
  return {
    id: `${vaultUrl}/certificates/${record.name}${versioned ? `/${record.version}` : ''}`,
    x5t: record.x5t,
    attributes: certificateAttributes(record),
    ...tagsOf(record.tags),
    subject: record.subject,
  };
}
