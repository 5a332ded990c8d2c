// Clock and timers are injected so queues, informers and leader election run under vitest fake
// timers. The defaults look the globals up at call time, so timers faked after import still apply.

/** Opaque; `undefined` may be passed to clearTimeout. */
export type TimerHandle = unknown;

export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Node's setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = timers.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(Math.max(ms, 0), MAX_TIMER_MS),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `base` scaled by a random factor in [1 - factor, 1 + factor). */
export function jittered(base: number, factor: number, random: () => number): number {
  return base * (1 - factor + 2 * factor * random());
}
