// ClusterVaultSecrets on the test API server, and a tenant: a ServiceAccount that may do what a
// namespace user may do with VaultSecrets in some namespaces, and nothing else.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type {
  ClusterVaultSecret,
  ClusterVaultSecretSpec,
} from '../../src/api/cluster-vault-secret.ts';
import { clusterKind, clusterPlural } from '../../src/api/cluster-vault-secret.ts';
import { apiVersion, group, version } from '../../src/api/vault-secret.ts';
import type { ControlPlaneInfo } from './control-plane.ts';
import { serverSideApply } from './crds.ts';
import { kubeConfigForToken, serviceAccountToken, waitFor } from './kube.ts';

export async function applyClusterVaultSecret(
  kc: KubeConfig,
  name: string,
  spec: ClusterVaultSecretSpec,
): Promise<void> {
  await serverSideApply(kc, { apiVersion, kind: clusterKind, metadata: { name }, spec });
}

export async function getClusterVaultSecret(
  kc: KubeConfig,
  name: string,
): Promise<ClusterVaultSecret> {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getClusterCustomObject({ group, version, plural: clusterPlural, name })) as ClusterVaultSecret;
}

export async function deleteClusterVaultSecret(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .deleteClusterCustomObject({ group, version, plural: clusterPlural, name })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
}

export interface ClusterCounts {
  readonly selected: number;
  readonly synced: number;
  readonly failed: number;
  readonly ready: string | undefined;
}

/** Waits until the status, for the current generation, shows these counts and Ready status. */
export async function waitForClusterStatus(
  kc: KubeConfig,
  name: string,
  expected: ClusterCounts,
  timeoutMs = 60_000,
): Promise<ClusterVaultSecret> {
  let last: unknown;
  return waitFor(
    async () => {
      const cluster = await getClusterVaultSecret(kc, name);
      const status = cluster.status;
      last = status;
      const counts: ClusterCounts = {
        selected: status?.selectedNamespaces ?? -1,
        synced: status?.syncedNamespaces ?? -1,
        failed: status?.failedNamespaces ?? -1,
        ready: status?.conditions?.find((c) => c.type === 'Ready')?.status,
      };
      return (
        status?.observedGeneration === cluster.metadata.generation &&
        JSON.stringify(counts) === JSON.stringify(expected) &&
        cluster
      );
    },
    {
      description: `ClusterVaultSecret ${name} with ${JSON.stringify(expected)}`,
      timeoutMs,
    },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last)}`);
  });
}

/** Labels (or, with `null` values, unlabels) a namespace. */
export async function labelNamespace(
  kc: KubeConfig,
  name: string,
  labels: Record<string, string | null>,
): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .patchNamespace(
      { name, body: { metadata: { labels } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

/**
 * A KubeConfig for a tenant: ServiceAccount `tenant` in `home`, with full rights on VaultSecrets
 * in `namespaces` (a Role each) and nothing else.
 */
export async function tenantKubeConfig(
  admin: KubeConfig,
  info: Pick<ControlPlaneInfo, 'server' | 'caFile' | 'issuer'>,
  home: string,
  namespaces: readonly string[],
): Promise<KubeConfig> {
  await admin
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace: home, body: { metadata: { name: 'tenant' } } });
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const namespace of namespaces) {
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'vaultsecret-editor' },
        rules: [{ apiGroups: [group], resources: ['vaultsecrets'], verbs: ['*'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'tenant-vaultsecret-editor' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: 'vaultsecret-editor',
        },
        subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: home }],
      },
    });
  }
  const token = await serviceAccountToken(admin, home, 'tenant', info.issuer);
  return kubeConfigForToken(info, token);
}
