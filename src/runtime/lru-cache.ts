// A bounded map that forgets the least recently used entry: caches of credentials, tokens and
// values must not grow without end in a cluster with many namespaces and objects. The bound is
// a number of entries, or a total weight (e.g. bytes) when a weigher is given.

export class LruCache<K, V> {
  readonly #max: number;
  readonly #weigh: (value: V) => number;
  readonly #entries = new Map<K, { value: V; weight: number }>();
  #weight = 0;

  constructor(max: number, weigh: (value: V) => number = () => 1) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`LRU size must be >= 1: ${max}`);
    this.#max = max;
    this.#weigh = weigh;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entries' total weight: their count without a weigher. */
  get weight(): number {
    return this.#weight;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** An entry heavier than the whole bound is not kept. */
  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.#weigh(value);
    this.#entries.set(key, { value, weight });
    this.#weight += weight;
    for (let oldest = this.oldestKey(); this.#weight > this.#max; oldest = this.oldestKey()) {
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  /** Keys from least to most recently used; reading them does not change that order. */
  keys(): K[] {
    return [...this.#entries.keys()];
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The least recently used key, if any. */
  oldestKey(): K | undefined {
    const oldest = this.#entries.keys().next();
    return oldest.done ? undefined : oldest.value;
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  /** The cached value, or a new one made by `make` (and cached). */
  getOrCreate(key: K, make: () => V): V {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = make();
    this.set(key, value);
    return value;
  }
}
