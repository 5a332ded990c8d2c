// Per-key exponential backoff, as client-go's ItemExponentialFailureRateLimiter: a key that keeps
// failing waits 5 ms, 10 ms, 20 ms ... up to 5 min; `forget` after a success starts it over.

export interface RateLimiter {
  /** The delay before `key` may be retried, counting this failure. */
  when(key: string): number;
  /** Failures recorded for `key` since it last succeeded. */
  retries(key: string): number;
  forget(key: string): void;
}

export interface ExponentialBackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

export class ExponentialRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  constructor(options: ExponentialBackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 5;
    this.#maxMs = options.maxMs ?? 5 * 60_000;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // Past ~2^53 the product is Infinity; min() still caps it, so no overflow guard is needed.
    return Math.min(this.#baseMs * 2 ** failures, this.#maxMs);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}
