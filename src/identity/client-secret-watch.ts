// kvsync's Secret informer sees only the Secrets it writes (DESIGN §4), so a clientSecretRef
// Secret is not watched while its identity works. Once Entra ID refuses one, that Secret alone is
// watched (a field selector on its name, in its namespace) until the identity works again or the
// Secret changes: fixing it ends the pause and reconciles the VaultSecrets that use it at once.
// One watch per refused Secret, not per namespace: a namespace watch would cache every Secret of
// the namespace; this caches only that Secret, and not its value (a digest of its data tells a
// change, see secret-digest.ts).
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { claimedClusterOwner } from '../api/cluster-vault-secret.ts';
import type { VaultSecret } from '../api/vault-secret.ts';
import { secretsWithoutValues, type DigestedSecret } from '../kube/secret-digest.ts';
import { informerStatusLogger } from '../observability/informer-log.ts';
import type { Informer } from '../runtime/informer.ts';
import { objectKey, type ReadonlyStore } from '../runtime/store.ts';
import type { IdentityResolver, ObjectRef } from './types.ts';

export interface ClientSecretWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly identities: IdentityResolver;
  readonly vaultSecrets: ReadonlyStore<VaultSecret>;
  readonly enqueue: (key: string) => void;
  readonly log: Logger;
}

export function watchRefusedClientSecrets(options: ClientSecretWatchOptions): {
  stop(): Promise<void>;
} {
  const { identities, vaultSecrets, enqueue, log } = options;
  const watches = new Map<string, Informer<V1Secret, DigestedSecret>>();
  let stopped = false;

  // A ClusterVaultSecret's VaultSecrets name a Secret in kvsync's namespace: a claimed owner is
  // enough here, since an extra reconcile costs little.
  const using = ({ namespace, name }: ObjectRef) =>
    vaultSecrets
      .list()
      .filter(
        (vs) =>
          vs.spec.vault.identity?.clientSecretRef?.name === name &&
          (vs.metadata.namespace === namespace || claimedClusterOwner(vs) !== undefined),
      );

  const watch = (secret: ObjectRef): Informer<V1Secret, DigestedSecret> => {
    const watching = secretsWithoutValues(options.kubeConfig, {
      namespaces: [secret.namespace],
      fieldSelector: `metadata.name=${secret.name}`,
      onStatus: informerStatusLogger(log, 'secrets (clientSecretRef)'),
    });
    watching.onChange(() => {
      // The first list reports the Secret as it was refused; it did not change.
      if (!watching.hasSynced()) return;
      identities.clientSecretChanged?.(secret.namespace, secret.name);
      for (const vaultSecret of using(secret)) enqueue(objectKey(vaultSecret));
    });
    // A Secret fixed between the refusal and the first list: its VaultSecrets look again (a paused
    // identity with unchanged content stays paused, so this costs no token request).
    void watching.waitForSync().then(
      () => {
        for (const vaultSecret of using(secret)) enqueue(objectKey(vaultSecret));
      },
      () => {},
    );
    watching.start();
    return watching;
  };

  identities.onRefusedClientSecrets?.((secrets) => {
    if (stopped) return;
    const wanted = new Map(secrets.map((secret) => [`${secret.namespace}/${secret.name}`, secret]));
    for (const [key, watching] of watches) {
      if (wanted.has(key)) continue;
      watches.delete(key);
      void watching.stop();
    }
    for (const [key, secret] of wanted) {
      if (!watches.has(key)) watches.set(key, watch(secret));
    }
  });

  return {
    async stop() {
      stopped = true;
      const stopping = [...watches.values()].map((watching) => watching.stop());
      watches.clear();
      await Promise.all(stopping);
    },
  };
}
