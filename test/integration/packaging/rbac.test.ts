// The chart's RBAC, for real: its ServiceAccount, ClusterRole/Role and bindings are applied to the
// API server, and a TokenRequest token of that ServiceAccount asks the authorizer what it may do.
// What kvsync needs is allowed; what it must not have is refused. (The lead's e2e runs kvsync
// itself with this token through full syncs.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { toolPath } from '../../support/control-plane.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  waitFor,
} from '../../support/kube.ts';
import { applyChartRbac, chartServiceAccountKubeConfig, type ChartRbac } from './chart.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const info = inject('controlPlane');
const admin = kubeConfigFrom(info);

/** What the ServiceAccount behind `kc` may do, from the API server's authorizer. */
async function can(kc: KubeConfig, attributes: V1ResourceAttributes): Promise<boolean> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: attributes } },
  });
  return review.status?.allowed === true;
}

interface Check {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** undefined: cluster-wide (all namespaces). */
  namespace?: string;
  name?: string;
}

function describeCheck(c: Check): string {
  const what = `${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.group ? `.${c.group}` : ''}`;
  return `${c.verb} ${what}${c.name ? ` ${c.name}` : ''} ${c.namespace ? `in ${c.namespace}` : 'cluster-wide'}`;
}

async function verdicts(kc: KubeConfig, checks: readonly Check[]): Promise<string[]> {
  return Promise.all(
    checks.map(async (c) => `${(await can(kc, c)) ? 'allowed' : 'refused'}: ${describeCheck(c)}`),
  );
}

/** Applies the chart's RBAC with `values` and waits until the authorizer has seen it. */
async function chartIdentity(
  namespace: string,
  values?: Record<string, unknown>,
): Promise<{ rbac: ChartRbac; kc: KubeConfig }> {
  const rbac = await applyChartRbac(info, namespace, values);
  const kc = await chartServiceAccountKubeConfig(info, rbac);
  // RBAC reaches the authorizer through an informer: wait for a rule every variant grants.
  await waitFor(
    () => can(kc, { verb: 'create', resource: 'leases', group: 'coordination.k8s.io', namespace }),
    {
      description: `the chart's RBAC for ${rbac.release} to be in effect`,
    },
  );
  return { rbac, kc };
}

let kvsyncNamespace: string;
let appNamespace: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  kvsyncNamespace = await createTestNamespace(admin, 'rbac-kvsync');
  appNamespace = await createTestNamespace(admin, 'rbac-app');
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  for (const ns of [kvsyncNamespace, appNamespace]) {
    if (ns !== undefined) await deleteTestNamespace(admin, ns);
  }
});

describe('the chart ServiceAccount with default values', () => {
  let rbac: ChartRbac;
  let kc: KubeConfig;

  beforeAll(async () => {
    ({ rbac, kc } = await chartIdentity(kvsyncNamespace));
    cleanups.push(() => rbac.remove());
  });

  it('may do what kvsync needs', async () => {
    const ns = appNamespace;
    const needed: Check[] = [
      ...['get', 'list', 'watch'].map((verb) => ({
        verb,
        resource: 'vaultsecrets',
        group: 'kvsync.io',
      })),
      ...['get', 'patch', 'update'].map((verb) => ({
        verb,
        resource: 'vaultsecrets',
        subresource: 'status',
        group: 'kvsync.io',
        namespace: ns,
      })),
      {
        verb: 'update',
        resource: 'vaultsecrets',
        subresource: 'finalizers',
        group: 'kvsync.io',
        namespace: ns,
      },
      // The VaultSecrets ClusterVaultSecrets keep, and what selects them.
      ...['create', 'patch', 'delete'].map((verb) => ({
        verb,
        resource: 'vaultsecrets',
        group: 'kvsync.io',
        namespace: ns,
      })),
      ...['get', 'list', 'watch'].map((verb) => ({
        verb,
        resource: 'clustervaultsecrets',
        group: 'kvsync.io',
      })),
      {
        verb: 'patch',
        resource: 'clustervaultsecrets',
        subresource: 'status',
        group: 'kvsync.io',
      },
      {
        verb: 'update',
        resource: 'clustervaultsecrets',
        subresource: 'finalizers',
        group: 'kvsync.io',
      },
      ...['list', 'watch'].map((verb) => ({ verb, resource: 'namespaces' })),
      ...['list', 'watch'].map((verb) => ({ verb, resource: 'secrets' })),
      ...['get', 'create', 'update', 'patch'].map((verb) => ({
        verb,
        resource: 'secrets',
        namespace: ns,
      })),
      ...['create', 'patch'].map((verb) => ({ verb, resource: 'events', namespace: ns })),
      { verb: 'get', resource: 'serviceaccounts', namespace: ns },
      // Watched from the first failure of a per-namespace identity (its fix retries at once).
      ...['list', 'watch'].map((verb) => ({ verb, resource: 'serviceaccounts' })),
      { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: ns },
      {
        verb: 'create',
        resource: 'leases',
        group: 'coordination.k8s.io',
        namespace: rbac.namespace,
      },
      ...['get', 'update'].map((verb) => ({
        verb,
        resource: 'leases',
        group: 'coordination.k8s.io',
        namespace: rbac.namespace,
        name: rbac.leaseName,
      })),
    ];
    const results = await verdicts(kc, needed);
    expect(results.filter((r) => r.startsWith('refused'))).toEqual([]);
  });

  it('is refused what kvsync must not have', async () => {
    const ns = appNamespace;
    const forbidden: Check[] = [
      // Never deletes a Secret: Owner Secrets go by garbage collection.
      { verb: 'delete', resource: 'secrets', namespace: ns },
      { verb: 'deletecollection', resource: 'secrets', namespace: ns },
      // Writes VaultSecrets by server-side apply only (those a ClusterVaultSecret keeps).
      { verb: 'update', resource: 'vaultsecrets', group: 'kvsync.io', namespace: ns },
      { verb: 'deletecollection', resource: 'vaultsecrets', group: 'kvsync.io', namespace: ns },
      // Never changes a ClusterVaultSecret, only its status.
      ...['create', 'update', 'patch', 'delete'].map((verb) => ({
        verb,
        resource: 'clustervaultsecrets',
        group: 'kvsync.io',
      })),
      ...['create', 'patch', 'delete'].map((verb) => ({ verb, resource: 'namespaces' })),
      // Nothing else in the cluster.
      { verb: 'list', resource: 'pods' },
      { verb: 'create', resource: 'pods', namespace: ns },
      { verb: 'create', resource: 'pods', subresource: 'exec', namespace: ns },
      { verb: 'get', resource: 'configmaps', namespace: ns },
      { verb: 'list', resource: 'nodes' },
      { verb: 'create', resource: 'serviceaccounts', namespace: ns },
      { verb: 'patch', resource: 'serviceaccounts', namespace: ns },
      { verb: 'patch', resource: 'deployments', group: 'apps', namespace: ns }, // rolloutRestart off
      { verb: 'create', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io' },
      // No privilege escalation.
      { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
      {
        verb: 'create',
        resource: 'rolebindings',
        group: 'rbac.authorization.k8s.io',
        namespace: ns,
      },
      { verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
      { verb: 'escalate', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
      { verb: 'impersonate', resource: 'users' },
      { verb: 'impersonate', resource: 'serviceaccounts', namespace: ns },
      { verb: 'create', resource: 'certificatesigningrequests', group: 'certificates.k8s.io' },
      // Leases: only its own, only in its own namespace.
      {
        verb: 'update',
        resource: 'leases',
        group: 'coordination.k8s.io',
        namespace: rbac.namespace,
        name: 'another-controller',
      },
      {
        verb: 'get',
        resource: 'leases',
        group: 'coordination.k8s.io',
        namespace: 'kube-system',
        name: rbac.leaseName,
      },
      { verb: 'create', resource: 'leases', group: 'coordination.k8s.io', namespace: ns },
    ];
    const results = await verdicts(kc, forbidden);
    expect(results.filter((r) => r.startsWith('allowed'))).toEqual([]);
  });

  it("gives namespace users' aggregated roles (admin, edit, view) nothing on ClusterVaultSecrets", async () => {
    // A ClusterVaultSecret decides what kvsync's own identity reads in many namespaces: a
    // cluster-admin decision. Whatever the chart aggregates into the built-in roles must leave it out.
    const rbacApi = admin.makeApiClient(RbacAuthorizationV1Api);
    for (const role of ['admin', 'edit', 'view']) {
      const { rules } = await rbacApi.readClusterRole({ name: role });
      const granted = (rules ?? []).filter((rule) =>
        (rule.resources ?? []).some((r) => r === '*' || r.startsWith('clustervaultsecrets')),
      );
      expect(granted, `ClusterRole ${role}`).toEqual([]);
    }
  });

  it('documents what RBAC cannot narrow: reading any Secret in scope', async () => {
    // kvsync's informer selects app.kubernetes.io/managed-by=kvsync, but RBAC has no label
    // selectors: the grant covers every Secret. This pins the fact so a change is noticed; the
    // way to narrow it is watchNamespaces (a Role per namespace, tested below).
    expect(await can(kc, { verb: 'get', resource: 'secrets', namespace: 'kube-system' })).toBe(
      true,
    );
  });

  it('real requests with the token: writes a Secret, cannot delete it, cannot list pods', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: appNamespace,
      body: {
        metadata: {
          name: 'written-by-kvsync',
          labels: { 'app.kubernetes.io/managed-by': 'kvsync' },
        },
        stringData: { k: 'v' },
      },
    });
    await expect(
      core.deleteNamespacedSecret({ namespace: appNamespace, name: 'written-by-kvsync' }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(core.listPodForAllNamespaces()).rejects.toMatchObject({ code: 403 });
    // A token for its own ServiceAccount: what per-namespace identities use (issue 7).
    // (`default` is created by the ServiceAccount controller shortly after the namespace.)
    const token = await waitFor(
      () =>
        core.createNamespacedServiceAccountToken({
          namespace: appNamespace,
          name: 'default',
          body: { spec: { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 3600 } },
        }),
      { description: `a token for ServiceAccount ${appNamespace}/default` },
    );
    expect(token.status?.token).toBeTruthy();
  });

  it('kubectl auth can-i with the token agrees (what an administrator would run)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-sa-'));
    try {
      // A kubeconfig with only the token: kubectl's --token next to the admin kubeconfig would
      // still present the admin's client certificate.
      const file = path.join(dir, 'kubeconfig');
      await writeFile(file, kc.exportConfig(), { mode: 0o600 });
      const canI = async (...args: string[]) => {
        const result = await promisify(execFile)(toolPath(info.binDir, 'kubectl'), [
          'auth',
          'can-i',
          '--kubeconfig',
          file,
          ...args,
        ]).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
        return result.stdout.trim();
      };
      expect(await canI('patch', 'secrets', '-n', appNamespace)).toBe('yes');
      expect(await canI('delete', 'secrets', '-n', appNamespace)).toBe('no');
      expect(await canI('create', 'clusterrolebindings')).toBe('no');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('chart values that change RBAC', () => {
  it('perNamespaceIdentity.enabled=false: no TokenRequest, no ServiceAccount reads', async () => {
    const ns = await createTestNamespace(admin, 'rbac-noid');
    cleanups.push(() => deleteTestNamespace(admin, ns));
    const { rbac, kc } = await chartIdentity(ns, { perNamespaceIdentity: { enabled: false } });
    cleanups.push(() => rbac.remove());
    expect(
      await verdicts(kc, [
        {
          verb: 'create',
          resource: 'serviceaccounts',
          subresource: 'token',
          namespace: appNamespace,
        },
        { verb: 'get', resource: 'serviceaccounts', namespace: appNamespace },
        { verb: 'list', resource: 'serviceaccounts' },
        { verb: 'patch', resource: 'secrets', namespace: appNamespace },
      ]),
    ).toEqual([
      `refused: create serviceaccounts/token in ${appNamespace}`,
      `refused: get serviceaccounts in ${appNamespace}`,
      'refused: list serviceaccounts cluster-wide',
      `allowed: patch secrets in ${appNamespace}`,
    ]);
  });

  it('rolloutRestart.enabled=true: patch of Deployments, StatefulSets, DaemonSets, Argo Rollouts only, and its own key Secret', async () => {
    const ns = await createTestNamespace(admin, 'rbac-rollout');
    cleanups.push(() => deleteTestNamespace(admin, ns));
    // With watchNamespaces, so the key Secret in kvsync's own (unwatched) namespace is shown to
    // come from its own Role.
    const { rbac, kc } = await chartIdentity(ns, {
      rolloutRestart: { enabled: true },
      watchNamespaces: [appNamespace],
    });
    cleanups.push(() => rbac.remove());
    const results = await verdicts(kc, [
      ...['deployments', 'statefulsets', 'daemonsets'].map((resource) => ({
        verb: 'patch',
        resource,
        group: 'apps',
        namespace: appNamespace,
      })),
      { verb: 'patch', resource: 'rollouts', group: 'argoproj.io', namespace: appNamespace },
      { verb: 'get', resource: 'secrets', namespace: ns, name: 'kvsync-rollout-key' },
      { verb: 'create', resource: 'secrets', namespace: ns },
      { verb: 'delete', resource: 'deployments', group: 'apps', namespace: appNamespace },
      {
        verb: 'update',
        resource: 'deployments',
        subresource: 'scale',
        group: 'apps',
        namespace: appNamespace,
      },
      { verb: 'patch', resource: 'replicasets', group: 'apps', namespace: appNamespace },
      { verb: 'patch', resource: 'deployments', group: 'apps', namespace: ns },
      { verb: 'update', resource: 'secrets', namespace: ns, name: 'someone-elses' },
    ]);
    expect(results).toEqual([
      `allowed: patch deployments.apps in ${appNamespace}`,
      `allowed: patch statefulsets.apps in ${appNamespace}`,
      `allowed: patch daemonsets.apps in ${appNamespace}`,
      `allowed: patch rollouts.argoproj.io in ${appNamespace}`,
      `allowed: get secrets kvsync-rollout-key in ${ns}`,
      `allowed: create secrets in ${ns}`,
      `refused: delete deployments.apps in ${appNamespace}`,
      `refused: update deployments/scale.apps in ${appNamespace}`,
      `refused: patch replicasets.apps in ${appNamespace}`,
      `refused: patch deployments.apps in ${ns}`,
      `refused: update secrets someone-elses in ${ns}`,
    ]);
  });

  it('events.queueUrl set: Events in its own (unwatched) namespace, for its Pod, and nothing else there', async () => {
    const ns = await createTestNamespace(admin, 'rbac-self-events');
    cleanups.push(() => deleteTestNamespace(admin, ns));
    const { rbac, kc } = await chartIdentity(ns, {
      events: { queueUrl: 'https://kvevents.queue.core.windows.net/key-vault-events' },
      watchNamespaces: [appNamespace],
    });
    cleanups.push(() => rbac.remove());
    // Its own Role: in effect through the authorizer's informer, maybe after the Lease rule.
    await waitFor(() => can(kc, { verb: 'create', resource: 'events', namespace: ns }), {
      description: 'the self-events Role to be in effect',
    });
    expect(
      await verdicts(kc, [
        { verb: 'create', resource: 'events', namespace: ns },
        { verb: 'patch', resource: 'events', namespace: ns },
        { verb: 'list', resource: 'events', namespace: ns },
        { verb: 'list', resource: 'secrets', namespace: ns },
      ]),
    ).toEqual([
      `allowed: create events in ${ns}`,
      `refused: patch events in ${ns}`,
      `refused: list events in ${ns}`,
      `refused: list secrets in ${ns}`,
    ]);
  });

  it('watchNamespaces: Roles in the watched namespaces only; cluster-wide only the ClusterVaultSecret reads, and their credentials in its own namespace', async () => {
    const ns = await createTestNamespace(admin, 'rbac-scoped');
    cleanups.push(() => deleteTestNamespace(admin, ns));
    const { rbac, kc } = await chartIdentity(ns, { watchNamespaces: [appNamespace] });
    cleanups.push(() => rbac.remove());
    expect(rbac.clusterRoleName).toBeUndefined();
    // Its own Role: in effect through the authorizer's informer, maybe after the Lease rule.
    await waitFor(() => can(kc, { verb: 'get', resource: 'secrets', namespace: ns }), {
      description: 'the ClusterVaultSecret credentials Role to be in effect',
    });
    const results = await verdicts(kc, [
      { verb: 'list', resource: 'secrets', namespace: appNamespace },
      { verb: 'watch', resource: 'vaultsecrets', group: 'kvsync.io', namespace: appNamespace },
      { verb: 'list', resource: 'secrets' },
      { verb: 'get', resource: 'secrets', namespace: 'kube-system' },
      { verb: 'list', resource: 'vaultsecrets', group: 'kvsync.io', namespace: kvsyncNamespace },
      { verb: 'create', resource: 'vaultsecrets', group: 'kvsync.io', namespace: kvsyncNamespace },
      { verb: 'watch', resource: 'clustervaultsecrets', group: 'kvsync.io' },
      { verb: 'watch', resource: 'namespaces' },
      // A ClusterVaultSecret template's clientSecretRef lives in kvsync's own (unwatched) namespace.
      { verb: 'get', resource: 'secrets', namespace: ns, name: 'platform-creds' },
      { verb: 'list', resource: 'secrets', namespace: ns },
      { verb: 'watch', resource: 'secrets', namespace: ns },
      { verb: 'update', resource: 'secrets', namespace: ns, name: 'platform-creds' },
    ]);
    expect(results).toEqual([
      `allowed: list secrets in ${appNamespace}`,
      `allowed: watch vaultsecrets.kvsync.io in ${appNamespace}`,
      'refused: list secrets cluster-wide',
      'refused: get secrets in kube-system',
      `refused: list vaultsecrets.kvsync.io in ${kvsyncNamespace}`,
      `refused: create vaultsecrets.kvsync.io in ${kvsyncNamespace}`,
      'allowed: watch clustervaultsecrets.kvsync.io cluster-wide',
      'allowed: watch namespaces cluster-wide',
      `allowed: get secrets platform-creds in ${ns}`,
      `refused: list secrets in ${ns}`,
      `refused: watch secrets in ${ns}`,
      `refused: update secrets platform-creds in ${ns}`,
    ]);
  });
});
