// The chart's ValidatingAdmissionPolicies, for real: its ServiceAccount, RBAC and policies are
// applied to the API server, and requests made directly with a token of kvsync's ServiceAccount
// (not through kvsync) show what a stolen kvsync token can no longer do — and that what kvsync
// itself does still passes. Other users are not affected.
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1OwnerReference,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestNamespace, deleteTestNamespace, kubeConfigFrom } from '../../support/kube.ts';
import { chartIdentity, type ChartIdentity } from './chart.ts';

const info = inject('controlPlane');
const admin = kubeConfigFrom(info);
const ENTRA = 'api://AzureADTokenExchange';

/** The API server's refusal: status code and message. */
async function refusal(request: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await request.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the request should have been refused').toBeDefined();
  const { code, body } = error as { code: number; body: unknown };
  const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : body;
  return { code, message: (parsed as { message?: string }).message ?? '' };
}

describe("the chart's admission policies fence kvsync's ServiceAccount", () => {
  let appNamespace: string;
  let chart: ChartIdentity;
  let kvsync: CoreV1Api;
  let asAdmin: CoreV1Api;

  const tokenRequest = (client: CoreV1Api, audiences?: string[]) =>
    client.createNamespacedServiceAccountToken({
      namespace: appNamespace,
      name: 'app',
      body: { spec: { ...(audiences ? { audiences } : {}), expirationSeconds: 600 } },
    });
  const secret = (name: string, metadata: V1Secret['metadata'] = {}, type?: string): V1Secret => ({
    metadata: { name, ...metadata },
    ...(type ? { type } : {}),
    stringData: { key: 'value' },
  });
  /** kvsync's own metadata on a Secret it writes for VaultSecret `vaultSecret`. */
  const written = (vaultSecret: string) => ({
    labels: { 'app.kubernetes.io/managed-by': 'kvsync' },
    annotations: { 'kvsync.io/vaultsecret': vaultSecret },
  });
  /** What kvsync does under Merge: server-side apply of its own key, as field manager kvsync. */
  const mergeApply = (client: CoreV1Api, name: string, vaultSecret = 'merger') =>
    client.patchNamespacedSecret(
      {
        namespace: appNamespace,
        name,
        fieldManager: 'kvsync',
        force: true,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, ...written(vaultSecret) },
          data: { token: 'dG9rZW4=' },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
  /**
   * What kvsync does to adopt a Secret (creationPolicy Orphan): one PUT of the Secret as read, with
   * its data, label and annotation, and any other controller's reference dropped.
   */
  const adoptPut = async (name: string, vaultSecret: string) => {
    const current = await kvsync.readNamespacedSecret({ namespace: appNamespace, name });
    const mine = written(vaultSecret);
    const others = (current.metadata?.ownerReferences ?? []).filter((ref) => !ref.controller);
    return kvsync.replaceNamespacedSecret({
      namespace: appNamespace,
      name,
      body: {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata?.labels, ...mine.labels },
          annotations: { ...current.metadata?.annotations, ...mine.annotations },
          ownerReferences: others,
        },
        data: { token: 'dG9rZW4=' },
      },
    });
  };
  const readData = async (name: string) =>
    (await kvsync.readNamespacedSecret({ namespace: appNamespace, name })).data;

  beforeAll(async () => {
    chart = await chartIdentity(info, 'vap-kvsync');
    appNamespace = await createTestNamespace(admin, 'vap-app');
    kvsync = chart.kc.makeApiClient(CoreV1Api);
    asAdmin = admin.makeApiClient(CoreV1Api);
    await asAdmin.createNamespacedServiceAccount({
      namespace: appNamespace,
      body: { metadata: { name: 'app' } },
    });
  });

  afterAll(async () => {
    await chart?.remove();
    if (appNamespace !== undefined) await deleteTestNamespace(admin, appNamespace);
  });

  it('TokenRequests: only for api://AzureADTokenExchange, exactly', async () => {
    for (const audiences of [[info.issuer], undefined, [ENTRA, info.issuer], ['api://other']]) {
      const { code, message } = await refusal(tokenRequest(kvsync, audiences));
      expect(code).toBe(403);
      expect(message).toContain(
        `kvsync may request ServiceAccount tokens only for the audience ${ENTRA}`,
      );
      expect(message).toContain(`admission policy ${chart.rbac.release}-token-requests`);
    }
    expect((await tokenRequest(kvsync, [ENTRA])).status?.token).toBeTruthy();
    // Other users are not looked at.
    expect((await tokenRequest(asAdmin, [info.issuer])).status?.token).toBeTruthy();
  });

  it('never creates a service-account-token or bootstrap-token Secret', async () => {
    const credentials = [
      secret(
        'sa-token',
        { annotations: { 'kubernetes.io/service-account.name': 'app' } },
        'kubernetes.io/service-account-token',
      ),
      secret('bootstrap-token-abcdef', {}, 'bootstrap.kubernetes.io/token'),
    ];
    for (const body of credentials) {
      const { code, message } = await refusal(
        kvsync.createNamespacedSecret({ namespace: appNamespace, body }),
      );
      expect(code).toBe(403);
      expect(message).toContain(
        'kvsync never writes kubernetes.io/service-account-token or bootstrap.kubernetes.io/token Secrets',
      );
    }
    const created = await kvsync.createNamespacedSecret({
      namespace: appNamespace,
      body: secret('created-by-kvsync', { labels: { 'app.kubernetes.io/managed-by': 'kvsync' } }),
    });
    expect(created.metadata?.uid).toBeTruthy();
  });

  it("never updates a Secret that is neither kvsync's nor consenting, whatever its type", async () => {
    const foreign = [
      {
        ...secret('their-tls', {}, 'kubernetes.io/tls'),
        stringData: { 'tls.crt': 'crt', 'tls.key': 'key' },
      },
      secret('their-opaque', { labels: { 'app.kubernetes.io/managed-by': 'helm' } }),
      secret(
        'annotated-sa-token',
        {
          annotations: {
            'kubernetes.io/service-account.name': 'app',
            'kvsync.io/merge-from': '*',
          },
        },
        'kubernetes.io/service-account-token',
      ),
    ];
    for (const body of foreign) {
      await asAdmin.createNamespacedSecret({ namespace: appNamespace, body });
      const { code, message } = await refusal(mergeApply(kvsync, body.metadata!.name!));
      expect(code).toBe(403);
      expect(message).toMatch(/admission policy kvsync-[0-9a-f]+-secrets/);
      const current = await kvsync.readNamespacedSecret({
        namespace: appNamespace,
        name: body.metadata!.name!,
      });
      expect(current.data?.token).toBeUndefined();
    }
    // Nor by a full update (PUT), nor by claiming it with kvsync's label in the same write.
    const current = await kvsync.readNamespacedSecret({
      namespace: appNamespace,
      name: 'their-opaque',
    });
    current.metadata!.labels = { 'app.kubernetes.io/managed-by': 'kvsync' };
    const { code, message } = await refusal(
      kvsync.replaceNamespacedSecret({
        namespace: appNamespace,
        name: 'their-opaque',
        body: current,
      }),
    );
    expect(code).toBe(403);
    expect(message).toContain(
      'kvsync may change only Secrets it manages or that consent to the VaultSecret named',
    );
  });

  it("takes consent only as the operator's own rule does: for the VaultSecret the Secret names", async () => {
    const configMap = await asAdmin.createNamespacedConfigMap({
      namespace: appNamespace,
      body: { metadata: { name: 'other-controller' } },
    });
    const controller = (ref: Omit<V1OwnerReference, 'controller'>): V1OwnerReference[] => [
      { ...ref, controller: true },
    ];
    const cases: { body: V1Secret; write: () => Promise<unknown> }[] = [
      // Merge consent for another VaultSecret, or a write that names none.
      {
        body: secret('merge-other', { annotations: { 'kvsync.io/merge-from': 'merger' } }),
        write: () => mergeApply(kvsync, 'merge-other', 'intruder'),
      },
      {
        body: secret('merge-unnamed', { annotations: { 'kvsync.io/merge-from': 'merger' } }),
        write: () =>
          kvsync.patchNamespacedSecret(
            {
              namespace: appNamespace,
              name: 'merge-unnamed',
              fieldManager: 'kvsync',
              force: true,
              body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'merge-unnamed' } },
            },
            setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
          ),
      },
      // Adoption consent for another VaultSecret; adoption has no "*".
      {
        body: secret('adopt-other', { annotations: { 'kvsync.io/adopt-by': 'adopter' } }),
        write: () => adoptPut('adopt-other', 'intruder'),
      },
      {
        body: secret('adopt-any', { annotations: { 'kvsync.io/adopt-by': '*' } }),
        write: () => adoptPut('adopt-any', 'intruder'),
      },
      // Consenting, but controlled by something that is not an ExternalSecret of ESO.
      {
        body: secret('adopt-controlled', {
          annotations: { 'kvsync.io/adopt-by': 'adopter' },
          ownerReferences: controller({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'other-controller',
            uid: configMap.metadata!.uid!,
          }),
        }),
        write: () => adoptPut('adopt-controlled', 'adopter'),
      },
      {
        body: secret('adopt-lookalike', {
          annotations: { 'kvsync.io/adopt-by': 'adopter' },
          ownerReferences: controller({
            apiVersion: 'example.com/v1',
            kind: 'ExternalSecret',
            name: 'lookalike',
            uid: '00000000-0000-4000-8000-000000000002',
          }),
        }),
        write: () => adoptPut('adopt-lookalike', 'adopter'),
      },
    ];
    for (const { body, write } of cases) {
      await asAdmin.createNamespacedSecret({ namespace: appNamespace, body });
      const { code, message } = await refusal(write());
      expect(code, body.metadata!.name).toBe(403);
      expect(message).toMatch(/admission policy kvsync-[0-9a-f]+-secrets/);
      expect((await readData(body.metadata!.name!))?.token).toBeUndefined();
    }
  });

  it('updates the Secrets it manages and those that consent to a Merge or an adoption', async () => {
    const allowed = [
      secret('managed', { labels: { 'app.kubernetes.io/managed-by': 'kvsync' } }),
      secret('owned', {
        ownerReferences: [
          {
            apiVersion: 'kvsync.io/v1alpha1',
            kind: 'VaultSecret',
            name: 'owner',
            uid: '00000000-0000-4000-8000-000000000001',
          },
        ],
      }),
      secret('merge-target', { annotations: { 'kvsync.io/merge-from': 'merger' } }),
      secret('merge-any', { annotations: { 'kvsync.io/merge-from': '*' } }),
    ];
    for (const body of allowed) {
      await asAdmin.createNamespacedSecret({ namespace: appNamespace, body });
      const updated = await mergeApply(kvsync, body.metadata!.name!);
      expect(updated.data?.token).toBe('dG9rZW4=');
    }
    // Adopted by the VaultSecret it names (with an ExternalSecret as controller: adopt.test.ts).
    await asAdmin.createNamespacedSecret({
      namespace: appNamespace,
      body: secret('adopt-target', { annotations: { 'kvsync.io/adopt-by': 'adopter' } }),
    });
    expect((await adoptPut('adopt-target', 'adopter')).data?.token).toBe('dG9rZW4=');
  });

  it('admits other users as before: an administrator may still update any Secret', async () => {
    await asAdmin.createNamespacedSecret({ namespace: appNamespace, body: secret('admins') });
    expect((await mergeApply(asAdmin, 'admins')).data?.token).toBe('dG9rZW4=');
  });
});
