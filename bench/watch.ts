// Watches one namespace's VaultSecrets and Secrets the way a controller would (list, then watch),
// so the benchmark learns when each VaultSecret became Ready and when each Secret's data changed
// without polling thousands of objects. Only hashes of Secret data are kept, never the data.
import { createHash } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Secret,
} from '@kubernetes/client-node';
import type { VaultSecret } from '../src/api/vault-secret.ts';
import { group, plural, version } from '../src/api/vault-secret.ts';

export interface NamespaceWatch {
  /** VaultSecrets whose Ready is True for their current generation. */
  readonly readyCount: number;
  /** VaultSecret name -> when it was first seen Ready (performance.now() clock). */
  readonly firstReadyAt: ReadonlyMap<string, number>;
  /** VaultSecret name -> its Ready reason, as last seen. */
  readonly reasons: ReadonlyMap<string, string>;
  /** VaultSecrets seen with Reconciling=True (kvsync's progress status for a slow first sync). */
  readonly progressCount: number;
  /** Secret name -> when its data first changed after the last markSecrets(). */
  readonly changedAt: ReadonlyMap<string, number>;
  /** Forget recorded changes; later data changes are recorded again. */
  markSecrets(): void;
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1_000;

export async function watchNamespace(kc: KubeConfig, namespace: string): Promise<NamespaceWatch> {
  const firstReadyAt = new Map<string, number>();
  const ready = new Set<string>();
  const reasons = new Map<string, string>();
  const progressing = new Set<string>();
  const hashes = new Map<string, string>();
  const changedAt = new Map<string, number>();

  const objects = kc.makeApiClient(CustomObjectsApi);
  const vaultSecrets = makeInformer<VaultSecret & KubernetesObject>(
    kc,
    `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
    async () =>
      (await objects.listNamespacedCustomObject({ group, version, namespace, plural })) as never,
  );
  const onVaultSecret = (vs: VaultSecret): void => {
    const name = vs.metadata.name;
    const condition = vs.status?.conditions?.find((c) => c.type === 'Ready');
    if (condition?.reason) reasons.set(name, condition.reason);
    const reconciling = vs.status?.conditions?.find((c) => c.type === 'Reconciling');
    if (reconciling?.status === 'True') progressing.add(name);
    const isReady =
      condition?.status === 'True' && vs.status?.observedGeneration === vs.metadata.generation;
    if (isReady) {
      ready.add(name);
      if (!firstReadyAt.has(name)) firstReadyAt.set(name, performance.now());
    } else {
      ready.delete(name);
    }
  };
  vaultSecrets.on('add', onVaultSecret);
  vaultSecrets.on('update', onVaultSecret);
  vaultSecrets.on('delete', (vs) => ready.delete(vs.metadata.name));

  const core = kc.makeApiClient(CoreV1Api);
  const secrets = makeInformer<V1Secret>(kc, `/api/v1/namespaces/${namespace}/secrets`, () =>
    core.listNamespacedSecret({ namespace }),
  );
  const onSecret = (secret: V1Secret): void => {
    const name = secret.metadata?.name;
    if (!name) return;
    const hash = dataHash(secret.data);
    const previous = hashes.get(name);
    hashes.set(name, hash);
    if (previous !== undefined && previous !== hash && !changedAt.has(name)) {
      changedAt.set(name, performance.now());
    }
  };
  secrets.on('add', onSecret);
  secrets.on('update', onSecret);

  const informers: (Informer<never> & ObjectCache<never>)[] = [
    vaultSecrets as never,
    secrets as never,
  ];
  let stopped = false;
  for (const informer of informers) {
    // client-node's informer stops on a watch error other than 410; start it again.
    informer.on('error', () => {
      if (!stopped) setTimeout(() => void informer.start().catch(() => {}), RESTART_DELAY_MS);
    });
  }
  await Promise.all(informers.map((informer) => informer.start()));

  return {
    get readyCount() {
      return ready.size;
    },
    firstReadyAt,
    reasons,
    get progressCount() {
      return progressing.size;
    },
    changedAt,
    markSecrets: () => changedAt.clear(),
    async stop() {
      stopped = true;
      await Promise.all(informers.map((informer) => informer.stop()));
    },
  };
}

function dataHash(data: Record<string, string> | undefined): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data ?? {}).sort()) hash.update(`${key}=${data?.[key]}\n`);
  return hash.digest('hex');
}
