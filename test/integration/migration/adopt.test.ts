// Moving a Secret from External Secrets Operator to kvsync with target.adopt, against the real API
// server and garbage collector, with ESO's own ExternalSecret CRD (test/fixtures/eso/crd; no ESO
// controller runs): the Secret is taken over in one update, never absent or blank, survives the
// deletion of its ExternalSecret, and is never taken without the consent annotation.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeConfig, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import {
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import type { FakeVault } from '../../support/azure/index.ts';
import { serverSideApply } from '../../support/crds.ts';
import { kubeConfigForToken, serviceAccountToken, waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import { chartIdentity, type ChartIdentity } from '../packaging/chart.ts';
import {
  applyVaultSecret,
  decoded,
  readSecret,
  readyOf,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const esoCrd = parse(
  readFileSync(
    path.resolve(
      import.meta.dirname,
      '../../fixtures/eso/crd/external-secrets.io_externalsecrets.yaml',
    ),
    'utf8',
  ),
) as object;
const externalSecrets = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' };
const vaultValue = 'adopt-test-vault-value-51c2';
const esoValue = 'adopt-test-eso-value-9d07';

describe('adopting a Secret from External Secrets Operator', () => {
  let env: SyncEnvironment;
  let vault: FakeVault;
  let core: CoreV1Api;
  let chart: ChartIdentity;

  beforeAll(async () => {
    // kvsync runs as the chart installs it: its RBAC, fenced by its admission policies.
    chart = await chartIdentity(inject('controlPlane'), 'adopt-op');
    env = await startSyncEnvironment(inject('controlPlane'), {
      prefix: 'adopt',
      manager: { kubeConfig: chart.kc },
    });
    core = env.kc.makeApiClient(CoreV1Api);
    await serverSideApply(env.kc, esoCrd);
    await waitFor(
      async () => {
        await env.kc
          .makeApiClient(CustomObjectsApi)
          .listNamespacedCustomObject({ ...externalSecrets, namespace: env.namespace });
        return true;
      },
      { description: "ESO's ExternalSecret CRD to be served" },
    );
    vault = env.azure.keyVault.createVault('adopt');
    vault.grant(env.clientId);
    vault.setSecret('db-password', vaultValue);
  });

  afterAll(async () => {
    await env?.close();
    await chart?.remove();
  });

  /** An ExternalSecret (no ESO controller runs: only the object); its owner reference. */
  async function externalSecret(name: string): Promise<V1OwnerReference> {
    const created = (await env.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...externalSecrets,
      namespace: env.namespace,
      body: {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name },
        spec: {
          secretStoreRef: { kind: 'SecretStore', name: 'azure-store' },
          target: { name, creationPolicy: 'Owner' },
          data: [{ secretKey: 'password', remoteRef: { key: 'db-password' } }],
        },
      },
    })) as { metadata: { uid: string } };
    return {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      name,
      uid: created.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  /** A Secret as ESO's creationPolicy Owner leaves it. */
  function esoSecret(
    name: string,
    owner: V1OwnerReference,
    annotations: Record<string, string>,
  ): Promise<V1Secret> {
    return core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: {
          name,
          labels: { 'reconcile.external-secrets.io/managed': 'true' },
          annotations,
          ownerReferences: [owner],
        },
        type: 'Opaque',
        data: { password: Buffer.from(esoValue).toString('base64') },
      },
    });
  }

  async function esoManaged(name: string, annotations: Record<string, string>): Promise<V1Secret> {
    return esoSecret(name, await externalSecret(name), annotations);
  }

  function adoptingVaultSecret(name: string, kc: KubeConfig = env.kc): Promise<void> {
    return applyVaultSecret(kc, env.namespace, name, {
      vault: { url: env.azure.vaultUrl('adopt') },
      target: { name, adopt: true },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
  }

  it('takes the Secret over in one update and keeps it when the ExternalSecret is deleted', async () => {
    const owner = await externalSecret('app');
    const created = await esoSecret('app', owner, { 'kvsync.io/adopt-by': 'app' });
    // A second Secret of the same ExternalSecret, not adopted: its deletion shows that the
    // garbage collector has processed the ExternalSecret's deletion.
    await esoSecret('control', owner, {});

    const seen = await watchSecret(
      env.kc,
      env.namespace,
      'app',
      created.metadata!.resourceVersion!,
    );
    await adoptingVaultSecret('app');
    await waitForReady(env.kc, env.namespace, 'app', { status: 'True', reason: 'Synced' });

    const adopted = await readSecret(env.kc, env.namespace, 'app');
    expect(decoded(adopted)).toEqual({ password: vaultValue });
    expect(adopted?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VaultSecret', name: 'app', controller: true }),
    ]);

    await env.kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
      ...externalSecrets,
      namespace: env.namespace,
      name: 'app',
    });
    await waitFor(async () => (await readSecret(env.kc, env.namespace, 'control')) === undefined, {
      description: 'the garbage collector to delete the Secret the ExternalSecret still owns',
      timeoutMs: 90_000,
    });
    expect(decoded(await readSecret(env.kc, env.namespace, 'app'))).toEqual({
      password: vaultValue,
    });

    seen.stop();
    // From its creation to now: never deleted, never without data, and exactly one write that
    // replaced ESO's owner and value with kvsync's.
    expect(seen.events.map((e) => e.type)).not.toContain('DELETED');
    expect(seen.events.every((e) => e.password === esoValue || e.password === vaultValue)).toBe(
      true,
    );
    expect(
      seen.events.every((e) => e.controller === 'ExternalSecret' || e.controller === 'VaultSecret'),
    ).toBe(true);
    const handover = seen.events.findIndex((e) => e.controller === 'VaultSecret');
    expect(seen.events[handover]).toMatchObject({ type: 'MODIFIED', password: vaultValue });
    expect(seen.events.slice(0, handover).every((e) => e.password === esoValue)).toBe(true);
  });

  it('leaves a Secret without the consent annotation untouched and says which annotation', async () => {
    await esoManaged('unconsented', {});
    await adoptingVaultSecret('unconsented');
    const vs = await waitForReady(env.kc, env.namespace, 'unconsented', {
      status: 'False',
      reason: 'SecretConflict',
    });
    expect(readyOf(vs).message).toBe(
      'Secret unconsented has not consented to adoption: annotate it with kvsync.io/adopt-by=unconsented',
    );
    const secret = await readSecret(env.kc, env.namespace, 'unconsented');
    expect(decoded(secret)).toEqual({ password: esoValue });
    expect(secret?.metadata?.ownerReferences?.[0]?.kind).toBe('ExternalSecret');
  });

  it('never adopts a Secret another controller owns, even with the annotation', async () => {
    const configMap = await core.createNamespacedConfigMap({
      namespace: env.namespace,
      body: { metadata: { name: 'owner' } },
    });
    await core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: {
          name: 'foreign',
          annotations: { 'kvsync.io/adopt-by': 'foreign' },
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'owner',
              uid: configMap.metadata!.uid!,
              controller: true,
            },
          ],
        },
        data: { password: Buffer.from(esoValue).toString('base64') },
      },
    });
    await adoptingVaultSecret('foreign');
    const vs = await waitForReady(env.kc, env.namespace, 'foreign', {
      status: 'False',
      reason: 'SecretConflict',
    });
    expect(readyOf(vs).message).toContain('is controlled by ConfigMap owner');
    expect(decoded(await readSecret(env.kc, env.namespace, 'foreign'))).toEqual({
      password: esoValue,
    });
  });

  it('lets no tenant adopt a Secret it may not annotate', async () => {
    const tenant = await tenantKubeConfig();
    await esoManaged('platform', {});
    await adoptingVaultSecret('platform', tenant);
    const vs = await waitForReady(env.kc, env.namespace, 'platform', {
      status: 'False',
      reason: 'SecretConflict',
    });
    expect(readyOf(vs).message).toContain('annotate it with kvsync.io/adopt-by=platform');
    // Granting consent takes the right to edit the Secret, which the tenant does not have.
    const annotate = tenant.makeApiClient(CoreV1Api).patchNamespacedSecret(
      {
        namespace: env.namespace,
        name: 'platform',
        body: { metadata: { annotations: { 'kvsync.io/adopt-by': 'platform' } } },
      },
      { headers: { 'Content-Type': 'application/merge-patch+json' } } as never,
    );
    await expect(annotate).rejects.toMatchObject({ code: 403 });
    expect(decoded(await readSecret(env.kc, env.namespace, 'platform'))).toEqual({
      password: esoValue,
    });
  });

  /** A ServiceAccount of the namespace that may manage VaultSecrets and read Secrets there. */
  async function tenantKubeConfig(): Promise<KubeConfig> {
    const rbac = env.kc.makeApiClient(RbacAuthorizationV1Api);
    const namespace = env.namespace;
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'tenant' } },
    });
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'tenant' },
        rules: [
          { apiGroups: ['kvsync.io'], resources: ['vaultsecrets'], verbs: ['*'] },
          { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'tenant' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant' },
        subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace }],
      },
    });
    const info = inject('controlPlane');
    const token = await serviceAccountToken(env.kc, namespace, 'tenant', info.issuer, 600);
    return kubeConfigForToken(info, token);
  }
});

interface SeenEvent {
  readonly type: string;
  readonly password: string | undefined;
  readonly controller: string | undefined;
}

/** Every change of one Secret from `resourceVersion` on, as the API server streams them. */
async function watchSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
  resourceVersion: string,
): Promise<{ events: SeenEvent[]; stop: () => void }> {
  const events: SeenEvent[] = [];
  const controller = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/secrets`,
    { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: false },
    (type, secret: V1Secret) => {
      events.push({
        type,
        password: decoded(secret).password,
        controller: secret.metadata?.ownerReferences?.find((ref) => ref.controller)?.kind,
      });
    },
    () => undefined,
  );
  return { events, stop: () => controller.abort() };
}
