// ServiceAccounts are watched from the first failure of an identity that uses one (Entra ID
// refused it, or it is missing), never before: clusters without such failures, or without the RBAC
// for per-namespace identities, never list them. A change (annotations fixed, the ServiceAccount
// created, or touched after fixing its federated credential in Entra ID) ends the identity's pause
// and reconciles the VaultSecrets that use it at once.
import type { KubeConfig, V1ServiceAccount } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { VaultSecret } from '../api/vault-secret.ts';
import { informerStatusLogger } from '../observability/informer-log.ts';
import { kubeInformer, type Informer } from '../runtime/informer.ts';
import { objectKey, splitKey, type ReadonlyStore } from '../runtime/store.ts';
import type { IdentityResolver } from './types.ts';

export interface ServiceAccountWatchOptions {
  readonly kubeConfig: KubeConfig;
  /** Empty: all namespaces. */
  readonly namespaces: readonly string[];
  readonly identities: IdentityResolver;
  readonly vaultSecrets: ReadonlyStore<VaultSecret>;
  readonly enqueue: (key: string) => void;
  readonly log: Logger;
}

export function watchServiceAccountsOnTrouble(options: ServiceAccountWatchOptions): {
  stop(): Promise<void>;
} {
  const { identities, vaultSecrets, enqueue } = options;
  let informer: Informer<V1ServiceAccount> | undefined;
  let stopped = false;
  identities.onServiceAccountTrouble?.(() => {
    if (stopped || informer) return;
    const watching = kubeInformer<V1ServiceAccount>(
      options.kubeConfig,
      { apiVersion: 'v1', plural: 'serviceaccounts' },
      {
        namespaces: [...options.namespaces],
        onStatus: informerStatusLogger(options.log, 'serviceaccounts'),
      },
    );
    const using = (namespace: string, name: string) =>
      vaultSecrets
        .list()
        .filter(
          (vs) =>
            vs.metadata.namespace === namespace &&
            vs.spec.vault.identity?.serviceAccountName === name,
        );
    watching.onChange((key) => {
      // The first list reports every ServiceAccount; none of them changed.
      if (!watching.hasSynced()) return;
      const { namespace, name } = splitKey(key);
      if (namespace === undefined) return;
      identities.serviceAccountChanged?.(namespace, name);
      for (const vaultSecret of using(namespace, name)) enqueue(objectKey(vaultSecret));
    });
    // A ServiceAccount created while the first list ran was not reported as a change: the
    // VaultSecrets still failing on one that exists now look again.
    void watching.waitForSync().then(
      () => {
        for (const vaultSecret of vaultSecrets.list()) {
          const name = vaultSecret.spec.vault.identity?.serviceAccountName;
          const ready = vaultSecret.status?.conditions?.find((c) => c.type === 'Ready');
          if (name === undefined || ready?.status === 'True') continue;
          if (watching.store.get(`${vaultSecret.metadata.namespace}/${name}`)) {
            enqueue(objectKey(vaultSecret));
          }
        }
      },
      () => {},
    );
    informer = watching;
    watching.start();
  });
  return {
    async stop() {
      stopped = true;
      await informer?.stop();
    },
  };
}
