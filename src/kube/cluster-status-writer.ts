// The ClusterVaultSecret status goes through the /status subresource only, by server-side apply.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterVaultSecretStatus } from '../api/cluster-vault-secret.ts';
import { clusterKind, clusterPlural } from '../api/cluster-vault-secret.ts';
import { apiVersion } from '../api/vault-secret.ts';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';
import { serverSideApply } from './secret-writer.ts';

export interface ClusterStatusWriter {
  write(name: string, status: ClusterVaultSecretStatus): Promise<void>;
}

export function kubeClusterStatusWriter(
  kubeConfig: KubeConfig,
  onWrite?: () => void,
): ClusterStatusWriter {
  return {
    async write(name, status) {
      onWrite?.();
      const path = `${collectionPath({ apiVersion, plural: clusterPlural })}/${encodeURIComponent(name)}/status`;
      await kubeJson(
        kubeConfig,
        path,
        serverSideApply({ apiVersion, kind: clusterKind, metadata: { name }, status }),
      );
    },
  };
}
