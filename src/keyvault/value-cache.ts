// Secret values by (vault, identity, name, version). A version's value never changes in Key
// Vault, so an entry is valid until evicted. The bound is in bytes, not entries: Key Vault
// values reach 25 KB, so a count of entries says nothing about memory. Versions that a newer
// version of the same object replaced go first; then the least recently used.
import { LruCache } from '../runtime/lru-cache.ts';
import type { SecretValue } from './types.ts';

/** Fits the chart's 512Mi memory limit with room: kvsync itself needs about 200 MiB. */
export const DEFAULT_VALUE_CACHE_BYTES = 64 * 1024 * 1024;

/** Map entry, key and properties: a generous estimate beside the strings. */
const ENTRY_OVERHEAD_BYTES = 512;

/** Estimated memory of a cached value: two bytes per character (V8's worst case) plus overhead. */
export function valueBytes(value: SecretValue): number {
  const { properties } = value;
  let chars = value.value.length + properties.name.length + properties.version.length;
  chars += properties.contentType?.length ?? 0;
  for (const [tag, tagValue] of Object.entries(properties.tags)) {
    chars += tag.length + tagValue.length;
  }
  return 2 * chars + ENTRY_OVERHEAD_BYTES;
}

export class ValueCache {
  readonly #maxBytes: number;
  /** Values that may still be current, least recently used first. */
  readonly #current: LruCache<string, SecretValue>;
  /** Values a newer version of their object replaced: evicted before any current one. */
  readonly #superseded: LruCache<string, SecretValue>;
  /** Per object (`<mirror>|<name>`), the key of its latest value, and back. */
  readonly #latest = new Map<string, string>();
  readonly #objectOf = new Map<string, string>();

  constructor(maxBytes = DEFAULT_VALUE_CACHE_BYTES) {
    this.#maxBytes = maxBytes;
    // The tiers only keep order and weight; #evict() keeps their sum under the bound.
    this.#current = new LruCache(Number.MAX_SAFE_INTEGER, valueBytes);
    this.#superseded = new LruCache(Number.MAX_SAFE_INTEGER, valueBytes);
  }

  get size(): number {
    return this.#current.size + this.#superseded.size;
  }

  /** Estimated bytes held (see valueBytes). */
  get bytes(): number {
    return this.#current.weight + this.#superseded.weight;
  }

  get(key: string): SecretValue | undefined {
    return this.#current.get(key) ?? this.#superseded.get(key);
  }

  /**
   * Caches a value. `object` (`<mirror>|<name>`) marks it as that object's latest version: the
   * version it replaces becomes the first to go.
   */
  set(key: string, value: SecretValue, object?: string): void {
    this.#superseded.delete(key);
    if (object !== undefined) {
      const previous = this.#latest.get(object);
      if (previous !== undefined && previous !== key) {
        const old = this.#current.get(previous);
        this.#dropCurrent(previous);
        if (old) this.#superseded.set(previous, old);
      }
      this.#latest.set(object, key);
      this.#objectOf.set(key, object);
    }
    this.#current.set(key, value);
    this.#evict();
  }

  #evict(): void {
    while (this.bytes > this.#maxBytes) {
      const superseded = this.#superseded.oldestKey();
      if (superseded !== undefined) {
        this.#superseded.delete(superseded);
        continue;
      }
      const oldest = this.#current.oldestKey();
      if (oldest === undefined) return;
      this.#dropCurrent(oldest);
    }
  }

  #dropCurrent(key: string): void {
    this.#current.delete(key);
    const object = this.#objectOf.get(key);
    this.#objectOf.delete(key);
    if (object !== undefined && this.#latest.get(object) === key) this.#latest.delete(object);
  }
}
