// A Key Vault the conformance cases run against: how kvsync's reader reaches it, and how the test
// puts objects into it (each backend in its own way; reads always go through kvsync's reader).
import type { TokenCredential } from '@azure/core-auth';
import type { SecretClientOptions } from '@azure/keyvault-secrets';

export type CertificateFormat = 'pem' | 'pfx';

export interface SeedSecretOptions {
  readonly contentType?: string;
  readonly tags?: Record<string, string>;
}

export interface ConformanceBackend {
  readonly name: string;
  readonly vaultUrl: string;
  readonly credential: TokenCredential;
  /** How kvsync's reader reaches and trusts this backend. */
  readonly clientOptions: SecretClientOptions;
  /** A new version; returns its version id. */
  setSecret(name: string, value: string, options?: SeedSecretOptions): Promise<string>;
  disableSecret(name: string): Promise<void>;
  /** Imports a certificate whose backing secret is kept in the given format. */
  importCertificate(
    name: string,
    format: CertificateFormat,
    source: { pem: string; pfxBase64: string },
  ): Promise<void>;
  stop(): Promise<void>;
}
