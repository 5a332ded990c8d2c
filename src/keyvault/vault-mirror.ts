// What kvsync knows about one vault as seen by one identity: the current version of each object
// it syncs, the last listing, and who is interested in what. Values come from the shared cache
// whenever the current version is known, so steady state costs no Key Vault call; the sweep is
// the only thing that re-reads properties.
import { VaultError } from './errors.ts';
import type { ObjectProperties, SecretValue, VaultReader } from './types.ts';
import type { ValueCache } from './value-cache.ts';

/** A compiled `find.nameRegex` (RE2: linear time, whatever the pattern). */
export interface NamePattern {
  /** True when the pattern matches anywhere in the name (anchor it with ^ and $ for all of it). */
  test(name: string): boolean;
}

export interface FindSelector {
  readonly nameRegex?: NamePattern | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** What one VaultSecret reads from this mirror. Pinned versions are not listed: they never change. */
export interface Interest {
  readonly latest: ReadonlySet<string>;
  readonly finds: readonly FindSelector[];
  /** 0 means "sync once": such a user does not drive sweeps. */
  readonly refreshIntervalMs: number;
}

export interface SweepResult {
  readonly mode: 'list' | 'get' | 'idle';
  readonly calls: number;
  /** VaultSecret keys whose data may have changed. */
  readonly affected: readonly string[];
}

interface Known {
  readonly version: string;
  readonly updatedOn: number | undefined;
  readonly enabled: boolean;
  readonly fetchedAt: number;
  /** When Key Vault last said this version is current: the read, or a later sweep. */
  readonly confirmedAt: number;
}

/**
 * Key Vault's `updated` has one-second resolution, so a version created in the same second as
 * the one kvsync read would list with the same `updated`. A read this close to the update (with
 * room for clock skew) is confirmed by one more GET on the next sweep.
 */
const sameSecondMarginMs = 5_000;

interface Listing {
  readonly items: readonly ObjectProperties[];
  readonly pages: number;
  readonly at: number;
  /** The mirror's epoch when the listing was requested. */
  readonly epoch: number;
}

export function matchesFind(item: ObjectProperties, selector: FindSelector): boolean {
  if (item.managed || !item.enabled) return false;
  if (selector.nameRegex && !selector.nameRegex.test(item.name)) return false;
  for (const [tag, value] of Object.entries(selector.tags ?? {})) {
    // Tag names are data: an inherited `constructor` is no tag.
    if (!Object.hasOwn(item.tags, tag) || item.tags[tag] !== value) return false;
  }
  return true;
}

export class VaultMirror {
  readonly key: string;
  readonly reader: VaultReader;
  private readonly cache: ValueCache;
  private readonly now: () => number;
  private readonly current = new Map<string, Known>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly users = new Map<string, Interest>();
  /** How many users ask for each refresh interval. */
  private readonly intervals = new Map<number, number>();
  private readonly findPrints = new Map<string, string>();
  private listing: Listing | undefined;
  /** Bumped by every invalidate(): listings requested before it may miss the announced object. */
  private epoch = 0;
  /** Per name, bumped by invalidate(name): reads started before it may have seen an older version. */
  private readonly nameEpochs = new Map<string, number>();
  /** Listings requested before this epoch may miss an object an event announced. */
  private listingEpoch = 0;
  private failure: { readonly error: VaultError; readonly since: Date } | undefined;

  constructor(options: {
    key: string;
    reader: VaultReader;
    cache: ValueCache;
    now?: () => number;
  }) {
    this.key = options.key;
    this.reader = options.reader;
    this.cache = options.cache;
    this.now = options.now ?? Date.now;
  }

  /** The current version's value: from the cache when the version is known, else one GET. */
  async latest(name: string): Promise<SecretValue> {
    const known = this.current.get(name);
    const cached = known && this.cache.get(this.valueKey(name, known.version));
    if (cached) return cached;
    // Keyed by epoch: a caller after an invalidation must not join a read started before it.
    return this.once(`latest/${name}@${this.epochOf(name)}`, () => this.fetch(name));
  }

  /** A pinned version: fetched once, then served from the cache. */
  async version(name: string, version: string): Promise<SecretValue> {
    const cached = this.cache.get(this.valueKey(name, version));
    if (cached) return cached;
    return this.once(`version/${name}/${version}`, async () => {
      const value = await this.reader.getSecret(name, version);
      this.cache.set(this.valueKey(name, version), value);
      return value;
    });
  }

  /** Objects matching a selector, from a listing no older than maxAgeMs. */
  async find(selector: FindSelector, maxAgeMs: number): Promise<ObjectProperties[]> {
    let listing = this.listing;
    if (!listing || this.now() - listing.at > maxAgeMs || listing.epoch < this.listingEpoch) {
      listing = await this.list();
    }
    return listing.items.filter((item) => matchesFind(item, selector));
  }

  /**
   * An event announced a new version of `name`: forget its known version, and the listing when a
   * user's `find` may match it, so the next read asks Key Vault instead of the cache.
   */
  invalidate(name: string): void {
    this.epoch += 1;
    this.nameEpochs.set(name, this.epochOf(name) + 1);
    this.current.delete(name);
    const findable = [...this.users.values()].some((interest) =>
      interest.finds.some((selector) => !selector.nameRegex || selector.nameRegex.test(name)),
    );
    if (findable) this.listingEpoch = this.epoch;
  }

  /**
   * When Key Vault last confirmed these names current (the oldest of them), and the listing when
   * `listed`; undefined when nothing of it is known (e.g. only pinned versions, which never change).
   */
  confirmedAt(names: Iterable<string>, listed: boolean): number | undefined {
    let oldest = listed ? this.listing?.at : undefined;
    for (const name of names) {
      const at = this.current.get(name)?.confirmedAt;
      if (at !== undefined) oldest = Math.min(oldest ?? Infinity, at);
    }
    return oldest;
  }

  /**
   * force-sync: reads these names from Key Vault now, whatever the cache holds, and returns the
   * other users whose data changed with them.
   */
  async reread(names: ReadonlySet<string>): Promise<string[]> {
    return this.usersOf(await this.getEach(names));
  }

  register(vaultSecretKey: string, interest: Interest): void {
    this.countInterval(this.users.get(vaultSecretKey), -1);
    this.countInterval(interest, +1);
    this.users.set(vaultSecretKey, interest);
    if (interest.finds.length > 0 && this.listing) {
      this.findPrints.set(vaultSecretKey, this.findPrint(interest, this.listing));
    }
  }

  unregister(vaultSecretKey: string): void {
    this.countInterval(this.users.get(vaultSecretKey), -1);
    this.users.delete(vaultSecretKey);
    this.findPrints.delete(vaultSecretKey);
  }

  get userCount(): number {
    return this.users.size;
  }

  get userKeys(): string[] {
    return [...this.users.keys()];
  }

  /**
   * Why the last sweep could not check for new versions, and since when; undefined once a sweep
   * succeeds. The cached values stay valid; what is unknown is whether they are still current.
   */
  get sweepFailure(): { readonly error: VaultError; readonly since: Date } | undefined {
    return this.failure;
  }

  /** Returns true when this changes the mirror from healthy to failing or back. */
  recordSweep(error: VaultError | undefined): boolean {
    const wasFailing = this.failure !== undefined;
    this.failure = error
      ? { error, since: this.failure?.since ?? new Date(this.now()) }
      : undefined;
    return wasFailing !== (error !== undefined);
  }

  /** The shortest refresh interval among users, or undefined when nobody asks for refreshes. */
  sweepIntervalMs(): number | undefined {
    // Few distinct intervals, many users: this runs on every register, so it must not walk users.
    let shortest: number | undefined;
    for (const interval of this.intervals.keys()) {
      if (interval > 0) shortest = Math.min(shortest ?? Infinity, interval);
    }
    return shortest;
  }

  private countInterval(interest: Interest | undefined, delta: 1 | -1): void {
    if (!interest) return;
    const count = (this.intervals.get(interest.refreshIntervalMs) ?? 0) + delta;
    if (count > 0) this.intervals.set(interest.refreshIntervalMs, count);
    else this.intervals.delete(interest.refreshIntervalMs);
  }

  /**
   * Re-reads properties the cheaper way — list pages of 25 or one GET per referenced object —
   * forgets versions that changed and returns the VaultSecrets that must look again.
   */
  async sweep(): Promise<SweepResult> {
    const names = new Set<string>();
    let finders = false;
    for (const interest of this.users.values()) {
      if (interest.refreshIntervalMs <= 0) continue;
      for (const name of interest.latest) names.add(name);
      finders ||= interest.finds.length > 0;
    }
    if (names.size === 0 && !finders) return { mode: 'idle', calls: 0, affected: [] };

    const pages = this.listing?.pages ?? 1;
    if (finders || names.size > pages) {
      const listing = await this.list();
      return { mode: 'list', calls: listing.pages, affected: this.compareListing(names, listing) };
    }
    const changed = await this.getEach(names);
    return { mode: 'get', calls: names.size, affected: this.usersOf(changed) };
  }

  private compareListing(names: ReadonlySet<string>, listing: Listing): string[] {
    const byName = new Map(listing.items.map((item) => [item.name, item]));
    const changed = new Set<string>();
    for (const name of names) {
      const item = byName.get(name);
      const known = this.current.get(name);
      if (!item && !known) continue;
      if (!item || !known || !sameProperties(item, known) || unconfirmed(known)) {
        this.current.delete(name);
        changed.add(name);
      } else {
        this.current.set(name, { ...known, confirmedAt: listing.at });
      }
    }
    const affected = new Set(this.usersOf(changed));
    for (const [key, interest] of this.users) {
      if (interest.finds.length === 0) continue;
      const print = this.findPrint(interest, listing);
      if (this.findPrints.get(key) !== print) affected.add(key);
      this.findPrints.set(key, print);
    }
    return [...affected];
  }

  private async getEach(names: ReadonlySet<string>): Promise<Set<string>> {
    const changed = new Set<string>();
    for (const name of names) {
      const before = this.current.get(name);
      try {
        const value = await this.fetch(name);
        if (before?.version !== value.properties.version) changed.add(name);
      } catch (error) {
        const gone =
          error instanceof VaultError && !['Throttled', 'Transient'].includes(error.kind);
        if (!gone) throw error;
        if (before) changed.add(name);
        this.current.delete(name);
      }
    }
    return changed;
  }

  private usersOf(changed: ReadonlySet<string>): string[] {
    if (changed.size === 0) return [];
    const keys: string[] = [];
    for (const [key, interest] of this.users) {
      for (const name of interest.latest) {
        if (changed.has(name)) {
          keys.push(key);
          break;
        }
      }
    }
    return keys;
  }

  private findPrint(interest: Interest, listing: Listing): string {
    const matching = listing.items.filter((item) =>
      interest.finds.some((selector) => matchesFind(item, selector)),
    );
    return matching
      .map((item) => `${item.name}@${item.updatedOn?.getTime() ?? ''}`)
      .sort()
      .join(',');
  }

  private async fetch(name: string): Promise<SecretValue> {
    const epoch = this.epochOf(name);
    const value = await this.reader.getSecret(name);
    const { properties } = value;
    this.cache.set(this.valueKey(name, properties.version), value, `${this.key}|${name}`);
    // An invalidation of this name during the read may announce a newer version than the one
    // just read. (Events for other names do not matter: under a stream of events they would
    // leave most reads unrecorded, and each read would be repeated by the next reader.)
    if (epoch !== this.epochOf(name)) return value;
    const now = this.now();
    this.current.set(name, {
      version: properties.version,
      updatedOn: properties.updatedOn?.getTime(),
      enabled: properties.enabled,
      fetchedAt: now,
      confirmedAt: now,
    });
    return value;
  }

  private list(): Promise<Listing> {
    const epoch = this.epoch;
    return this.once(`list@${this.listingEpoch}`, async () => {
      const items: ObjectProperties[] = [];
      let pages = 0;
      for await (const page of this.reader.listSecretPages()) {
        pages += 1;
        items.push(...page);
      }
      this.listing = { items, pages: Math.max(pages, 1), at: this.now(), epoch };
      return this.listing;
    });
  }

  private epochOf(name: string): number {
    return this.nameEpochs.get(name) ?? 0;
  }

  private valueKey(name: string, version: string): string {
    return `${this.key}|${name}|${version}`;
  }

  /** Concurrent callers asking for the same thing share one request. */
  private once<T>(key: string, run: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const promise = run().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }
}

function unconfirmed(known: Known): boolean {
  return known.updatedOn === undefined || known.fetchedAt - known.updatedOn < sameSecondMarginMs;
}

function sameProperties(item: ObjectProperties, known: Known): boolean {
  return item.enabled === known.enabled && item.updatedOn?.getTime() === known.updatedOn;
}
