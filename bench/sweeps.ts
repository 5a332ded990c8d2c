// kvsync's rotation sweeps as the fake Key Vault sees them: a sweep is a run of list calls, one
// per page. It starts with a list call after a quiet spell and ends when its last page was
// answered. Counted in this process, so watching costs kvsync nothing.
import type { FakeKeyVault } from '../test/support/azure/index.ts';

export interface Sweep {
  /** performance.now() of the first page's answer (as seen by polling). */
  readonly startAt: number;
  /** When the last page was answered; undefined while running. */
  endAt: number | undefined;
}

export interface SweepTracker {
  readonly sweeps: readonly Sweep[];
  /** Sweeps that ended. */
  readonly completed: number;
  stop(): void;
}

const POLL_MS = 20;
/** Pages of one sweep follow each other within a request's latency; sweeps are far apart. */
const QUIET_MS = 1_000;

export function trackSweeps(keyVault: FakeKeyVault, vault: string, pages: number): SweepTracker {
  const sweeps: Sweep[] = [];
  const listed = () => keyVault.counters.calls({ vault, operation: 'listSecrets' });
  let seen = listed();
  let lastListAt = -Infinity;
  let pagesInSweep = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const count = listed();
    const added = count - seen;
    seen = count;
    if (added === 0) return;
    const current = sweeps.at(-1);
    if (!current || current.endAt !== undefined || now - lastListAt > QUIET_MS) {
      if (current && current.endAt === undefined) current.endAt = lastListAt; // cut short
      sweeps.push({ startAt: now, endAt: undefined });
      pagesInSweep = 0;
    }
    lastListAt = now;
    pagesInSweep += added;
    const running = sweeps.at(-1)!;
    if (pagesInSweep >= pages) running.endAt = now;
  }, POLL_MS);
  return {
    sweeps,
    get completed() {
      return sweeps.filter((s) => s.endAt !== undefined).length;
    },
    stop: () => clearInterval(timer),
  };
}
