// One vault of the fake Key Vault as tests see it: seed and inspect objects without HTTP, grant
// identities, inject faults. What the SDK sees goes through key-vault-operations.ts.
import { certificateInput, type CertificateSource } from './certificate-import.ts';
import { VaultAccess, type GrantOptions } from './vault-access.ts';
import { VaultFaults } from './vault-faults.ts';
import { VaultStore, type SecretVersionRecord } from './vault-store.ts';

export interface SecretOptions {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  notBefore?: Date;
  expires?: Date;
}

export interface ObjectVersion {
  name: string;
  version: string;
}

export class FakeVault {
  readonly name: string;
  /** `https://<name>.vault.localtest`, without a trailing slash (ids are built on it). */
  readonly url: string;
  readonly tenantId: string;
  readonly store: VaultStore;
  readonly faults: VaultFaults;
  readonly access = new VaultAccess();
  /**
   * Set to make this vault's challenge name another resource (e.g. `https://vault.azure.net`),
   * like a foreign server posing as Key Vault: the SDK's resource verification must refuse it
   * and no token may be sent.
   */
  challengeResource: string | undefined;

  constructor(name: string, url: string, tenantId: string, now: () => Date) {
    this.name = name;
    this.url = url;
    this.tenantId = tenantId;
    this.store = new VaultStore(now);
    this.faults = new VaultFaults(() => now().getTime());
  }

  /** Adds a version (the first creates the secret), as `az keyvault secret set` would. */
  setSecret(name: string, value: string, options: SecretOptions = {}): ObjectVersion {
    const record = this.store.setSecret(name, { value, ...toAttributes(options) });
    return { name: record.name, version: record.version };
  }

  /** Changes attributes of the latest (or the given) version; a new `updated` time results. */
  updateSecret(name: string, options: SecretOptions, version?: string): void {
    this.store.updateSecret(name, version, toAttributes(options));
  }

  /** Soft delete, as Key Vault does; `purge` removes it for good. */
  deleteSecret(name: string, purge = false): void {
    this.store.deleteSecret(name);
    if (purge) this.store.purgeDeletedSecret(name);
  }

  secret(name: string, version?: string): Readonly<SecretVersionRecord> {
    return this.store.secret(name, version);
  }

  /** Imports a certificate: its latest version and a managed backing secret of the same version. */
  async importCertificate(
    name: string,
    source: CertificateSource,
  ): Promise<ObjectVersion & { x5t: string }> {
    const record = this.store.importCertificate(name, await certificateInput(source));
    return { name: record.name, version: record.version, x5t: record.x5t };
  }

  grant(clientId: string, options?: GrantOptions): void {
    this.access.grant(clientId, options);
  }

  revoke(clientId: string): void {
    this.access.revoke(clientId);
  }
}

function toAttributes(options: SecretOptions) {
  return {
    contentType: options.contentType,
    tags: options.tags,
    enabled: options.enabled,
    notBefore: options.notBefore && Math.floor(options.notBefore.getTime() / 1000),
    expires: options.expires && Math.floor(options.expires.getTime() / 1000),
  };
}
