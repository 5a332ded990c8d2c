// Watches kvsync's Secrets in a namespace for as long as a test runs and records every deletion and
// every blanking (no data) it sees, through API server restarts, etcd outages and 410 Gone: after
// any break it lists again and compares with what it knew, so a Secret deleted (or deleted and
// created again) while nobody could watch is caught too.
//
//   const guard = guardSecrets(kc, namespace, 'app.kubernetes.io/managed-by=kvsync');
//   ... faults ...
//   expect(await guard.check()).toEqual([]);   // lists once more, then reports
//   guard.stop();
import { CoreV1Api, Watch, type KubeConfig, type V1Secret } from '@kubernetes/client-node';

export interface SecretGuard {
  /** Lists the Secrets once more, compares, and returns every problem seen so far. */
  check(): Promise<string[]>;
  /** How many Secrets the guard knows. */
  readonly count: number;
  stop(): void;
}

/** Pause between a broken watch or failed list and the next list: the API server may be down. */
const RETRY_MS = 500;

export function guardSecrets(
  kc: KubeConfig,
  namespace: string,
  labelSelector: string,
): SecretGuard {
  const core = kc.makeApiClient(CoreV1Api);
  const known = new Map<string, string | undefined>();
  const problems: string[] = [];
  let stopped = false;
  let watching: AbortController | undefined;

  const see = (secret: V1Secret, how: string): void => {
    const name = secret.metadata?.name ?? '?';
    if (Object.keys(secret.data ?? {}).length === 0) problems.push(`${name} blanked (${how})`);
    known.set(name, secret.metadata?.uid);
  };

  /** Compares a full list with what was known; returns its resourceVersion. */
  const relist = async (): Promise<string | undefined> => {
    const list = await core.listNamespacedSecret({ namespace, labelSelector });
    const listed = new Map(list.items.map((s) => [s.metadata?.name ?? '?', s]));
    for (const [name, uid] of known) {
      const now = listed.get(name);
      if (!now) problems.push(`${name} deleted (missing from a list)`);
      else if (now.metadata?.uid !== uid) problems.push(`${name} deleted and created again`);
    }
    known.clear();
    for (const secret of list.items) see(secret, 'list');
    return list.metadata?.resourceVersion;
  };

  const watchOnce = async (resourceVersion: string | undefined): Promise<void> =>
    new Promise<void>((resolve) => {
      const onEvent = (phase: string, secret: V1Secret): void => {
        if (phase === 'ADDED' || phase === 'MODIFIED') see(secret, `watch ${phase}`);
        else if (phase === 'DELETED') {
          problems.push(`${secret.metadata?.name} deleted (watch)`);
          known.delete(secret.metadata?.name ?? '?');
        } else if (phase === 'ERROR') watching?.abort(); // e.g. 410 Gone: list again
      };
      new Watch(kc)
        .watch(
          `/api/v1/namespaces/${namespace}/secrets`,
          { labelSelector, resourceVersion, allowWatchBookmarks: true },
          onEvent,
          () => resolve(),
        )
        .then(
          (controller) => (watching = controller),
          () => resolve(),
        );
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      try {
        await watchOnce(await relist());
      } catch {
        // The API server is unreachable: list again shortly.
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  void run();

  return {
    async check() {
      await relist();
      return [...problems];
    },
    get count() {
      return known.size;
    },
    stop() {
      stopped = true;
      watching?.abort();
    },
  };
}
