// Workload restarts, assembled for the manager from the Kubernetes clients.
import type { KubeConfig } from '@kubernetes/client-node';
import { targetSecretName } from '../api/vault-secret.ts';
import { isNotFound } from '../kube/api-errors.ts';
import { FIELD_MANAGER } from '../kube/secret-writer.ts';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../kube/events.ts';
import type { Timers } from '../runtime/timers.ts';
import { rolloutMetrics } from './metrics.ts';
import type { RestartKeyLocation } from './restart-key.ts';
import { restartKeyStore } from './restart-key.ts';
import { RESTART_PENDING_ANNOTATION } from './restart-stamp.ts';
import { RolloutRestarter, type PendingMarker } from './restarter.ts';
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
    marker: secretMarker(kubeConfig),
    ...(options.timers ? { timers: options.timers } : {}),
  });
}

/**
 * The restarts-owed marker as an annotation on the VaultSecret's Secret (a merge patch; a Secret
 * that is gone needs no marker). The Secret is where a new leader looks after every sync.
 */
function secretMarker(kubeConfig: KubeConfig): PendingMarker {
  const annotate = async (
    vaultSecret: Parameters<PendingMarker['set']>[0],
    value: string | null,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    const { namespace } = vaultSecret.metadata;
    const path = `${collectionPath({ apiVersion: 'v1', plural: 'secrets' }, namespace)}/${encodeURIComponent(targetSecretName(vaultSecret))}`;
    try {
      await kubeJson(kubeConfig, path, {
        method: 'PATCH',
        query: { fieldManager: FIELD_MANAGER },
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [RESTART_PENDING_ANNOTATION]: value } } },
        signal,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  };
  return {
    set: (vaultSecret, signal) => annotate(vaultSecret, 'true', signal),
    clear: (vaultSecret, signal) => annotate(vaultSecret, null, signal),
  };
}
