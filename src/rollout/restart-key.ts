// The per-installation HMAC key behind restart stamps, in a Secret in kvsync's own namespace that
// only kvsync reads. Created on first use (32 random bytes); a replica that loses the race to
// create it reads the winner's. It must outlive pods: a key that changed on restart would make
// every stamp differ and could not tell "already restarted for this data" any more.
import { randomBytes } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../kube/api-errors.ts';
import { collectionPath, kubeJson } from '../runtime/kube-http.ts';

export interface RestartKeyLocation {
  readonly namespace: string;
  readonly name: string;
}

const dataKey = 'key';
const minimumKeyBytes = 32;

export function restartKeyStore(
  kubeConfig: KubeConfig,
  location: RestartKeyLocation,
): () => Promise<Buffer> {
  const secrets = collectionPath({ apiVersion: 'v1', plural: 'secrets' }, location.namespace);
  let loaded: Promise<Buffer> | undefined;

  const read = async (): Promise<Buffer | undefined> => {
    try {
      const path = `${secrets}/${encodeURIComponent(location.name)}`;
      const secret = await kubeJson<V1Secret>(kubeConfig, path);
      const key = Buffer.from(secret.data?.[dataKey] ?? '', 'base64');
      if (key.length < minimumKeyBytes) {
        throw new Error(
          `Secret ${location.namespace}/${location.name} has no ${dataKey} of at least ${minimumKeyBytes} bytes; delete it and kvsync makes a new one`,
        );
      }
      return key;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const load = async (): Promise<Buffer> => {
    const existing = await read();
    if (existing) return existing;
    const key = randomBytes(minimumKeyBytes);
    try {
      await kubeJson(kubeConfig, secrets, {
        method: 'POST',
        body: {
          metadata: {
            name: location.name,
            namespace: location.namespace,
            labels: { 'app.kubernetes.io/part-of': 'kvsync' },
            annotations: {
              'kvsync.io/purpose': 'HMAC key for kvsync.io/restartedFor pod-template stamps',
            },
          },
          type: 'Opaque',
          data: { [dataKey]: key.toString('base64') },
        },
      });
      return key;
    } catch (error) {
      if (!isConflict(error)) throw error;
      const winner = await read();
      if (!winner) throw error;
      return winner;
    }
  };

  return () => {
    // A failed load is retried on the next call rather than cached.
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}
