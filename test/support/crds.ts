// kvsync's CRDs on the test API server: installed once by the global setup, so that the garbage
// collector's discovery (resynced every 30 s) knows VaultSecrets before any test owns a Secret.
import type { KubeConfig } from '@kubernetes/client-node';
import { CustomObjectsApi, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { vaultSecretCrd } from '../../src/api/vault-secret-crd.ts';
import { group, plural, version } from '../../src/api/vault-secret.ts';
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

/** Creates or updates the VaultSecret CRD and waits until it is served. */
export async function installCrds(kc: KubeConfig): Promise<void> {
  await serverSideApply(kc, vaultSecretCrd);
  const objects = kc.makeApiClient(CustomObjectsApi);
  await waitFor(
    async () => {
      await objects.listClusterCustomObject({ group, version, plural });
      return true;
    },
    { description: 'the VaultSecret CRD to be served' },
  );
}
