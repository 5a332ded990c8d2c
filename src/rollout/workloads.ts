// The workloads a VaultSecret may restart, read and stamped through the Kubernetes API: a merge
// patch of one pod-template annotation, as `kubectl rollout restart` does (with a timestamp there,
// a data HMAC here). RBAC: get and patch on exactly these four resources.
import type { KubeConfig, V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import {
  AppsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { RolloutTarget } from '../api/vault-secret.ts';
import { isNotFound } from '../kube/api-errors.ts';
import { FIELD_MANAGER } from '../kube/secret-writer.ts';
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

const argo = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };

export function kubeWorkloadClient(kubeConfig: KubeConfig): WorkloadClient {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  const readApps = async (
    kind: WorkloadKind,
    namespace: string,
    name: string,
  ): Promise<Workload> => {
    const stampOf = (workload: PodOwner) =>
      workload.spec?.template.metadata?.annotations?.[RESTART_ANNOTATION];
    switch (kind) {
      case 'Deployment': {
        const deployment = await apps.readNamespacedDeployment({ namespace, name });
        return { paused: deployment.spec?.paused === true, stamp: stampOf(deployment) };
      }
      case 'StatefulSet':
        return {
          paused: false,
          stamp: stampOf(await apps.readNamespacedStatefulSet({ namespace, name })),
        };
      default:
        return {
          paused: false,
          stamp: stampOf(await apps.readNamespacedDaemonSet({ namespace, name })),
        };
    }
  };

  return {
    async read(namespace, { kind, name }) {
      try {
        if (kind === 'Rollout') {
          const rollout = (await custom.getNamespacedCustomObject({
            ...argo,
            namespace,
            name,
          })) as ArgoRollout;
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
      const request = { namespace, name, body, fieldManager: FIELD_MANAGER };
      switch (kind) {
        case 'Deployment':
          await apps.patchNamespacedDeployment(request, mergePatch);
          return;
        case 'StatefulSet':
          await apps.patchNamespacedStatefulSet(request, mergePatch);
          return;
        case 'DaemonSet':
          await apps.patchNamespacedDaemonSet(request, mergePatch);
          return;
        case 'Rollout':
          await custom.patchNamespacedCustomObject({ ...argo, ...request }, mergePatch);
          return;
      }
    },
  };
}
