// kvsync's rotation sweeps as the fake Key Vault sees them: a sweep lists every page of the vault,
// one list call per page, so sweep k is list calls k·pages+1 .. (k+1)·pages. Counted in this
// process (polling the double's counters), so watching costs kvsync nothing. A sweep that fails
// part way (429, 5xx) starts again from the first page and would shift the count; such failures
// show in the run's 429 and error counts.
import type { FakeKeyVault } from '../test/support/azure/index.ts';

export interface Sweep {
  /** performance.now() when its first page was seen answered (polled every 20 ms). */
  readonly startAt: number;
  /** When its last page was seen answered; undefined while running. */
  endAt: number | undefined;
}

export interface SweepTracker {
  readonly sweeps: readonly Sweep[];
  /** Sweeps that ended. */
  readonly completed: number;
  stop(): void;
}

const POLL_MS = 20;

export function trackSweeps(keyVault: FakeKeyVault, vault: string, pages: number): SweepTracker {
  const sweeps: Sweep[] = [];
  const listed = () => keyVault.counters.calls({ vault, operation: 'listSecrets' });
  const baseline = listed();
  let completed = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const calls = listed() - baseline;
    // Sweeps that started (a partly answered one included) and sweeps whose last page arrived.
    const started = Math.ceil(calls / pages);
    const ended = Math.floor(calls / pages);
    while (sweeps.length < started) sweeps.push({ startAt: now, endAt: undefined });
    for (; completed < ended; completed++) sweeps[completed]!.endAt = now;
  }, POLL_MS);
  return {
    sweeps,
    get completed() {
      return completed;
    },
    stop: () => clearInterval(timer),
  };
}
