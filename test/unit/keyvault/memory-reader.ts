// An in-memory VaultReader for unit tests of the engine's caching logic. Counts calls the way the
// benchmark counts Key Vault requests.
import { VaultError } from '../../../src/keyvault/errors.ts';
import type { ObjectProperties, SecretValue, VaultReader } from '../../../src/keyvault/types.ts';

interface Stored {
  versions: SecretValue[];
  enabled: boolean;
  tags: Record<string, string>;
}

export class MemoryReader implements VaultReader {
  readonly vaultUrl = 'https://unit.vault.azure.net/';
  readonly calls = { get: 0, getVersion: 0, listPages: 0 };
  private readonly objects = new Map<string, Stored>();
  private tick = 0;

  set(name: string, value: string, tags: Record<string, string> = {}): string {
    this.tick += 1;
    const version = `v${this.tick.toString().padStart(31, '0')}`;
    const stored = this.objects.get(name) ?? { versions: [], enabled: true, tags };
    stored.tags = tags;
    stored.versions.push({
      value,
      properties: this.properties(name, version, stored, new Date(this.tick * 1000)),
    });
    this.objects.set(name, stored);
    return version;
  }

  disable(name: string): void {
    const stored = this.require(name);
    stored.enabled = false;
    this.tick += 1;
    const last = stored.versions.at(-1)!;
    stored.versions[stored.versions.length - 1] = {
      value: last.value,
      properties: this.properties(
        name,
        last.properties.version,
        stored,
        new Date(this.tick * 1000),
      ),
    };
  }

  delete(name: string): void {
    this.objects.delete(name);
  }

  async getSecret(name: string, version?: string): Promise<SecretValue> {
    await Promise.resolve();
    if (version === undefined) this.calls.get += 1;
    else this.calls.getVersion += 1;
    const stored = this.require(name);
    if (!stored.enabled) {
      throw new VaultError('Disabled', `${name} is disabled`, { statusCode: 403 });
    }
    const found =
      version === undefined
        ? stored.versions.at(-1)
        : stored.versions.find((v) => v.properties.version === version);
    if (!found) throw new VaultError('NotFound', `${name}/${version} not found`);
    return found;
  }

  async *listSecretPages(): AsyncIterable<readonly ObjectProperties[]> {
    const all = [...this.objects.entries()].map(([name, stored]) => ({
      ...stored.versions.at(-1)!.properties,
      name,
      version: undefined,
    }));
    for (let i = 0; i === 0 || i < all.length; i += 25) {
      this.calls.listPages += 1;
      await Promise.resolve();
      yield all.slice(i, i + 25);
    }
  }

  get totalCalls(): number {
    return this.calls.get + this.calls.getVersion + this.calls.listPages;
  }

  private require(name: string): Stored {
    const stored = this.objects.get(name);
    if (!stored) throw new VaultError('NotFound', `${name} not found`, { statusCode: 404 });
    return stored;
  }

  private properties(name: string, version: string, stored: Stored, updatedOn: Date) {
    return {
      name,
      version,
      enabled: stored.enabled,
      updatedOn,
      expiresOn: undefined,
      notBefore: undefined,
      contentType: undefined,
      tags: { ...stored.tags },
      managed: false,
    };
  }
}
