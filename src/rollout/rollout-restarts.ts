// Workload restarts, assembled for the manager from the Kubernetes clients.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../kube/events.ts';
import type { Timers } from '../runtime/timers.ts';
import { rolloutMetrics } from './metrics.ts';
import type { RestartKeyLocation } from './restart-key.ts';
import { restartKeyStore } from './restart-key.ts';
import { RolloutRestarter } from './restarter.ts';
import { kubeWorkloadClient } from './workloads.ts';

export interface RolloutOptions {
  /** Where the HMAC key for restart stamps lives: kvsync's own namespace. */
  readonly keySecret: RestartKeyLocation;
  /** Between two restarts of one workload. Default 1 min. */
  readonly minIntervalMs?: number;
  /** After a change, wait this long for more before restarting. Default 10 s. */
  readonly settleMs?: number;
  readonly timers?: Timers;
}

export const defaultRolloutMinIntervalMs = 60_000;
const defaultSettleMs = 10_000;

export function createRolloutRestarter(
  kubeConfig: KubeConfig,
  options: RolloutOptions,
  deps: { log: Logger; registry: Registry; events: EventRecorder },
): RolloutRestarter {
  return new RolloutRestarter({
    workloads: kubeWorkloadClient(kubeConfig),
    stampKey: restartKeyStore(kubeConfig, options.keySecret),
    minIntervalMs: options.minIntervalMs ?? defaultRolloutMinIntervalMs,
    settleMs: options.settleMs ?? defaultSettleMs,
    metrics: rolloutMetrics(deps.registry),
    log: deps.log.child({ component: 'rollout' }),
    events: deps.events,
    ...(options.timers ? { timers: options.timers } : {}),
  });
}
