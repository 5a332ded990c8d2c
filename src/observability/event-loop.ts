// How late the event loop runs, for /healthz. Answering at all proves the loop is alive; the
// delay says whether it stays responsive. A loop stalled for seconds (CPU-bound work, a sync call)
// delays every reconcile, lease renewal and probe, and a liveness probe that keeps failing lets
// the kubelet restart the pod.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopHealth {
  readonly healthy: boolean;
  /** Longest delay seen in the last full window, in ms. */
  readonly maxDelayMs: number;
}

export interface EventLoopMonitor {
  health(): EventLoopHealth;
  stop(): void;
}

export interface EventLoopMonitorOptions {
  /** Unhealthy when a window saw a delay longer than this. Default 5 s. */
  readonly maxDelayMs?: number;
  /** Default 10 s. */
  readonly windowMs?: number;
}

export function monitorEventLoop(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let lastWindowMaxMs = 0;
  const rollover = setInterval(() => {
    lastWindowMaxMs = histogram.max / 1e6;
    histogram.reset();
  }, options.windowMs ?? 10_000);
  rollover.unref();
  return {
    health() {
      // The current window counts too, so a stall is reported as soon as the loop is back.
      const observed = Math.max(lastWindowMaxMs, histogram.max / 1e6);
      return { healthy: observed <= maxDelayMs, maxDelayMs: Math.round(observed) };
    },
    stop() {
      clearInterval(rollover);
      histogram.disable();
    },
  };
}
