// Writes to Secrets, always as field manager "kvsync". Reads for decisions come from the
// informer cache; the one direct read is for a Secret kvsync does not (yet) manage.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { isNotFound } from './api-errors.ts';

export const FIELD_MANAGER = 'kvsync';

export interface SecretWriter {
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
  create(secret: V1Secret): Promise<void>;
  replace(secret: V1Secret): Promise<void>;
  /** Server-side apply of kvsync's fields only (Merge), taking them over from other managers. */
  apply(secret: V1Secret): Promise<void>;
}

export function kubeSecretWriter(
  kubeConfig: KubeConfig,
  onWrite?: (verb: string) => void,
): SecretWriter {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const counted = (verb: string) => onWrite?.(verb);
  return {
    async read(namespace, name) {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(secret) {
      counted('create');
      await core.createNamespacedSecret({
        namespace: secret.metadata!.namespace!,
        body: secret,
        fieldManager: FIELD_MANAGER,
      });
    },
    async replace(secret) {
      counted('update');
      await core.replaceNamespacedSecret({
        namespace: secret.metadata!.namespace!,
        name: secret.metadata!.name!,
        body: secret,
        fieldManager: FIELD_MANAGER,
      });
    },
    async apply(secret) {
      counted('apply');
      await core.patchNamespacedSecret(
        {
          namespace: secret.metadata!.namespace!,
          name: secret.metadata!.name!,
          body: secret,
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    },
  };
}
