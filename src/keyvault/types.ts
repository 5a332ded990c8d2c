// The contract between the sync engine and the only code that knows Azure.
import type { TokenCredential } from '@azure/core-auth';
import type { IdentityHints } from './classify-error.ts';

/** Who reads a vault. Every cache is keyed by `key`; values read with one identity are never
 * served to another. */
export interface VaultIdentity {
  /**
   * Stable, value-free id of the whole identity (authority, tenant, client id and the
   * ServiceAccount or client-secret Secret): "default",
   * "sa:<namespace>/<name>:<client id>@<tenant>@<authority>", or
   * "secret:<namespace>/<name>:<keyed hash of authority, ids and secret>". Everything cached per
   * identity (credential, reader, mirror, values) is keyed by it.
   */
  readonly key: string;
  readonly credential: TokenCredential;
  /** What is known about the identity (client id, tenant, subject), so Entra ID refusals say what to fix. */
  readonly hints?: IdentityHints;
}

/** What Key Vault tells about the current (or a given) version of a secret, without its value. */
export interface ObjectProperties {
  readonly name: string;
  /** Undefined in list results (the SDK leaves it out); always set on a GET. */
  readonly version: string | undefined;
  readonly enabled: boolean;
  readonly updatedOn: Date | undefined;
  readonly expiresOn: Date | undefined;
  readonly notBefore: Date | undefined;
  readonly contentType: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** True for a certificate's backing secret. */
  readonly managed: boolean;
}

export interface SecretValue {
  readonly properties: ObjectProperties & { readonly version: string };
  readonly value: string;
}

/** One vault as seen by one identity. Implementations classify every failure as a VaultError. */
export interface VaultReader {
  readonly vaultUrl: string;
  /** Latest version when `version` is undefined. */
  getSecret(name: string, version?: string): Promise<SecretValue>;
  /** Pages of at most 25 current-version properties, as Key Vault lists them. */
  listSecretPages(): AsyncIterable<readonly ObjectProperties[]>;
}
