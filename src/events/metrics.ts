// Event metrics, registered on kvsync's registry. Labels are bounded: event types are Key Vault's
// own (plus `other` and `malformed`), drop reasons a fixed list; no object or vault names.
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';

export type DropReason = 'duplicate' | 'malformed' | 'unsupported' | 'dequeue-limit';

export interface EventMetrics {
  readonly received: Counter<'type'>;
  readonly processed: Counter<'type'>;
  readonly dropped: Counter<'type' | 'reason'>;
  /** VaultSecret reconciles asked for by events, after dedupe and debounce. */
  readonly enqueued: Counter;
  readonly eventToSecret: Histogram;
  readonly sourceUp: Gauge;
  readonly lag: Gauge;
  readonly lastReceive: Gauge;
  readonly receiveErrors: Counter;
  readonly sweepStretch: Gauge;
}

// Created once per registry: a replica that leads again builds a new manager on the same registry.
const byRegistry = new WeakMap<Registry, EventMetrics>();

export function eventMetrics(registry: Registry): EventMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: EventMetrics = {
    received: new Counter({
      name: 'kvsync_events_received_total',
      help: 'Key Vault events received from the event source, by event type',
      labelNames: ['type'] as const,
      registers,
    }),
    processed: new Counter({
      name: 'kvsync_events_processed_total',
      help: 'Key Vault events acted on (matching VaultSecrets enqueued), by event type',
      labelNames: ['type'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'kvsync_events_dropped_total',
      help: 'Events or messages not acted on, by event type and reason',
      labelNames: ['type', 'reason'] as const,
      registers,
    }),
    enqueued: new Counter({
      name: 'kvsync_event_reconciles_total',
      help: 'VaultSecret reconciles requested by events, after de-duplication and debounce',
      registers,
    }),
    eventToSecret: new Histogram({
      name: 'kvsync_event_to_secret_seconds',
      help: 'From a Key Vault event (its time, else its enqueue time) to the Secret holding the new data',
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300],
      registers,
    }),
    sourceUp: new Gauge({
      name: 'kvsync_event_source_up',
      help: '1 while the event source answers; 0 while it fails (sweeps then run at full rate)',
      registers,
    }),
    lag: new Gauge({
      name: 'kvsync_event_lag_seconds',
      help: 'Age of the oldest message in the last batch received (0 when the queue was empty)',
      registers,
    }),
    lastReceive: new Gauge({
      name: 'kvsync_event_source_last_receive_timestamp_seconds',
      help: 'When the event source last answered a receive',
      registers,
    }),
    receiveErrors: new Counter({
      name: 'kvsync_event_source_errors_total',
      help: 'Failed receives from the event source',
      registers,
    }),
    sweepStretch: new Gauge({
      name: 'kvsync_sweep_stretch_seconds',
      help: 'Minimum interval between rotation sweeps while events flow; 0 = sweeps at full rate',
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
