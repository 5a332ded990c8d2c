// Runs kvsync's manager in-process against the real control plane and the Azure doubles, on a
// namespace of its own, with logs captured so tests can search them for secret values.
import { Writable } from 'node:stream';
import { ClientSecretCredential } from '@azure/identity';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { VaultSecret, VaultSecretSpec } from '../../src/api/vault-secret.ts';
import { apiVersion, group, kind, plural, version } from '../../src/api/vault-secret.ts';
import { defaultIdentityResolver } from '../../src/identity/default-identity.ts';
import type { IdentityResolver } from '../../src/identity/types.ts';
import type { Manager, ManagerOptions } from '../../src/manager.ts';
import { startManager } from '../../src/manager.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { Metrics } from '../../src/observability/metrics.ts';
import type { AzureDoubles } from './azure/index.ts';
import { startAzureDoubles } from './azure/index.ts';
import type { ControlPlaneInfo } from './control-plane.ts';
import { installCrds, serverSideApply } from './crds.ts';
import { createTestNamespace, deleteTestNamespace, kubeConfigFrom, waitFor } from './kube.ts';

export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface SyncEnvironment {
  readonly kc: KubeConfig;
  readonly azure: AzureDoubles;
  readonly namespace: string;
  readonly clientId: string;
  /** The running manager (a new one after failover()). */
  readonly manager: Manager;
  readonly metrics: Metrics;
  readonly logs: LogCapture;
  /** The leader stops (finishing in-flight work, as on SIGTERM) and a new one takes over. */
  failover(): Promise<void>;
  close(): Promise<void>;
}

export interface SyncEnvironmentOptions {
  readonly prefix: string;
  readonly azure?: AzureDoubles;
  readonly identities?: (
    azure: AzureDoubles,
    clientId: string,
    clientSecret: string,
  ) => IdentityResolver;
  readonly manager?: Partial<ManagerOptions>;
}

export async function startSyncEnvironment(
  info: ControlPlaneInfo,
  options: SyncEnvironmentOptions,
): Promise<SyncEnvironment> {
  const kc = kubeConfigFrom(info);
  await installCrds(kc);
  const ownAzure = options.azure === undefined;
  const azure = options.azure ?? (await startAzureDoubles({ kubeIssuerCaFile: info.caFile }));
  const clientSecret = `test-client-secret-${options.prefix}`;
  const app = azure.entra.registerApp({ clientSecret });
  const credential = new ClientSecretCredential(
    azure.tenantId,
    app.clientId,
    clientSecret,
    azure.clientOptions,
  );
  const namespace = await createTestNamespace(kc, options.prefix);
  const logs = new LogCapture();
  const metrics = createMetrics({ defaultMetrics: false });
  const managerOptions: ManagerOptions = {
    kubeConfig: kc,
    namespaces: [namespace],
    workers: 4,
    identities:
      options.identities?.(azure, app.clientId, clientSecret) ??
      defaultIdentityResolver(credential),
    extraVaultSuffixes: [azure.vaultDnsSuffix],
    expiryWindowMs: 30 * 24 * 3_600_000,
    defaultRefreshInterval: '1h',
    budget: {},
    log: createLogger('debug', logs),
    metrics,
    secretClientOptions: () => azure.clientOptions,
    instance: `test-${options.prefix}`,
    // As if kvsync's Pod ran in the test namespace: Events about kvsync itself land there.
    self: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `kvsync-${options.prefix}`, namespace },
    },
    ...options.manager,
  };
  let manager = startManager(managerOptions);
  await manager.started;
  return {
    kc,
    azure,
    namespace,
    clientId: app.clientId,
    get manager() {
      return manager;
    },
    metrics,
    logs,
    async failover() {
      await manager.stop(5_000);
      manager = startManager({ ...managerOptions, instance: `${managerOptions.instance}-next` });
      await manager.started;
    },
    async close() {
      await manager.stop(5_000);
      await deleteTestNamespace(kc, namespace);
      if (ownAzure) await azure.close();
    },
  };
}

export async function applyVaultSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
  spec: VaultSecretSpec,
): Promise<void> {
  await serverSideApply(kc, { apiVersion, kind, metadata: { name, namespace }, spec });
}

export async function getVaultSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<VaultSecret> {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group, version, namespace, plural, name })) as VaultSecret;
}

export async function deleteVaultSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .deleteNamespacedCustomObject({ group, version, namespace, plural, name });
}

export async function readSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1Secret | undefined> {
  try {
    return await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

/** The Secret's data decoded as UTF-8 text. */
export function decoded(secret: V1Secret | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret?.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}

export function readyOf(vaultSecret: VaultSecret): {
  status?: string;
  reason?: string;
  message?: string;
} {
  return vaultSecret.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}

/** Waits until the VaultSecret's Ready condition for its current generation matches. */
export async function waitForReady(
  kc: KubeConfig,
  namespace: string,
  name: string,
  expected: { status: 'True' | 'False'; reason?: string },
  timeoutMs = 30_000,
): Promise<VaultSecret> {
  return waitFor(
    async () => {
      const vs = await getVaultSecret(kc, namespace, name);
      const ready = readyOf(vs);
      const current = vs.status?.observedGeneration === vs.metadata.generation;
      if (
        current &&
        ready.status === expected.status &&
        (expected.reason === undefined || ready.reason === expected.reason)
      ) {
        return vs;
      }
      // Not yet: what it is instead, for the timeout's message (a status never holds a value).
      throw new Error(
        `generation ${vs.metadata.generation} observed ${vs.status?.observedGeneration}, ` +
          `Ready=${ready.status} ${ready.reason ?? ''}: ${ready.message ?? ''}`,
      );
    },
    {
      description: `${namespace}/${name} Ready=${expected.status}${expected.reason ? ` (${expected.reason})` : ''}`,
      timeoutMs,
    },
  );
}

export async function patchSecretData(
  kc: KubeConfig,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .patchNamespacedSecret(
      { namespace, name, body: { data } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

/** Sets annotations on a VaultSecret with a merge patch, as `kubectl annotate` and Argo CD do. */
export async function annotateVaultSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject(
      { group, version, namespace, plural, name, body: { metadata: { annotations } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

/** Sum of a counter's samples matching the labels. */
export async function metricValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((sample) =>
      Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** Events recorded for an object, as `kubectl describe` shows them. */
export async function eventsFor(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((event) => ({
    type: event.type ?? '',
    reason: event.reason ?? '',
    message: event.message ?? '',
  }));
}
