// Creating thousands of VaultSecrets quickly: a fixed number of requests in flight over one
// reused connection pool (kvsync's own kubeJson; client-node opens a new pool per request).
// client-node has no client-side rate limit, so only the API server's priority and fairness
// can slow us down; its 429s are retried and counted.
import type { KubeConfig } from '@kubernetes/client-node';
import type { VaultSecretSpec } from '../src/api/vault-secret.ts';
import { apiVersion, kind, plural } from '../src/api/vault-secret.ts';
import { collectionPath, kubeJson, KubeApiError } from '../src/runtime/kube-http.ts';

export interface Creation {
  readonly count: number;
  readonly ms: number;
  /** 429 and 5xx answers that were retried. */
  readonly retries: number;
}

const MAX_ATTEMPTS = 8;

export async function createVaultSecrets(
  kc: KubeConfig,
  namespace: string,
  items: readonly { name: string; spec: VaultSecretSpec }[],
  concurrency: number,
): Promise<Creation> {
  const path = collectionPath({ apiVersion, plural }, namespace);
  let retries = 0;
  const started = performance.now();
  await forEachConcurrently(items, concurrency, async ({ name, spec }) => {
    const body = { apiVersion, kind, metadata: { name, namespace }, spec };
    for (let attempt = 1; ; attempt++) {
      try {
        await kubeJson(kc, path, { method: 'POST', body });
        return;
      } catch (error) {
        const retriable =
          error instanceof KubeApiError && (error.statusCode === 429 || error.statusCode >= 500);
        if (!retriable || attempt === MAX_ATTEMPTS) throw error;
        retries += 1;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  });
  return { count: items.length, ms: performance.now() - started, retries };
}

/** Runs `fn` over `items` with at most `concurrency` calls pending; the first error rejects. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
