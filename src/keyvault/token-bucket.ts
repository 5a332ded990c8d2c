// A token bucket on an injected clock: `capacity` tokens at most, refilled continuously at
// `refillPerMs`. Pure arithmetic, no timers; the budget decides when to look again.

export class TokenBucket {
  readonly capacity: number;
  readonly refillPerMs: number;
  private tokens: number;
  private updatedAt: number;

  constructor(capacity: number, refillPerMs: number, now: number) {
    if (!(capacity >= 1) || !(refillPerMs > 0)) {
      throw new RangeError('a token bucket needs capacity >= 1 and a positive refill rate');
    }
    this.capacity = capacity;
    this.refillPerMs = refillPerMs;
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes one token when there is one. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  msUntilToken(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    const from = Math.max(now, this.updatedAt);
    return from - now + (1 - this.tokens) / this.refillPerMs;
  }

  /** Empties the bucket and stops refilling until `until`: the vault starts slow after a pause. */
  drainUntil(until: number): void {
    this.tokens = 0;
    this.updatedAt = Math.max(this.updatedAt, until);
  }

  /** True when the bucket is full: forgetting it changes nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  private refill(now: number): void {
    if (now <= this.updatedAt) return;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs);
    this.updatedAt = now;
  }
}
