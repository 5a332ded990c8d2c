// The workloads a VaultSecret may restart, read and stamped through the Kubernetes API: a merge
// patch of one pod-template annotation, as `kubectl rollout restart` does (with a timestamp there,
// a data HMAC here). RBAC: get and patch on exactly these four resources.
import type { KubeConfig, V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
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
  read(namespace: string, target: RolloutTarget): Promise<Workload | undefined>;
  stamp(namespace: string, target: RolloutTarget, value: string): Promise<void>;
}

type PodOwner = V1Deployment | V1StatefulSet | V1DaemonSet;

interface ArgoRollout {
  spec?: {
    paused?: boolean;
    workloadRef?: unknown;
    template?: { metadata?: { annotations?: Record<string, string> } };
  };
}

/** Where each kind lives in the API; Argo Rollouts are custom objects. */
const resources: Record<WorkloadKind, { apiVersion: string; plural: string }> = {
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments' },
  StatefulSet: { apiVersion: 'apps/v1', plural: 'statefulsets' },
  DaemonSet: { apiVersion: 'apps/v1', plural: 'daemonsets' },
  Rollout: { apiVersion: 'argoproj.io/v1alpha1', plural: 'rollouts' },
};

/** Through kvsync's pooled client (kube-http.ts); the generated API clients are not loaded. */
export function kubeWorkloadClient(kubeConfig: KubeConfig): WorkloadClient {
  const path = (kind: WorkloadKind, namespace: string, name: string) =>
    `${collectionPath(resources[kind], namespace)}/${encodeURIComponent(name)}`;

  const readApps = async (
    kind: WorkloadKind,
    namespace: string,
    name: string,
  ): Promise<Workload> => {
    const workload = await kubeJson<PodOwner>(kubeConfig, path(kind, namespace, name));
    const stamp = workload.spec?.template.metadata?.annotations?.[RESTART_ANNOTATION];
    const paused =
      kind === 'Deployment' && (workload as { spec?: { paused?: boolean } }).spec?.paused === true;
    return { paused, stamp };
  };

  return {
    async read(namespace, { kind, name }) {
      try {
        if (kind === 'Rollout') {
          const rollout = await kubeJson<ArgoRollout>(kubeConfig, path(kind, namespace, name));
          return {
            paused: rollout.spec?.paused === true,
            stamp: rollout.spec?.template?.metadata?.annotations?.[RESTART_ANNOTATION],
            ...(rollout.spec?.workloadRef !== undefined
              ? {
                  unsupported:
                    'it takes its pod template from workloadRef; restart that workload instead',
                }
              : {}),
          };
        }
        return await readApps(kind, namespace, name);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async stamp(namespace, { kind, name }, value) {
      const body = {
        spec: { template: { metadata: { annotations: { [RESTART_ANNOTATION]: value } } } },
      };
      await kubeJson(kubeConfig, path(kind, namespace, name), {
        method: 'PATCH',
        query: { fieldManager: FIELD_MANAGER },
        body,
        contentType: 'application/merge-patch+json',
      });
    },
  };
}
