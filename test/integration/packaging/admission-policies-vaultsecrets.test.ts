// The chart's admission policy on kvsync's VaultSecret writes, for real: kvsync may create, change
// and delete VaultSecrets cluster-wide only to keep a ClusterVaultSecret's copies, so a request
// made with kvsync's token (through kvsync's own writers) passes only for a VaultSecret a
// ClusterVaultSecret controls. Status writes, which kvsync makes on every VaultSecret, still pass.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiVersion, kind, plural, type VaultSecret } from '../../../src/api/vault-secret.ts';
import { kubeStatusWriter } from '../../../src/kube/status-writer.ts';
import {
  kubeVaultSecretWriter,
  type VaultSecretWriter,
} from '../../../src/kube/vault-secret-writer.ts';
import { collectionPath, kubeJson, type KubeApiError } from '../../../src/runtime/kube-http.ts';
import {
  applyClusterVaultSecret,
  deleteClusterVaultSecret,
  getClusterVaultSecret,
} from '../../support/cluster-vault-secrets.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  waitFor,
} from '../../support/kube.ts';
import { applyVaultSecret, getVaultSecret } from '../../support/kvsync.ts';
import { chartIdentity, type ChartIdentity } from './chart.ts';

const info = inject('controlPlane');
const admin = kubeConfigFrom(info);
const spec = {
  vault: { url: 'https://platform-kv.vault.azure.net/' },
  data: [{ key: 'token', secret: { name: 'telemetry-key' } }],
};

async function refusal(request: Promise<unknown>): Promise<KubeApiError> {
  const error = await request.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the request should have been refused').toBeDefined();
  return error as KubeApiError;
}

describe("the chart's admission policy fences kvsync's VaultSecret writes", () => {
  const cluster = `vap-cvs-${randomBytes(4).toString('hex')}`;
  let namespace: string;
  let chart: ChartIdentity;
  let kvsync: VaultSecretWriter;
  let controller: VaultSecret['metadata']['ownerReferences'];
  const vaultSecret = (
    name: string,
    ownerReferences?: VaultSecret['metadata']['ownerReferences'],
  ): VaultSecret => ({
    apiVersion,
    kind,
    metadata: { name, namespace, ...(ownerReferences ? { ownerReferences } : {}) },
    spec,
  });
  const policyMessage =
    'kvsync may create, change and delete only VaultSecrets a kvsync.io ClusterVaultSecret controls';

  beforeAll(async () => {
    chart = await chartIdentity(info, 'vap-vs-kvsync');
    namespace = await createTestNamespace(admin, 'vap-vs-app');
    kvsync = kubeVaultSecretWriter(chart.kc);
    await applyClusterVaultSecret(admin, cluster, { namespaces: [namespace], template: spec });
    const owner = await getClusterVaultSecret(admin, cluster);
    controller = [
      {
        apiVersion,
        kind: 'ClusterVaultSecret',
        name: cluster,
        uid: owner.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    // The API server loads policies through an informer: wait until this one refuses (dry run).
    await waitFor(
      async () => {
        const error = await kubeJson(chart.kc, collectionPath({ apiVersion, plural }, namespace), {
          method: 'POST',
          query: { dryRun: 'All' },
          body: vaultSecret('probe'),
        }).then(
          () => undefined,
          (caught: unknown) => caught as KubeApiError,
        );
        return error?.statusCode === 403 && error.message.includes(policyMessage);
      },
      { description: 'the VaultSecret admission policy to be in effect' },
    );
  });

  afterAll(async () => {
    await deleteClusterVaultSecret(admin, cluster);
    await chart?.remove();
    if (namespace !== undefined) await deleteTestNamespace(admin, namespace);
  });

  it('refuses creating a VaultSecret no ClusterVaultSecret controls, with the policy message', async () => {
    const error = await refusal(kvsync.apply(vaultSecret('loose')));
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain(policyMessage);
    expect(error.message).toContain(`admission policy ${chart.rbac.release}-vaultsecrets`);
    // Nor one that names a ClusterVaultSecret without being controlled by it, or a lookalike kind.
    const [reference] = controller!;
    for (const ownerReferences of [
      [{ ...reference!, controller: false }],
      [{ ...reference!, apiVersion: 'example.com/v1' }],
    ]) {
      expect((await refusal(kvsync.apply(vaultSecret('loose', ownerReferences)))).statusCode).toBe(
        403,
      );
    }
  });

  it("creates, changes and deletes a ClusterVaultSecret's copy", async () => {
    await kvsync.apply(vaultSecret(cluster, controller));
    const copy = await getVaultSecret(admin, namespace, cluster);
    await kvsync.apply({
      ...vaultSecret(cluster, controller),
      spec: { ...spec, refreshInterval: '5m' },
    });
    expect((await getVaultSecret(admin, namespace, cluster)).spec.refreshInterval).toBe('5m');
    // Dropping the ownerReference would turn it into a VaultSecret kvsync could then keep writing.
    expect((await refusal(kvsync.apply(vaultSecret(cluster, [])))).statusCode).toBe(403);
    await kvsync.delete(namespace, cluster, copy.metadata.uid!);
    await waitFor(
      async () =>
        (await getVaultSecret(admin, namespace, cluster).catch(() => undefined)) === undefined,
      { description: 'the copy to be deleted' },
    );
  });

  it("neither changes nor deletes a tenant's VaultSecret, but still writes its status", async () => {
    await applyVaultSecret(admin, namespace, 'tenants', spec);
    const tenants = await getVaultSecret(admin, namespace, 'tenants');
    // Claiming it by adding the ownerReference is an UPDATE of a VaultSecret that had none.
    const claimed = await refusal(kvsync.apply(vaultSecret('tenants', controller)));
    expect(claimed.statusCode).toBe(403);
    expect(claimed.message).toContain(policyMessage);
    const deleted = await refusal(kvsync.delete(namespace, 'tenants', tenants.metadata.uid!));
    expect(deleted.statusCode).toBe(403);
    expect(deleted.message).toContain(policyMessage);
    expect(
      (await getVaultSecret(admin, namespace, 'tenants')).metadata.ownerReferences,
    ).toBeUndefined();
    // The status subresource is not what the policy matches: kvsync reports on every VaultSecret.
    await kubeStatusWriter(chart.kc).write(
      namespace,
      'tenants',
      { observedGeneration: tenants.metadata.generation, secretName: 'tenants' },
      new AbortController().signal,
    );
    expect((await getVaultSecret(admin, namespace, 'tenants')).status?.secretName).toBe('tenants');
  });
});
