// One vault's objects, with Key Vault's semantics and no HTTP: secrets with versions (names are
// case-insensitive, the casing of the first write is kept), soft delete, certificates and their
// managed backing secrets. Maps keyed by lower-case name keep gets O(1) at benchmark sizes;
// listing walks a name index that is sorted only when a name was added or removed.
import { randomUUID } from 'node:crypto';
import { keyVaultErrors } from './key-vault-errors.ts';

/** Unix seconds, as Key Vault's attributes carry them. */
export type Seconds = number;

export interface SecretVersionRecord {
  readonly name: string;
  readonly version: string;
  readonly value: string;
  contentType: string | undefined;
  tags: Record<string, string>;
  enabled: boolean;
  notBefore: Seconds | undefined;
  expires: Seconds | undefined;
  readonly created: Seconds;
  updated: Seconds;
  /** Set on a certificate's backing secret. */
  readonly managed: boolean;
}

export interface CertificateVersionRecord {
  readonly name: string;
  readonly version: string;
  /** DER of the leaf certificate. */
  readonly cer: Buffer;
  /** base64url SHA-1 thumbprint of the leaf. */
  readonly x5t: string;
  readonly subject: string;
  readonly notBefore: Seconds;
  readonly expires: Seconds;
  readonly contentType: string;
  readonly exportable: boolean;
  readonly tags: Record<string, string>;
  readonly created: Seconds;
  readonly updated: Seconds;
  readonly enabled: boolean;
}

interface Versioned<T> {
  readonly name: string;
  readonly versions: Map<string, T>;
  latest: T;
}

export interface DeletedSecret {
  readonly secret: Versioned<SecretVersionRecord>;
  readonly deletedDate: Seconds;
  readonly scheduledPurgeDate: Seconds;
}

export interface SecretInput {
  value: string;
  contentType?: string | undefined;
  tags?: Record<string, string> | undefined;
  enabled?: boolean | undefined;
  notBefore?: Seconds | undefined;
  expires?: Seconds | undefined;
}

export interface SecretPatch {
  contentType?: string | undefined;
  tags?: Record<string, string> | undefined;
  enabled?: boolean | undefined;
  notBefore?: Seconds | undefined;
  expires?: Seconds | undefined;
}

export type CertificateInput = Omit<
  CertificateVersionRecord,
  'name' | 'version' | 'created' | 'updated'
> & {
  backingSecretValue: string;
};

export interface Page<T> {
  items: T[];
  /** Opaque continuation for the next page, absent on the last one. */
  next: string | undefined;
}

const RETENTION_DAYS = 90;
const DAY_SECONDS = 24 * 60 * 60;

export class VaultStore {
  readonly #now: () => Date;
  readonly #secrets = new Map<string, Versioned<SecretVersionRecord>>();
  readonly #deleted = new Map<string, DeletedSecret>();
  readonly #certificates = new Map<string, Versioned<CertificateVersionRecord>>();
  #sortedSecretKeys: string[] | undefined;
  #sortedCertificateKeys: string[] | undefined;

  constructor(now: () => Date) {
    this.#now = now;
  }

  get secretCount(): number {
    return this.#secrets.size;
  }

  setSecret(
    name: string,
    input: SecretInput,
    managed = false,
    version = newVersion(),
  ): SecretVersionRecord {
    const key = name.toLowerCase();
    if (this.#deleted.has(key)) throw keyVaultErrors.deletedButRecoverable(name);
    const existing = this.#secrets.get(key);
    if (existing?.latest.managed && !managed)
      throw keyVaultErrors.managedByCertificate(name, 'set');
    const now = this.#seconds();
    const record: SecretVersionRecord = {
      name: existing?.name ?? name,
      version,
      value: input.value,
      contentType: input.contentType,
      tags: { ...input.tags },
      enabled: input.enabled ?? true,
      notBefore: input.notBefore,
      expires: input.expires,
      created: now,
      updated: now,
      managed,
    };
    if (existing) {
      existing.versions.set(version, record);
      existing.latest = record;
    } else {
      this.#secrets.set(key, { name, versions: new Map([[version, record]]), latest: record });
      this.#sortedSecretKeys = undefined;
    }
    return record;
  }

  /** The latest version when `version` is absent or empty. Disabled versions are returned too. */
  secret(name: string, version?: string): SecretVersionRecord {
    const secret = this.#secrets.get(name.toLowerCase());
    if (!secret) throw keyVaultErrors.secretNotFound(name, version);
    if (!version) return secret.latest;
    const record = secret.versions.get(version.toLowerCase());
    if (!record) throw keyVaultErrors.secretNotFound(name, version);
    return record;
  }

  updateSecret(name: string, version: string | undefined, patch: SecretPatch): SecretVersionRecord {
    const record = this.secret(name, version);
    if (patch.contentType !== undefined) record.contentType = patch.contentType;
    if (patch.tags !== undefined) record.tags = { ...patch.tags };
    if (patch.enabled !== undefined) record.enabled = patch.enabled;
    if (patch.notBefore !== undefined) record.notBefore = patch.notBefore;
    if (patch.expires !== undefined) record.expires = patch.expires;
    record.updated = this.#seconds();
    return record;
  }

  deleteSecret(name: string): DeletedSecret {
    const key = name.toLowerCase();
    const secret = this.#secrets.get(key);
    if (!secret) throw keyVaultErrors.secretNotFound(name);
    if (secret.latest.managed) throw keyVaultErrors.managedByCertificate(name, 'delete');
    const now = this.#seconds();
    const deleted = {
      secret,
      deletedDate: now,
      scheduledPurgeDate: now + RETENTION_DAYS * DAY_SECONDS,
    };
    this.#secrets.delete(key);
    this.#deleted.set(key, deleted);
    this.#sortedSecretKeys = undefined;
    return deleted;
  }

  deletedSecret(name: string): DeletedSecret {
    const deleted = this.#deleted.get(name.toLowerCase());
    if (!deleted) throw keyVaultErrors.deletedSecretNotFound(name);
    return deleted;
  }

  purgeDeletedSecret(name: string): void {
    this.deletedSecret(name);
    this.#deleted.delete(name.toLowerCase());
  }

  recoverDeletedSecret(name: string): SecretVersionRecord {
    const { secret } = this.deletedSecret(name);
    const key = name.toLowerCase();
    this.#deleted.delete(key);
    this.#secrets.set(key, secret);
    this.#sortedSecretKeys = undefined;
    return secret.latest;
  }

  /** Current versions in name order, `max` at a time. */
  listSecrets(continuation: string | undefined, max: number): Page<SecretVersionRecord> {
    this.#sortedSecretKeys ??= [...this.#secrets.keys()].sort();
    // Key Vault links on from a full page even when nothing follows: the last page is then empty.
    return pageByName(this.#sortedSecretKeys, this.#secrets, continuation, max, true);
  }

  listSecretVersions(
    name: string,
    continuation: string | undefined,
    max: number,
  ): Page<SecretVersionRecord> {
    const secret = this.#secrets.get(name.toLowerCase());
    if (!secret) throw keyVaultErrors.secretNotFound(name);
    return pageByIndex([...secret.versions.values()], continuation, max);
  }

  importCertificate(name: string, input: CertificateInput): CertificateVersionRecord {
    const { backingSecretValue, ...certificate } = input;
    const key = name.toLowerCase();
    const existing = this.#certificates.get(key);
    if (!existing && this.#secrets.has(key)) {
      throw keyVaultErrors.badParameter(
        `A secret named ${name} exists and is not a certificate's backing secret.`,
      );
    }
    const now = this.#seconds();
    const record: CertificateVersionRecord = {
      ...certificate,
      name: existing?.name ?? name,
      version: newVersion(),
      created: now,
      updated: now,
    };
    // The backing secret shares the certificate's version and validity, as in Key Vault.
    this.setSecret(
      name,
      {
        value: backingSecretValue,
        contentType: input.contentType,
        tags: input.tags,
        enabled: input.enabled,
        notBefore: input.notBefore,
        expires: input.expires,
      },
      true,
      record.version,
    );
    if (existing) {
      existing.versions.set(record.version, record);
      existing.latest = record;
    } else {
      this.#certificates.set(key, {
        name,
        versions: new Map([[record.version, record]]),
        latest: record,
      });
      this.#sortedCertificateKeys = undefined;
    }
    return record;
  }

  certificate(name: string, version?: string): CertificateVersionRecord {
    const certificate = this.#certificates.get(name.toLowerCase());
    if (!certificate) throw keyVaultErrors.certificateNotFound(name, version);
    if (!version) return certificate.latest;
    const record = certificate.versions.get(version.toLowerCase());
    if (!record) throw keyVaultErrors.certificateNotFound(name, version);
    return record;
  }

  listCertificates(continuation: string | undefined, max: number): Page<CertificateVersionRecord> {
    this.#sortedCertificateKeys ??= [...this.#certificates.keys()].sort();
    return pageByName(this.#sortedCertificateKeys, this.#certificates, continuation, max);
  }

  listCertificateVersions(
    name: string,
    continuation: string | undefined,
    max: number,
  ): Page<CertificateVersionRecord> {
    const certificate = this.#certificates.get(name.toLowerCase());
    if (!certificate) throw keyVaultErrors.certificateNotFound(name);
    return pageByIndex([...certificate.versions.values()], continuation, max);
  }

  #seconds(): Seconds {
    return Math.floor(this.#now().getTime() / 1000);
  }
}

function newVersion(): string {
  return randomUUID().replaceAll('-', '');
}

// Continuations name the last key served, so pages stay consistent while secrets are added.
function pageByName<T>(
  sortedKeys: readonly string[],
  objects: ReadonlyMap<string, Versioned<T>>,
  continuation: string | undefined,
  max: number,
  linkFromFullPage = false,
): Page<T> {
  let start = 0;
  if (continuation !== undefined) {
    const after = decodeContinuation(continuation);
    start = upperBound(sortedKeys, after);
  }
  const items: T[] = [];
  let index = start;
  for (; index < sortedKeys.length && items.length < max; index++) {
    const object = objects.get(sortedKeys[index]!);
    if (object) items.push(object.latest);
  }
  const last = sortedKeys[index - 1];
  const more = index < sortedKeys.length || (linkFromFullPage && items.length === max);
  return { items, next: more && last !== undefined ? encodeContinuation(last) : undefined };
}

function pageByIndex<T>(all: readonly T[], continuation: string | undefined, max: number): Page<T> {
  const start = continuation === undefined ? 0 : Number(decodeContinuation(continuation));
  if (!Number.isInteger(start) || start < 0)
    throw keyVaultErrors.badParameter('Invalid $skiptoken.');
  const end = start + max;
  return {
    items: all.slice(start, end),
    next: end < all.length ? encodeContinuation(String(end)) : undefined,
  };
}

function upperBound(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! <= key) low = mid + 1;
    else high = mid;
  }
  return low;
}

function encodeContinuation(marker: string): string {
  return Buffer.from(JSON.stringify({ NextMarker: marker })).toString('base64url');
}

function decodeContinuation(token: string): string {
  try {
    const { NextMarker } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      NextMarker?: unknown;
    };
    if (typeof NextMarker === 'string') return NextMarker;
  } catch {
    // fall through to the refusal below
  }
  throw keyVaultErrors.badParameter('Invalid $skiptoken.');
}
