// Writes to VaultSecrets themselves, which kvsync does only for those a ClusterVaultSecret keeps:
// server-side apply as field manager "kvsync", and deletion guarded by the uid kvsync saw, so a
// VaultSecret someone else created in the meantime under that name is never deleted.
import type { KubeConfig } from '@kubernetes/client-node';
import type { VaultSecret } from '../api/vault-secret.ts';
import { apiVersion, plural } from '../api/vault-secret.ts';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';
import { isConflict, isNotFound } from './api-errors.ts';
import { serverSideApply } from './secret-writer.ts';

export interface VaultSecretWriter {
  apply(vaultSecret: VaultSecret): Promise<void>;
  /** Deletes the VaultSecret if it still has this uid; absent or replaced is not an error. */
  delete(namespace: string, name: string, uid: string): Promise<void>;
}

const path = (namespace: string, name: string) =>
  `${collectionPath({ apiVersion, plural }, namespace)}/${encodeURIComponent(name)}`;

export function kubeVaultSecretWriter(
  kubeConfig: KubeConfig,
  onWrite?: (verb: 'apply' | 'delete') => void,
): VaultSecretWriter {
  return {
    async apply(vaultSecret) {
      onWrite?.('apply');
      await kubeJson(
        kubeConfig,
        path(vaultSecret.metadata.namespace, vaultSecret.metadata.name),
        serverSideApply(vaultSecret),
      );
    },
    async delete(namespace, name, uid) {
      onWrite?.('delete');
      try {
        await kubeJson(kubeConfig, path(namespace, name), {
          method: 'DELETE',
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: 'Background',
            preconditions: { uid },
          },
        });
      } catch (error) {
        // 409: the uid precondition failed, the name now belongs to another VaultSecret.
        if (isNotFound(error) || isConflict(error)) return;
        throw error;
      }
    },
  };
}
