// The workloads a VaultSecret may restart, read and stamped through the Kubernetes API: a merge
// patch of one pod-template annotation, as `kubectl rollout restart` does (with a timestamp there,
// a data HMAC here). RBAC: get and patch on exactly these four resources.
import type { KubeConfig } from '@kubernetes/client-node';
import type { RolloutTarget } from '../api/vault-secret.ts';
import { isNotFound } from '../kube/api-errors.ts';
import { FIELD_MANAGER } from '../kube/secret-writer.ts';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';
import { RESTART_ANNOTATION } from './restart-stamp.ts';

export type WorkloadKind = RolloutTarget['kind'];

export interface Workload {
  /** A paused Deployment (or Rollout) does not roll; stamping it would only queue a restart. */
  readonly paused: boolean;
  /** The current `kvsync.io/restartedFor` on the pod template. */
  readonly stamp: string | undefined;
  /** Why kvsync cannot stamp it, if it cannot. */
  readonly unsupported?: string;
}

export interface WorkloadClient {
  /** Undefined when the workload does not exist. */
  read(
    namespace: string,
    target: RolloutTarget,
    signal?: AbortSignal,
  ): Promise<Workload | undefined>;
  stamp(
    namespace: string,
    target: RolloutTarget,
    value: string,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** What kvsync reads of the four kinds: only Deployments and Rollouts can be paused, and a Rollout
 * may take its pod template from a workloadRef. */
interface PodOwner {
  spec?: {
    paused?: boolean;
    workloadRef?: unknown;
    template?: { metadata?: { annotations?: Record<string, string> } };
  };
}

const RESOURCES: ReadonlyMap<WorkloadKind, { apiVersion: string; plural: string }> = new Map([
  ['Deployment', { apiVersion: 'apps/v1', plural: 'deployments' }],
  ['StatefulSet', { apiVersion: 'apps/v1', plural: 'statefulsets' }],
  ['DaemonSet', { apiVersion: 'apps/v1', plural: 'daemonsets' }],
  ['Rollout', { apiVersion: 'argoproj.io/v1alpha1', plural: 'rollouts' }],
]);

export function kubeWorkloadClient(kubeConfig: KubeConfig): WorkloadClient {
  const path = (namespace: string, { kind, name }: RolloutTarget): string =>
    `${collectionPath(RESOURCES.get(kind)!, namespace)}/${encodeURIComponent(name)}`;

  return {
    async read(namespace, target, signal) {
      let workload: PodOwner;
      try {
        workload = await kubeJson<PodOwner>(kubeConfig, path(namespace, target), { signal });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const spec = workload.spec;
      return {
        paused: spec?.paused === true,
        stamp: spec?.template?.metadata?.annotations?.[RESTART_ANNOTATION],
        ...(target.kind === 'Rollout' && spec?.workloadRef !== undefined
          ? {
              unsupported:
                'it takes its pod template from workloadRef; restart that workload instead',
            }
          : {}),
      };
    },

    async stamp(namespace, target, value, signal) {
      await kubeJson(kubeConfig, path(namespace, target), {
        method: 'PATCH',
        query: { fieldManager: FIELD_MANAGER },
        contentType: 'application/merge-patch+json',
        body: {
          spec: { template: { metadata: { annotations: { [RESTART_ANNOTATION]: value } } } },
        },
        signal,
      });
    },
  };
}
