// Restart metrics, registered on kvsync's registry. Labels: workload kind and a fixed reason list.
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';

export type SkipReason =
  'first-sync' | 'drift-repair' | 'paused' | 'not-found' | 'unchanged' | 'unsupported';

export interface RolloutMetrics {
  readonly restarts: Counter<'kind'>;
  readonly skipped: Counter<'kind' | 'reason'>;
  readonly failures: Counter<'kind'>;
  readonly pending: Gauge;
}

const byRegistry = new WeakMap<Registry, RolloutMetrics>();

export function rolloutMetrics(registry: Registry): RolloutMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: RolloutMetrics = {
    restarts: new Counter({
      name: 'kvsync_rollout_restarts_total',
      help: 'Workloads restarted (pod template stamped) because synced data changed, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'kvsync_rollout_skipped_total',
      help: 'Restarts not made, by kind and reason (first sync, drift repair, paused, ...)',
      labelNames: ['kind', 'reason'] as const,
      registers,
    }),
    failures: new Counter({
      name: 'kvsync_rollout_failures_total',
      help: 'Failed attempts to read or stamp a workload; retried with backoff',
      labelNames: ['kind'] as const,
      registers,
    }),
    pending: new Gauge({
      name: 'kvsync_rollout_pending',
      help: 'Workloads with a restart waiting for its coalescing window or minimum interval',
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
