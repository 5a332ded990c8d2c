// Key Vault events, assembled for the manager: the index the VaultSecret informer feeds, the
// router, and the receive loop, whose health decides how often the vault sweeps run: full rate
// while the source is down (or not yet up), stretched while events flow.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { VaultSecret } from '../api/vault-secret.ts';
import type { Timers } from '../runtime/timers.ts';
import type { EventSource } from './event-source.ts';
import { EventPump } from './event-pump.ts';
import { EventRouter } from './event-router.ts';
import { eventMetrics } from './metrics.ts';
import { VaultSecretIndex } from './vault-secret-index.ts';

export interface EventOptions {
  readonly source: EventSource;
  /** While events flow, rotation sweeps run at most this often (e.g. 30 min). */
  readonly stretchedSweepMs: number;
  /** Events for one VaultSecret within this window cause one reconcile. Default 1 s. */
  readonly debounceMs?: number;
  readonly maxDequeueCount?: number;
  readonly idlePollMs?: { readonly min: number; readonly max: number };
  readonly timers?: Timers;
}

export interface EventDeps {
  readonly pool: {
    invalidate(vaultHost: string, name: string): unknown;
    setSweepStretch(ms: number | undefined): void;
  };
  readonly enqueue: (vaultSecretKey: string) => void;
  /** A Kubernetes Event about kvsync itself (its Pod): the event source went down or recovered. */
  readonly report?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
  readonly log: Logger;
  readonly registry: Registry;
}

export interface EventProcessing {
  /** Start receiving; call once the VaultSecret cache is synced, so events find their users. */
  start(): void;
  vaultSecretChanged(key: string, vaultSecret: VaultSecret | undefined): void;
  /** The VaultSecret's Secret got new data (ends an event -> Secret latency measurement). */
  dataChanged(key: string): void;
  synced(key: string): void;
  stop(): Promise<void>;
}

export function createEventProcessing(options: EventOptions, deps: EventDeps): EventProcessing {
  const metrics = eventMetrics(deps.registry);
  const log = deps.log.child({ component: 'events' });
  const index = new VaultSecretIndex();
  const router = new EventRouter({
    index,
    invalidate: (vaultHost, name) => deps.pool.invalidate(vaultHost, name),
    enqueue: deps.enqueue,
    debounceMs: options.debounceMs ?? 1_000,
    metrics,
    ...(options.timers ? { timers: options.timers } : {}),
  });
  const setStretch = (ms: number | undefined): void => {
    deps.pool.setSweepStretch(ms);
    metrics.sweepStretch.set((ms ?? 0) / 1000);
  };
  const source = options.source.description;
  let down = false;
  const reportHealth = (up: boolean, error: string | undefined): void => {
    if (!up && error !== undefined) {
      down = true;
      deps.report?.(
        'Warning',
        'EventSourceDown',
        `Cannot receive Key Vault events from ${source}: ${error}. Rotation sweeps run at full rate until it recovers.`,
      );
    } else if (up && down) {
      down = false;
      deps.report?.(
        'Normal',
        'EventSourceUp',
        `Receiving Key Vault events from ${source} again; rotation sweeps stretched to ${options.stretchedSweepMs / 60_000} min.`,
      );
    }
  };
  const pump = new EventPump({
    source: options.source,
    route: (event, insertedOn) => {
      router.route(event, insertedOn);
    },
    onHealth: (up, error) => {
      setStretch(up ? options.stretchedSweepMs : undefined);
      reportHealth(up, error);
    },
    metrics,
    log,
    ...(options.maxDequeueCount !== undefined ? { maxDequeueCount: options.maxDequeueCount } : {}),
    ...(options.idlePollMs ? { idlePollMs: options.idlePollMs } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });
  setStretch(undefined);
  return {
    start: () => pump.start(),
    vaultSecretChanged(key, vaultSecret) {
      index.update(key, vaultSecret);
      if (!vaultSecret) router.forget(key);
    },
    dataChanged: (key) => router.dataChanged(key),
    synced: (key) => router.synced(key),
    async stop() {
      await pump.stop();
      router.stop();
      setStretch(undefined);
    },
  };
}
