// The VaultSecret status goes through the /status subresource only, by server-side apply, so
// fields kvsync stops setting are removed and nothing else is touched.
import type { KubeConfig } from '@kubernetes/client-node';
import type { VaultSecretStatus } from '../api/vault-secret.ts';
import { apiVersion, kind, plural } from '../api/vault-secret.ts';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';
import { serverSideApply } from './secret-writer.ts';

export interface StatusWriter {
  /** `signal` aborts the request: nothing is sent once it is aborted. */
  write(
    namespace: string,
    name: string,
    status: VaultSecretStatus,
    signal: AbortSignal,
  ): Promise<void>;
}

export function kubeStatusWriter(kubeConfig: KubeConfig, onWrite?: () => void): StatusWriter {
  return {
    async write(namespace, name, status, signal) {
      onWrite?.();
      const path = `${collectionPath({ apiVersion, plural }, namespace)}/${encodeURIComponent(name)}/status`;
      await kubeJson(
        kubeConfig,
        path,
        serverSideApply({ apiVersion, kind, metadata: { name, namespace }, status }, signal),
      );
    },
  };
}
