// Events users read with `kubectl describe vaultsecret`. Callers emit on transitions only, so
// there is no aggregation to do here. Messages never carry values.
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';

export interface EventTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
  };
}

export interface EventRecorder {
  /** `signal`, when given, aborts the request: nothing is sent once it is aborted. */
  emit(
    target: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    signal?: AbortSignal,
  ): void;
}

export function kubeEventRecorder(
  kubeConfig: KubeConfig,
  options: {
    component: string;
    instance: string;
    onError?: (error: unknown) => void;
    onWrite?: () => void;
  },
): EventRecorder {
  return {
    emit(target, type, reason, message, signal) {
      options.onWrite?.();
      const now = new Date().toISOString();
      const namespace = target.metadata.namespace ?? 'default';
      kubeJson(kubeConfig, collectionPath({ apiVersion: 'v1', plural: 'events' }, namespace), {
        method: 'POST',
        body: {
          metadata: {
            name: `${target.metadata.name}.${randomBytes(8).toString('hex')}`,
            namespace,
          },
          involvedObject: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            name: target.metadata.name,
            namespace,
            uid: target.metadata.uid,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: options.component },
          reportingComponent: options.component,
          reportingInstance: options.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
        signal,
      }).catch((error: unknown) => {
        if (!signal?.aborted) options.onError?.(error);
      });
    },
  };
}
