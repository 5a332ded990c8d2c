// kvsync's own writes to objects it also watches: their watch echoes need no reconcile. An echo
// can arrive before the write's answer says which resourceVersion it made, so while a write is in
// flight its object's events are held and decided when the answer comes (comparing with the last
// written resourceVersion alone let those early echoes through; docs/benchmarks.md).

export class OwnWrites {
  readonly #others: (key: string) => void;
  /** Per object: writes in flight, and the resourceVersions seen meanwhile. */
  readonly #inFlight = new Map<string, { writes: number; seen: (string | undefined)[] }>();
  /** Per object: the resourceVersion of kvsync's last write whose echo has not come yet. */
  readonly #written = new Map<string, string>();

  /** `others` is called for an event held during a write that turned out not to be its echo. */
  constructor(others: (key: string) => void) {
    this.#others = others;
  }

  /** Runs one write of `key`, which resolves with the resourceVersion it produced. */
  async track<T>(
    key: string,
    write: () => Promise<T>,
    versionOf: (result: T) => string | undefined,
  ): Promise<T> {
    const flight = this.#inFlight.get(key) ?? { writes: 0, seen: [] };
    this.#inFlight.set(key, flight);
    flight.writes++;
    let version: string | undefined;
    try {
      const result = await write();
      version = versionOf(result);
      if (version !== undefined) this.#written.set(key, version);
      return result;
    } finally {
      if (--flight.writes === 0) {
        this.#inFlight.delete(key);
        const others = flight.seen.some((seen) => seen === undefined || seen !== version);
        if (version !== undefined && flight.seen.includes(version)) this.#written.delete(key);
        if (others) this.#others(key);
      }
    }
  }

  /**
   * Whether an event of `key` (at `resourceVersion`; undefined when deleted) is kvsync's own write
   * or is held until the write in flight answers. False: someone else changed it.
   */
  isOwn(key: string, resourceVersion: string | undefined): boolean {
    const flight = this.#inFlight.get(key);
    if (flight) {
      flight.seen.push(resourceVersion);
      return true;
    }
    // Events come in order: whatever follows the echo (or replaces it) ends the wait for it.
    const own = resourceVersion !== undefined && this.#written.get(key) === resourceVersion;
    this.#written.delete(key);
    return own;
  }
}
