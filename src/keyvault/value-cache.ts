// Secret values by (vault, identity, name, version). A version's value never changes in Key
// Vault, so an entry is valid until evicted; the bound keeps memory flat with many objects.
import { LruCache } from '../runtime/lru-cache.ts';
import type { SecretValue } from './types.ts';

export class ValueCache extends LruCache<string, SecretValue> {
  constructor(maxEntries = 50_000) {
    super(maxEntries);
  }
}
