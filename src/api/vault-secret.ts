// The VaultSecret resource as the engine sees it: API coordinates, the object type built from the
// generated spec/status types, and small pure helpers that interpret the spec the same way
// everywhere.
import { createHash } from 'node:crypto';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type {
  CertificateReference,
  DataItem,
  KeyRewrite,
  VaultSecretSpec,
  VaultSecretStatus,
} from './vault-secret.generated.ts';
import { defaults, patterns } from './vault-secret-schema.ts';

export type * from './vault-secret.generated.ts';

export const group = 'kvsync.io';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
export const kind = 'VaultSecret';
export const plural = 'vaultsecrets';

export interface VaultSecret {
  apiVersion: typeof apiVersion;
  kind: typeof kind;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: VaultSecretSpec;
  status?: VaultSecretStatus;
}

/** Any new value re-reads the VaultSecret's objects from Key Vault now (like ESO's force-sync). */
export const forceSyncAnnotation = 'kvsync.io/force-sync';
const maxRecordedForceSync = 256;

/** The force-sync annotation as status.lastHandledForceSync records it (hashed when long). */
export function forceSyncValue(vs: Pick<VaultSecret, 'metadata'>): string | undefined {
  const value = vs.metadata.annotations?.[forceSyncAnnotation];
  if (value === undefined || value.length <= maxRecordedForceSync) return value;
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** A force-sync value kvsync has not acted on yet, or undefined. */
export function pendingForceSync(vs: Pick<VaultSecret, 'metadata' | 'status'>): string | undefined {
  const value = forceSyncValue(vs);
  return value !== undefined && value !== vs.status?.lastHandledForceSync ? value : undefined;
}

const durationPattern = new RegExp(patterns.refreshInterval);
const unitMs = { h: 3_600_000, m: 60_000, s: 1_000 } as const;

/**
 * Milliseconds of a duration in the form the CRD accepts: whole hours, minutes and seconds in that
 * order ("1h30m", "45s"), or "0". Throws a RangeError on anything else.
 */
export function parseDuration(text: string): number {
  if (text === '' || !durationPattern.test(text)) {
    throw new RangeError(`"${text}" is not a duration like 30s, 15m, 1h or 1h30m, or "0"`);
  }
  let ms = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([hms])/g)) {
    ms += Number(count) * unitMs[unit as keyof typeof unitMs];
  }
  return ms;
}

/** How often to re-validate the values, in ms; 0 = sync once. */
export function refreshIntervalMs(
  vs: Pick<VaultSecret, 'spec'>,
  operatorDefault: string = defaults.refreshInterval,
): number {
  return parseDuration(vs.spec.refreshInterval ?? operatorDefault);
}

/** The Secret kvsync writes: spec.target.name, else the VaultSecret's own name. */
export function targetSecretName(vs: Pick<VaultSecret, 'metadata' | 'spec'>): string {
  return vs.spec.target?.name ?? vs.metadata.name;
}

export function isPfxCertificate(certificate: CertificateReference): boolean {
  return certificate.format === 'pfx';
}

export interface CertificateOutputKeys {
  readonly certificate: string;
  readonly privateKey: string;
  /** Absent: no CA key is written. */
  readonly ca: string | undefined;
}

/** The Secret keys of a PEM certificate's outputs, defaults applied. */
export function certificateOutputKeys(certificate: CertificateReference): CertificateOutputKeys {
  return {
    certificate: certificate.keys?.certificate ?? defaults.certificateKey,
    privateKey: certificate.keys?.privateKey ?? defaults.privateKeyKey,
    ca: certificate.keys?.ca,
  };
}

/**
 * The single Secret key of a data item that writes one key: a secret, or a certificate as PFX.
 * Undefined for a PEM certificate, which writes several (see certificateOutputKeys).
 */
export function outputKeyOf(item: DataItem): string | undefined {
  if (item.certificate !== undefined && !isPfxCertificate(item.certificate)) return undefined;
  return item.key;
}

/** Every Secret key a data item writes. */
export function outputKeysOf(item: DataItem): string[] {
  if (item.certificate !== undefined && !isPfxCertificate(item.certificate)) {
    const keys = certificateOutputKeys(item.certificate);
    return keys.ca === undefined
      ? [keys.certificate, keys.privateKey]
      : [keys.certificate, keys.privateKey, keys.ca];
  }
  return item.key === undefined ? [] : [item.key];
}

const secretKeyPattern = new RegExp(patterns.secretKey);

/** What the API server accepts as a Secret data key; the same rule the CRD's CEL applies. */
export function isSecretKey(key: string): boolean {
  return key.length <= 253 && secretKeyPattern.test(key) && key !== '.' && !key.startsWith('..');
}

/** The Secret key for a name found by dataFrom (a secret name or a JSON field). */
export function rewriteKey(name: string, rewrite: KeyRewrite | undefined): string {
  const prefix = rewrite?.stripPrefix;
  // A name that is only the prefix keeps its name: an empty Secret key is invalid.
  if (prefix === undefined || !name.startsWith(prefix) || name === prefix) return name;
  return name.slice(prefix.length);
}
