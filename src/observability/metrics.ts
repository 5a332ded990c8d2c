// kvsync's Prometheus metrics. Every label set is bounded: vault hosts (at most maxVaultLabels,
// then `other`: tenants choose them), operations, status codes,
// results, and VaultSecret namespace/name (one series per VaultSecret, like kube-state-metrics,
// removed with the VaultSecret). No label ever carries a value; Key Vault object names appear
// only on the expiry gauge, which is opt-out (--object-expiry-metric=false).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { boundedLabel } from './bounded-label.ts';

export interface VaultSecretLabels {
  readonly namespace: string;
  readonly name: string;
}

export interface ExpiringObject {
  readonly name: string;
  readonly kind: string;
  readonly expiresOn?: Date | undefined;
}

export interface MetricsOptions {
  /** Process and Node.js metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly defaultMetrics?: boolean;
  /** kvsync_object_expiry_timestamp_seconds, one series per synced object. Default true. */
  readonly objectExpiry?: boolean;
  /** Distinct values of the `vault` label; later vaults are counted as `other`. Default 100. */
  readonly maxVaultLabels?: number;
}

export const DEFAULT_MAX_VAULT_LABELS = 100;

export interface Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly vaultRequests: Counter<'vault' | 'operation' | 'code'>;
  readonly vaultRequestDuration: Histogram<'vault' | 'operation'>;
  readonly vaultThrottled: Counter<'vault'>;
  readonly vaultSweeps: Counter<'result'>;
  readonly secretRotations: Counter;
  /** Prefer setObjectExpiries, which also drops series of objects no longer synced. */
  readonly objectExpiry: Gauge<'namespace' | 'name' | 'object' | 'kind'>;
  readonly lastSync: Gauge<'namespace' | 'name'>;
  readonly workqueueDepth: Gauge;
  /** Estimated bytes of the shared value cache (bounded by --value-cache-size). */
  readonly valueCacheBytes: Gauge;
  readonly vaultSecretReady: Gauge<'namespace' | 'name'>;
  readonly kubeWrites: Counter<'resource' | 'verb'>;
  readonly tokenRequests: Counter<'kind'>;
  /** 1 while this replica leads (or runs without leader election), else 0. */
  readonly leader: Gauge;
  /** The `vault` label for a vault host: the host itself, or `other` past maxVaultLabels. */
  vaultLabel(host: string): string;
  /** Replaces a VaultSecret's expiry series with those of `objects` (no-op when opted out). */
  setObjectExpiries(vaultSecret: VaultSecretLabels, objects: readonly ExpiringObject[]): void;
  /** Removes every series of a deleted VaultSecret. */
  forgetVaultSecret(vaultSecret: VaultSecretLabels): void;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    // Standard names (process_*, nodejs_*), as every Node.js exporter has them: stock dashboards
    // and alerts work; the job and pod labels tell kvsync's series apart.
    collectDefaultMetrics({ register: registry });
  }
  const registers = [registry];
  const objectExpiryEnabled = options.objectExpiry ?? true;
  const objectExpiry = new Gauge({
    name: 'kvsync_object_expiry_timestamp_seconds',
    help: 'Expiry of each synced Key Vault object (attribute exp, or X.509 notAfter)',
    labelNames: ['namespace', 'name', 'object', 'kind'] as const,
    // Opted out: the gauge exists for callers but is never exported.
    registers: objectExpiryEnabled ? registers : [],
  });
  const lastSync = new Gauge({
    name: 'kvsync_last_sync_timestamp_seconds',
    help: 'When each VaultSecret last synced successfully',
    labelNames: ['namespace', 'name'] as const,
    registers,
  });
  const vaultSecretReady = new Gauge({
    name: 'kvsync_vaultsecret_ready',
    help: '1 when the VaultSecret is Ready, else 0',
    labelNames: ['namespace', 'name'] as const,
    registers,
  });

  // The expiry series each VaultSecret has, so objects it no longer syncs do not linger.
  const expirySeries = new Map<string, { object: string; kind: string }[]>();
  const keyOf = ({ namespace, name }: VaultSecretLabels): string => `${namespace}/${name}`;
  const removeExpiries = (vaultSecret: VaultSecretLabels): void => {
    const { namespace, name } = vaultSecret;
    for (const series of expirySeries.get(keyOf(vaultSecret)) ?? []) {
      objectExpiry.remove({ namespace, name, ...series });
    }
    expirySeries.delete(keyOf(vaultSecret));
  };

  return {
    registry,
    reconcileTotal: new Counter({
      name: 'kvsync_reconcile_total',
      help: 'Reconciles of VaultSecrets by result',
      labelNames: ['result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'kvsync_reconcile_duration_seconds',
      help: 'Time to reconcile one VaultSecret',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    vaultRequests: new Counter({
      name: 'kvsync_vault_requests_total',
      help: 'Requests to Key Vault by vault host, operation and HTTP status code',
      labelNames: ['vault', 'operation', 'code'],
      registers,
    }),
    vaultRequestDuration: new Histogram({
      name: 'kvsync_vault_request_duration_seconds',
      help: 'Key Vault request latency',
      labelNames: ['vault', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    vaultThrottled: new Counter({
      name: 'kvsync_vault_throttled_total',
      help: 'Key Vault 429 responses; each pauses that vault',
      labelNames: ['vault'],
      registers,
    }),
    vaultSweeps: new Counter({
      name: 'kvsync_vault_sweeps_total',
      help: 'Rotation sweeps by mode (list, get, idle) or error',
      labelNames: ['result'],
      registers,
    }),
    secretRotations: new Counter({
      name: 'kvsync_secret_rotations_total',
      help: 'Key Vault objects whose new version was written to a Secret',
      registers,
    }),
    objectExpiry,
    lastSync,
    workqueueDepth: new Gauge({
      name: 'kvsync_workqueue_depth',
      help: 'VaultSecrets waiting to be reconciled',
      registers,
    }),
    valueCacheBytes: new Gauge({
      name: 'kvsync_value_cache_bytes',
      help: 'Estimated memory of cached Key Vault values (bounded by --value-cache-size)',
      registers,
    }),
    vaultSecretReady,
    kubeWrites: new Counter({
      name: 'kvsync_kube_writes_total',
      help: 'Writes to the Kubernetes API by resource and verb',
      labelNames: ['resource', 'verb'],
      registers,
    }),
    tokenRequests: new Counter({
      name: 'kvsync_identity_token_requests_total',
      help: 'ServiceAccount token requests and Entra ID token exchanges',
      labelNames: ['kind'],
      registers,
    }),
    leader: new Gauge({
      name: 'kvsync_leader',
      help: '1 while this replica leads (or runs without leader election), else 0',
      registers,
    }),
    vaultLabel: boundedLabel(options.maxVaultLabels ?? DEFAULT_MAX_VAULT_LABELS),
    setObjectExpiries(vaultSecret, objects) {
      removeExpiries(vaultSecret);
      if (!objectExpiryEnabled) return;
      const series: { object: string; kind: string }[] = [];
      for (const object of objects) {
        if (!object.expiresOn) continue;
        const labels = { object: object.name, kind: object.kind };
        objectExpiry.set({ ...vaultSecret, ...labels }, object.expiresOn.getTime() / 1000);
        series.push(labels);
      }
      if (series.length > 0) expirySeries.set(keyOf(vaultSecret), series);
    },
    forgetVaultSecret(vaultSecret) {
      const { namespace, name } = vaultSecret;
      vaultSecretReady.remove({ namespace, name });
      lastSync.remove({ namespace, name });
      removeExpiries(vaultSecret);
    },
  };
}
