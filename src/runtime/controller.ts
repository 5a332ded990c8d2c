// N workers draining one work queue, after every cache they read has synced. The contract is
// controller-runtime's: a request is only a key; return `requeueAfterMs` to look again later,
// throw to retry with backoff, throw a TerminalError when retrying cannot help.

import { WorkQueue } from './workqueue.ts';
import { sleep, systemTimers, type Timers } from './timers.ts';

export interface ReconcileResult {
  /** Look at the key again after this long, even if nothing changes. */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Aborted by `abort()`, or when `stop()`'s deadline has passed. */
  signal: AbortSignal;
}

export type Reconciler = (
  key: string,
  context: ReconcileContext,
) => Promise<ReconcileResult | undefined | void>;

/** A failure that retrying will not fix (e.g. an invalid spec); the key is not requeued. */
export class TerminalError extends Error {
  override readonly name: string = 'TerminalError';
}

export type QueueAction =
  | { type: 'forget' }
  | { type: 'forget-and-requeue-after'; delayMs: number }
  | { type: 'retry-with-backoff' };

export type ReconcileOutcome =
  { result: ReconcileResult | undefined; error?: undefined } | { error: unknown };

/** The one place where a reconcile outcome becomes a queue action (kube-rs `error_policy`). */
export function errorPolicy(outcome: ReconcileOutcome): QueueAction {
  if ('error' in outcome && outcome.error !== undefined) {
    return outcome.error instanceof TerminalError
      ? { type: 'forget' }
      : { type: 'retry-with-backoff' };
  }
  const delayMs = 'result' in outcome ? outcome.result?.requeueAfterMs : undefined;
  return delayMs !== undefined && delayMs > 0
    ? { type: 'forget-and-requeue-after', delayMs }
    : { type: 'forget' };
}

/** Bounded label values for `reconcile_total{result}`. */
export type ReconcileResultLabel = 'success' | 'requeue_after' | 'error' | 'terminal_error';

export interface ReconcileEvent {
  key: string;
  result: ReconcileResultLabel;
  durationMs: number;
  error?: unknown;
  requeueAfterMs?: number;
  /** Consecutive failures of this key, counting this one when it failed. */
  retries: number;
}

export interface Syncable {
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface ControllerOptions {
  reconcile: Reconciler;
  /** Concurrent reconciles; one key is never reconciled twice at once. Default 4. */
  workers?: number;
  /** Caches the reconciler reads; workers start once all have synced. */
  waitFor?: Syncable[];
  queue?: WorkQueue;
  timers?: Timers;
  /** Called after every reconcile, for metrics and logs. Must not throw. */
  onReconcile?: (event: ReconcileEvent) => void;
}

export class Controller {
  readonly queue: WorkQueue;
  readonly #reconcile: Reconciler;
  readonly #workerCount: number;
  readonly #waitFor: Syncable[];
  readonly #timers: Timers;
  readonly #onReconcile: (event: ReconcileEvent) => void;
  /** Stops waiting for caches. */
  readonly #stopping = new AbortController();
  /** Aborts in-flight reconciles: at once (`abort()`), or once the stop deadline has passed. */
  readonly #cancelled = new AbortController();
  #workers: Array<Promise<void>> = [];
  #started = false;

  constructor(options: ControllerOptions) {
    this.#reconcile = options.reconcile;
    this.#workerCount = options.workers ?? 4;
    if (!Number.isInteger(this.#workerCount) || this.#workerCount < 1) {
      throw new RangeError(`workers must be a positive integer, got ${this.#workerCount}`);
    }
    this.#waitFor = options.waitFor ?? [];
    this.#timers = options.timers ?? systemTimers;
    this.queue = options.queue ?? new WorkQueue({ timers: this.#timers });
    this.#onReconcile = options.onReconcile ?? (() => {});
  }

  /** The reconciles' signal, for work they share (e.g. Key Vault reads of several reconciles). */
  get signal(): AbortSignal {
    return this.#cancelled.signal;
  }

  /**
   * Stops taking work and aborts in-flight reconciles now, without waiting for them: leadership
   * was lost, so nothing may be written any more.
   */
  abort(reason: Error): void {
    this.#stopping.abort(reason);
    this.#cancelled.abort(reason);
    this.queue.shutDown();
  }

  /** Queues `key` for reconciliation; use it as the informers' change handler. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Waits for the caches, then starts the workers. Resolves once they run, or without starting
   * them when `stop()` came first.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error('controller already started');
    this.#started = true;
    const signal = this.#stopping.signal;
    try {
      await Promise.all(this.#waitFor.map((cache) => cache.waitForSync(signal)));
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (signal.aborted) return;
    for (let i = 0; i < this.#workerCount; i++) this.#workers.push(this.#work());
  }

  /**
   * Stops taking work and waits up to `deadlineMs` for in-flight reconciles, whose signal is then
   * aborted. Resolves `true` when they all finished in time.
   */
  async stop(deadlineMs = 30_000): Promise<boolean> {
    this.#stopping.abort(new Error('controller stopping'));
    const drained = this.queue.shutDownWithDrain().then(() => true);
    const deadline = new AbortController();
    const timedOut = sleep(this.#timers, deadlineMs, deadline.signal).then(
      () => false,
      () => true,
    );
    const inTime = await Promise.race([drained, timedOut]);
    deadline.abort();
    if (!inTime) this.#cancelled.abort(new Error('controller stop deadline exceeded'));
    await Promise.all(this.#workers);
    return inTime;
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #process(key: string): Promise<void> {
    const startedAt = this.#timers.now();
    let outcome: ReconcileOutcome;
    try {
      const result = await this.#reconcile(key, { signal: this.#cancelled.signal });
      outcome = { result: result ?? undefined };
    } catch (error) {
      // A thrown non-error (or undefined) still counts as a failure.
      outcome = { error: error ?? new Error('reconcile threw undefined') };
    }
    const action = errorPolicy(outcome);
    this.#apply(key, action);
    this.#report(key, outcome, action, this.#timers.now() - startedAt);
  }

  #apply(key: string, action: QueueAction): void {
    switch (action.type) {
      case 'forget':
        this.queue.forget(key);
        return;
      case 'forget-and-requeue-after':
        this.queue.forget(key);
        this.queue.addAfter(key, action.delayMs);
        return;
      case 'retry-with-backoff':
        this.queue.addRateLimited(key);
        return;
    }
  }

  #report(key: string, outcome: ReconcileOutcome, action: QueueAction, durationMs: number): void {
    const event: ReconcileEvent = { key, result: 'success', durationMs, retries: 0 };
    if (outcome.error !== undefined) {
      event.error = outcome.error;
      event.result = action.type === 'retry-with-backoff' ? 'error' : 'terminal_error';
      event.retries = this.queue.retries(key);
    } else if (action.type === 'forget-and-requeue-after') {
      event.result = 'requeue_after';
      event.requeueAfterMs = action.delayMs;
    }
    try {
      this.#onReconcile(event);
    } catch {
      // A broken metrics or log hook must not stop the worker.
    }
  }
}
