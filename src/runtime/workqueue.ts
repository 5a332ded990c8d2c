// A keyed work queue with client-go's guarantees, which reconcilers rely on:
// - a key waits in the queue at most once, however often it is added (dedupe);
// - a key is handed to one worker at a time; added while in flight, it runs again after `done`;
// - delayed adds keep the earliest time (kube-rs scheduler), and any earlier run supersedes them,
//   because that run's own result decides the next requeue.

import { ExponentialRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { MAX_TIMER_MS, systemTimers, type TimerHandle, type Timers } from './timers.ts';

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  timers?: Timers;
}

interface Delayed {
  readyAt: number;
  handle: TimerHandle;
}

export class WorkQueue {
  readonly #rateLimiter: RateLimiter;
  readonly #timers: Timers;
  /** Keys waiting for a worker, in order. */
  #ready: string[] = [];
  /** Keys that need a run: those in #ready, and those in flight that were added again. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  #getters: Array<(key: string | undefined) => void> = [];
  #drainers: Array<() => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#rateLimiter = options.rateLimiter ?? new ExponentialRateLimiter();
    this.#timers = options.timers ?? systemTimers;
  }

  /** Keys waiting for a worker (not counting delayed or in-flight keys). */
  get depth(): number {
    return this.#ready.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#cancelDelayed(key);
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // re-queued by done()
    this.#ready.push(key);
    this.#dispatch();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    if (this.#dirty.has(key)) return; // a run is already due sooner
    const readyAt = this.#timers.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    this.#cancelDelayed(key);
    this.#arm(key, readyAt);
  }

  /** Re-adds `key` after its backoff, which doubles with each failure since the last `forget`. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets `key`'s backoff; call it when the key was processed successfully. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  retries(key: string): number {
    return this.#rateLimiter.retries(key);
  }

  /**
   * The next key to process, waiting for one if needed; `undefined` once the queue shuts down.
   * The caller owns the key until it calls `done(key)`.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#shuttingDown) {
      if (this.#processing.size === 0) this.#resolveDrainers();
      return;
    }
    if (this.#dirty.has(key)) {
      this.#ready.push(key);
      this.#dispatch();
    }
  }

  /** Stops handing out keys at once; pending and delayed keys are dropped. */
  shutDown(): void {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      for (const { handle } of this.#delayed.values()) this.#timers.clearTimeout(handle);
      this.#delayed.clear();
      this.#ready = [];
      this.#dirty.clear();
      const getters = this.#getters;
      this.#getters = [];
      for (const resolve of getters) resolve(undefined);
    }
    if (this.#processing.size === 0) this.#resolveDrainers();
  }

  /** Shuts down, then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.#drainers.push(resolve));
    this.shutDown();
    return drained;
  }

  #take(): string | undefined {
    const key = this.#ready.shift();
    if (key === undefined) return undefined;
    this.#dirty.delete(key);
    this.#processing.add(key);
    return key;
  }

  #dispatch(): void {
    while (this.#getters.length > 0 && this.#ready.length > 0) {
      const key = this.#take();
      const resolve = this.#getters.shift();
      if (key !== undefined && resolve) resolve(key);
    }
  }

  #arm(key: string, readyAt: number): void {
    const delay = Math.min(Math.max(readyAt - this.#timers.now(), 0), MAX_TIMER_MS);
    const handle = this.#timers.setTimeout(() => {
      this.#delayed.delete(key);
      // Delays beyond the timer limit are reached in several hops.
      if (this.#timers.now() < readyAt) this.#arm(key, readyAt);
      else this.add(key);
    }, delay);
    this.#delayed.set(key, { readyAt, handle });
  }

  #cancelDelayed(key: string): void {
    const delayed = this.#delayed.get(key);
    if (!delayed) return;
    this.#timers.clearTimeout(delayed.handle);
    this.#delayed.delete(key);
  }

  #resolveDrainers(): void {
    const drainers = this.#drainers;
    this.#drainers = [];
    for (const resolve of drainers) resolve();
  }
}
