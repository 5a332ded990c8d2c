// The VaultSecret status goes through the /status subresource only, by server-side apply, so
// fields kvsync stops setting are removed and nothing else is touched.
import type { KubeConfig } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { VaultSecretStatus } from '../api/vault-secret.ts';
import { apiVersion, group, kind, plural, version } from '../api/vault-secret.ts';
import { FIELD_MANAGER } from './secret-writer.ts';

export interface StatusWriter {
  write(namespace: string, name: string, status: VaultSecretStatus): Promise<void>;
}

export function kubeStatusWriter(kubeConfig: KubeConfig, onWrite?: () => void): StatusWriter {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async write(namespace, name, status) {
      onWrite?.();
      await api.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          namespace,
          plural,
          name,
          body: { apiVersion, kind, metadata: { name, namespace }, status },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    },
  };
}
