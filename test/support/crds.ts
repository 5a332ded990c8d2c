// kvsync's CRDs on the test API server: installed once by the global setup, so that the garbage
// collector's discovery (resynced every 30 s) knows VaultSecrets before any test owns a Secret.
import type { KubeConfig } from '@kubernetes/client-node';
import { CustomObjectsApi, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { clusterVaultSecretCrd } from '../../src/api/cluster-vault-secret-crd.ts';
import { clusterPlural } from '../../src/api/cluster-vault-secret.ts';
import { vaultSecretCrd } from '../../src/api/vault-secret-crd.ts';
import { group, plural, version } from '../../src/api/vault-secret.ts';
import { kubeJson } from '../../src/runtime/kube-http.ts';
import { waitFor } from './kube.ts';

/** Server-side apply as the tests' field manager; idempotent. */
export async function serverSideApply(kc: KubeConfig, object: object): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kc).patch(
    object as never,
    undefined,
    undefined,
    'kvsync-tests',
    true,
    PatchStrategy.ServerSideApply,
  );
}

/**
 * Server-side apply of a CRD as plain JSON. client-node's typed serializer would drop the
 * `x-kubernetes-validations` (CEL rules) and defaults of nested schemas it does not map.
 */
async function applyCrd(kc: KubeConfig, crd: { metadata: { name: string } }): Promise<void> {
  await kubeJson(
    kc,
    `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
    {
      method: 'PATCH',
      query: { fieldManager: 'kvsync-tests', force: true },
      contentType: 'application/apply-patch+yaml',
      body: crd,
    },
  );
}

/** Creates or updates the VaultSecret and ClusterVaultSecret CRDs and waits until they are served. */
export async function installCrds(kc: KubeConfig): Promise<void> {
  await applyCrd(kc, vaultSecretCrd);
  await applyCrd(kc, clusterVaultSecretCrd);
  const objects = kc.makeApiClient(CustomObjectsApi);
  await waitFor(
    async () => {
      await objects.listClusterCustomObject({ group, version, plural });
      await objects.listClusterCustomObject({ group, version, plural: clusterPlural });
      return true;
    },
    { description: 'the VaultSecret and ClusterVaultSecret CRDs to be served' },
  );
}
