// Secret values by (vault, identity, name, version). A version's value never changes in Key
// Vault, so an entry is valid until evicted; the bound keeps memory flat with many objects.
import type { SecretValue } from './types.ts';

export class ValueCache {
  private readonly entries = new Map<string, SecretValue>();
  private readonly maxEntries: number;

  constructor(maxEntries = 50_000) {
    this.maxEntries = maxEntries;
  }

  get(key: string): SecretValue | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry as most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: SecretValue): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
