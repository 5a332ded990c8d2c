// Writes to Secrets, always as field manager "kvsync". Reads for decisions come from the
// informer cache; the one direct read is for a Secret kvsync does not (yet) manage. Requests go
// through one connection pool per KubeConfig (client-node's generated clients open a new TLS
// connection per request, which at thousands of writes costs CPU and memory).
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { collectionPath, kubeJson, type KubeRequest } from '../runtime/kube-http.ts';
import type { OwnWrites } from '../runtime/own-writes.ts';
import { isNotFound } from './api-errors.ts';

export const FIELD_MANAGER = 'kvsync';
const APPLY_PATCH = 'application/apply-patch+yaml';

/** A server-side apply of `body` as field manager "kvsync", taking its fields over from others. */
export function serverSideApply(body: unknown, signal?: AbortSignal): KubeRequest {
  return {
    method: 'PATCH',
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: APPLY_PATCH,
    body,
    ...(signal ? { signal } : {}),
  };
}

/** `signal` aborts the request: nothing is sent once it is aborted. */
export interface SecretWriter {
  read(namespace: string, name: string, signal: AbortSignal): Promise<V1Secret | undefined>;
  create(secret: V1Secret, signal: AbortSignal): Promise<void>;
  replace(secret: V1Secret, signal: AbortSignal): Promise<void>;
  /** Server-side apply of kvsync's fields only (Merge), taking them over from other managers. */
  apply(secret: V1Secret, signal: AbortSignal): Promise<void>;
}

const secrets = (namespace: string) =>
  collectionPath({ apiVersion: 'v1', plural: 'secrets' }, namespace);
const secretPath = (secret: V1Secret) =>
  `${secrets(secret.metadata!.namespace!)}/${encodeURIComponent(secret.metadata!.name!)}`;

/** `ownWrites` learns each write's resourceVersion, so its watch echo is known as kvsync's. */
export function kubeSecretWriter(
  kubeConfig: KubeConfig,
  onWrite?: (verb: string) => void,
  ownWrites?: OwnWrites,
): SecretWriter {
  const write = (secret: V1Secret, path: string, request: KubeRequest): Promise<unknown> => {
    const send = () => kubeJson<V1Secret>(kubeConfig, path, request);
    if (!ownWrites) return send();
    const key = `${secret.metadata!.namespace!}/${secret.metadata!.name!}`;
    return ownWrites.track(key, send, (written) => written.metadata?.resourceVersion);
  };
  return {
    async read(namespace, name, signal) {
      try {
        return await kubeJson<V1Secret>(
          kubeConfig,
          `${secrets(namespace)}/${encodeURIComponent(name)}`,
          { signal },
        );
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(secret, signal) {
      onWrite?.('create');
      await write(secret, secrets(secret.metadata!.namespace!), {
        method: 'POST',
        query: { fieldManager: FIELD_MANAGER },
        body: secret,
        signal,
      });
    },
    async replace(secret, signal) {
      onWrite?.('update');
      await write(secret, secretPath(secret), {
        method: 'PUT',
        query: { fieldManager: FIELD_MANAGER },
        body: secret,
        signal,
      });
    },
    async apply(secret, signal) {
      onWrite?.('apply');
      await write(secret, secretPath(secret), serverSideApply(secret, signal));
    },
  };
}
