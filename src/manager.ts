// Wires one running kvsync: informers for VaultSecrets and kvsync's own Secrets, the work queue
// and workers, the vault pool with its sweeps, and the reconciler. Used by main.ts and by tests,
// which run several managers in one process, each on its own namespaces.
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { VaultSecret } from './api/vault-secret.ts';
import { apiVersion, forceSyncValue, plural, targetSecretName } from './api/vault-secret.ts';
import { clusterVaultSecretController } from './controllers/cluster-vault-secret/controller.ts';
import { managedSecretsInformer } from './controllers/vault-secret/managed-secrets.ts';
import { InvalidSpecError } from './controllers/vault-secret/plan.ts';
import { VaultSecretReconciler } from './controllers/vault-secret/reconciler.ts';
import type { EventOptions } from './events/event-processing.ts';
import { createEventProcessing } from './events/event-processing.ts';
import { watchRefusedClientSecrets } from './identity/client-secret-watch.ts';
import { watchServiceAccountsOnTrouble } from './identity/service-account-watch.ts';
import type { IdentityResolver } from './identity/types.ts';
import type { VaultBudgetOptions } from './keyvault/budget.ts';
import { createVaultBudget } from './keyvault/budget.ts';
import { CertificateConverter } from './keyvault/certificate/index.ts';
import { VaultError } from './keyvault/errors.ts';
import { createSecretReader } from './keyvault/secret-reader.ts';
import { ValueCache } from './keyvault/value-cache.ts';
import { VaultPool } from './keyvault/vault-pool.ts';
import { parseAllowedVaultUrl, vaultHostSuffixes } from './keyvault/vault-url.ts';
import { kubeEventRecorder, type EventTarget } from './kube/events.ts';
import { kubeSecretWriter } from './kube/secret-writer.ts';
import { kubeStatusWriter } from './kube/status-writer.ts';
import { informerStatusLogger } from './observability/informer-log.ts';
import type { Metrics } from './observability/metrics.ts';
import type { RolloutOptions } from './rollout/rollout-restarts.ts';
import { createRolloutRestarter } from './rollout/rollout-restarts.ts';
import { Controller } from './runtime/controller.ts';
import { kubeInformer } from './runtime/informer.ts';
import { OwnWrites } from './runtime/own-writes.ts';
import { splitKey } from './runtime/store.ts';

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  /** Empty: all namespaces. */
  readonly namespaces: readonly string[];
  readonly workers: number;
  readonly identities: IdentityResolver;
  readonly extraVaultSuffixes: readonly string[];
  readonly expiryWindowMs: number;
  readonly defaultRefreshInterval: string;
  readonly budget: VaultBudgetOptions;
  /** Bound of the shared value cache in estimated bytes; default DEFAULT_VALUE_CACHE_BYTES. */
  readonly valueCacheBytes?: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /**
   * SecretClient options per vault: the kept-alive proxy agent in production (main.ts), the test
   * doubles' agent in tests, serviceVersion for emulators.
   */
  readonly secretClientOptions?: (vaultUrl: string) => SecretClientOptions;
  readonly instance: string;
  /** kvsync's own Pod, for Events about kvsync itself (the event source went down, recovered). */
  readonly self?: EventTarget;
  /** Key Vault events (absent: sweeps only). Runs with the manager, so only on the leader. */
  readonly events?: EventOptions;
  /** spec.rolloutRestart; default: the HMAC key Secret `kvsync-rollout-key` in kvsync-system. */
  readonly rollout?: RolloutOptions;
  /**
   * Run the ClusterVaultSecret controller. main.ts always does; tests opt in, because managers
   * of parallel tests share one cluster and its cluster-scoped ClusterVaultSecrets.
   */
  readonly clusterVaultSecrets?: boolean;
}

export interface Manager {
  /** Resolves once caches synced and workers run. */
  readonly started: Promise<void>;
  readonly pool: VaultPool;
  readonly controller: Controller;
  ready(): boolean;
  /** Stop taking work, finish in-flight reconciles within the deadline, stop watches. */
  stop(deadlineMs?: number): Promise<void>;
  /**
   * Leadership is lost: abort every in-flight Kubernetes write and Azure call now and start
   * nothing new. The process is expected to exit right after.
   */
  abort(reason: Error): void;
}

export function startManager(options: ManagerOptions): Manager {
  const { kubeConfig, metrics, log } = options;
  const namespaces = [...options.namespaces];
  const vaultSecrets = kubeInformer<VaultSecret>(
    kubeConfig,
    { apiVersion, plural },
    { namespaces, onStatus: informerStatusLogger(log, plural) },
  );
  const secrets = managedSecretsInformer(kubeConfig, {
    namespaces,
    onStatus: informerStatusLogger(log, 'secrets'),
  });

  const clusterVaultSecrets = options.clusterVaultSecrets
    ? clusterVaultSecretController({
        kubeConfig,
        vaultSecrets,
        watchedNamespaces: namespaces,
        workers: options.workers,
        log,
        onWrite: (resource, verb) => metrics.kubeWrites.inc({ resource, verb }),
        onReconcile: (event) => {
          if (event.result !== 'error') return;
          log.warn(
            {
              clustervaultsecret: event.key,
              retries: event.retries,
              err: errorMessage(event.error),
            },
            'reconcile failed; retrying with backoff',
          );
        },
      })
    : undefined;

  const budget = createVaultBudget({
    ...options.budget,
    onThrottled: (vault) => metrics.vaultThrottled.inc({ vault: metrics.vaultLabel(vault) }),
  });
  const suffixes = vaultHostSuffixes(options.extraVaultSuffixes);
  const vaultUrlOf = (raw: string): string => {
    try {
      return parseAllowedVaultUrl(raw, suffixes).url;
    } catch (error) {
      if (error instanceof VaultError) throw new InvalidSpecError(error.message);
      throw error;
    }
  };

  // The pool and the informers enqueue only after start, by which time the controller exists.
  const enqueue = (key: string): void => controller.enqueue(key);
  const pool = new VaultPool({
    readerFor: (vaultUrl, identity) =>
      createSecretReader({
        vaultUrl,
        credential: identity.credential,
        budget,
        ...(identity.hints ? { identityHints: identity.hints } : {}),
        ...(options.secretClientOptions
          ? { clientOptions: options.secretClientOptions(vaultUrl) }
          : {}),
        // Reads are shared by reconciles, so they stop with all of them, not with one.
        signal: controller.signal,
        onRequest: ({ vault: host, operation, code, durationSeconds }) => {
          const vault = metrics.vaultLabel(host);
          metrics.vaultRequests.inc({ vault, operation, code });
          metrics.vaultRequestDuration.observe({ vault, operation }, durationSeconds);
        },
      }),
    enqueue,
    cache: new ValueCache(options.valueCacheBytes),
    onSweep: (mirror, result) => {
      metrics.valueCacheBytes.set(pool.cachedBytes);
      if (result instanceof Error) {
        metrics.vaultSweeps.inc({ result: 'error' });
        log.warn({ mirror: mirror.split('|')[1], err: result.message }, 'rotation sweep failed');
      } else {
        metrics.vaultSweeps.inc({ result: result.mode });
      }
    },
  });

  const recorder = kubeEventRecorder(kubeConfig, {
    component: 'kvsync',
    instance: options.instance,
    onError: (error) => log.warn({ err: (error as Error).message }, 'could not record event'),
    onWrite: () => metrics.kubeWrites.inc({ resource: 'events', verb: 'create' }),
  });
  const self = options.self;
  const events = options.events
    ? createEventProcessing(options.events, {
        pool,
        enqueue,
        log,
        registry: metrics.registry,
        ...(self
          ? {
              report: (type, reason, message) =>
                recorder.emit(self, type, reason, message, controller.signal),
            }
          : {}),
      })
    : undefined;
  const restarter = createRolloutRestarter(
    kubeConfig,
    options.rollout ?? { keySecret: { namespace: 'kvsync-system', name: 'kvsync-rollout-key' } },
    { log, registry: metrics.registry, events: recorder },
  );

  const certificates = new CertificateConverter();
  // A Secret event means drift (kvsync's own writes echoing back excepted): look at its
  // VaultSecret again.
  const ownerOf = new Map<string, string>();
  const secretChanged = (secretKey: string): void => {
    const owner = ownerOf.get(secretKey);
    if (owner !== undefined) enqueue(owner);
  };
  const ownSecretWrites = new OwnWrites(secretChanged);
  const reconciler = new VaultSecretReconciler({
    vaultSecrets: vaultSecrets.store,
    secrets: secrets.store,
    secretWriter: kubeSecretWriter(
      kubeConfig,
      (verb) => metrics.kubeWrites.inc({ resource: 'secrets', verb }),
      ownSecretWrites,
    ),
    statusWriter: kubeStatusWriter(kubeConfig, () =>
      metrics.kubeWrites.inc({ resource: 'vaultsecrets/status', verb: 'apply' }),
    ),
    events: recorder,
    pool,
    certificates,
    identities: clusterVaultSecrets?.trusting(options.identities) ?? options.identities,
    vaultUrlOf,
    expiryWindowMs: options.expiryWindowMs,
    defaultRefreshInterval: options.defaultRefreshInterval,
    log,
    onRotation: () => metrics.secretRotations.inc(),
    onDataChanged: (vaultSecret, change) => {
      events?.dataChanged(`${vaultSecret.metadata.namespace}/${vaultSecret.metadata.name}`);
      restarter.dataChanged(vaultSecret, change);
    },
    onSynced: (vaultSecret, { ready, objects }) => {
      const labels = { namespace: vaultSecret.metadata.namespace, name: vaultSecret.metadata.name };
      events?.synced(`${labels.namespace}/${labels.name}`);
      restarter.resume(
        vaultSecret,
        secrets.store.get(`${labels.namespace}/${targetSecretName(vaultSecret)}`),
      );
      metrics.vaultSecretReady.set(labels, ready ? 1 : 0);
      if (!ready) return;
      metrics.lastSync.set(labels, Date.now() / 1000);
      metrics.setObjectExpiries(labels, objects);
    },
    onDeleted: (key) => {
      const { namespace, name } = splitKey(key);
      metrics.forgetVaultSecret({ namespace: namespace ?? '', name });
    },
  });

  const controller: Controller = new Controller({
    reconcile: (key, { signal }) => reconciler.reconcile(key, signal),
    workers: options.workers,
    waitFor: [vaultSecrets, secrets, ...(clusterVaultSecrets?.caches ?? [])],
    onReconcile: (event) => {
      metrics.reconcileTotal.inc({ result: event.result });
      metrics.reconcileDuration.observe(event.durationMs / 1000);
      metrics.workqueueDepth.set(controller.queue.depth);
      metrics.valueCacheBytes.set(pool.cachedBytes);
      if (event.result === 'error' && !controller.signal.aborted) {
        log.warn(
          { vaultsecret: event.key, retries: event.retries, err: errorMessage(event.error) },
          'reconcile failed; retrying with backoff',
        );
      }
    },
  });

  const targetOf = new Map<string, string>();
  const seenTrigger = new Map<string, string>();
  vaultSecrets.onChange((key) => {
    const previous = targetOf.get(key);
    if (previous !== undefined && ownerOf.get(previous) === key) ownerOf.delete(previous);
    targetOf.delete(key);
    const vaultSecret = vaultSecrets.store.get(key);
    events?.vaultSecretChanged(key, vaultSecret);
    if (vaultSecret) {
      const target = `${vaultSecret.metadata.namespace}/${targetSecretName(vaultSecret)}`;
      targetOf.set(key, target);
      ownerOf.set(target, key);
      // kvsync's own status writes change the resourceVersion, not the generation: they need
      // no reconcile (the periodic requeue still heals anything else missed). A new force-sync
      // annotation value does.
      const trigger = `${vaultSecret.metadata.generation}/${forceSyncValue(vaultSecret) ?? ''}`;
      if (seenTrigger.get(key) === trigger) return;
      seenTrigger.set(key, trigger);
    } else {
      seenTrigger.delete(key);
    }
    enqueue(key);
  });
  secrets.onChange((secretKey) => {
    const version = secrets.store.get(secretKey)?.metadata?.resourceVersion;
    if (!ownSecretWrites.isOwn(secretKey, version)) secretChanged(secretKey);
  });

  // A fixed ServiceAccount retries the VaultSecrets using it at once, not after its pause.
  const serviceAccounts = watchServiceAccountsOnTrouble({
    kubeConfig,
    namespaces,
    identities: options.identities,
    vaultSecrets: vaultSecrets.store,
    enqueue,
    log,
  });
  // Likewise a fixed clientSecretRef Secret, watched only while its identity is refused.
  const clientSecrets = watchRefusedClientSecrets({
    kubeConfig,
    identities: options.identities,
    vaultSecrets: vaultSecrets.store,
    enqueue,
    log,
  });

  vaultSecrets.start();
  secrets.start();
  const started = Promise.all([controller.start(), clusterVaultSecrets?.start()]).then(() => {});
  // Events are matched against the VaultSecret cache, so they are received once it is synced.
  void started.then(
    () => events?.start(),
    () => {},
  );
  return {
    started,
    pool,
    controller,
    ready: () =>
      vaultSecrets.hasSynced() && secrets.hasSynced() && (clusterVaultSecrets?.hasSynced() ?? true),
    async stop(deadlineMs = 30_000) {
      await events?.stop();
      await Promise.all([controller.stop(deadlineMs), clusterVaultSecrets?.stop(deadlineMs)]);
      restarter.stop();
      // Restarts still owed stay marked on their Secrets for the next leader.
      await restarter.markersWritten();
      pool.stop();
      await Promise.all([
        vaultSecrets.stop(),
        secrets.stop(),
        serviceAccounts.stop(),
        clientSecrets.stop(),
        certificates.close(),
      ]);
    },
    abort(reason) {
      controller.abort(reason);
      restarter.abort(reason);
      pool.stop();
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
