// Proof that the test control plane is a real Kubernetes: storage, CRDs, RBAC, service-account
// tokens verifiable by an outside party, garbage collection, kubectl and helm, and clean teardown.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlane, type ControlPlaneProcess } from '../support/control-plane.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigForToken,
  kubeConfigFrom,
  runTool,
  serviceAccountToken,
  waitFor,
} from '../support/kube.ts';
import { isAlive } from '../support/processes.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const core = kc.makeApiClient(CoreV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
let namespace: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'control-plane');
});

afterAll(async () => {
  await deleteTestNamespace(kc, namespace);
});

const isNotFound = (err: unknown) => (err as { code?: number }).code === 404;

async function gone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

describe('the API server', () => {
  it('creates, reads, updates, lists and deletes a Secret', async () => {
    const name = 'crud';
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, labels: { suite: 'crud' } },
        stringData: { token: 'placeholder-1' },
      },
    });

    const read = await core.readNamespacedSecret({ name, namespace });
    expect(Buffer.from(read.data?.token ?? '', 'base64').toString()).toBe('placeholder-1');

    read.data = { token: Buffer.from('placeholder-2').toString('base64') };
    const replaced = await core.replaceNamespacedSecret({ name, namespace, body: read });
    expect(replaced.metadata?.resourceVersion).not.toBe(read.metadata?.resourceVersion);
    const reread = await core.readNamespacedSecret({ name, namespace });
    expect(Buffer.from(reread.data?.token ?? '', 'base64').toString()).toBe('placeholder-2');

    const listed = await core.listNamespacedSecret({ namespace, labelSelector: 'suite=crud' });
    expect(listed.items.map((s) => s.metadata?.name)).toEqual([name]);

    await core.deleteNamespacedSecret({ name, namespace });
    expect(await gone(() => core.readNamespacedSecret({ name, namespace }))).toBe(true);
  });

  it('serves a CustomResourceDefinition once applied, with its schema enforced', async () => {
    const group = `g${randomBytes(4).toString('hex')}.test.kvsync.io`;
    const crd: V1CustomResourceDefinition = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                },
              },
            },
          },
        ],
      },
    };
    const extensions = kc.makeApiClient(ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({ body: crd });
    try {
      await waitFor(
        async () => {
          const current = await extensions.readCustomResourceDefinition({
            name: `widgets.${group}`,
          });
          return current.status?.conditions?.some(
            (c) => c.type === 'Established' && c.status === 'True',
          );
        },
        { description: `CRD widgets.${group} to be Established` },
      );

      const objects = kc.makeApiClient(CustomObjectsApi);
      const widget = (size: number, name: string) => ({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { size } },
      });
      await objects.createNamespacedCustomObject(widget(3, 'small'));
      const read = (await objects.getNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        name: 'small',
      })) as { spec: { size: number } };
      expect(read.spec.size).toBe(3);
      await expect(objects.createNamespacedCustomObject(widget(0, 'empty'))).rejects.toMatchObject({
        code: 422,
      });
    } finally {
      await extensions.deleteCustomResourceDefinition({ name: `widgets.${group}` });
    }
  });

  it('authorizes a ServiceAccount by RBAC: 200 where a Role allows, 403 elsewhere', async () => {
    const sa = 'limited';
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'limited-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
      },
    });
    // A token for the API server's own audience (the issuer), as a pod would get.
    const token = await serviceAccountToken(kc, namespace, sa, info.issuer, 600);
    const asSa = kubeConfigForToken(info, token);

    const review = await asSa
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${namespace}:${sa}`);

    const saCore = asSa.makeApiClient(CoreV1Api);
    await waitFor(() => saCore.listNamespacedConfigMap({ namespace }).then(() => true), {
      description: 'the RoleBinding to let the ServiceAccount list ConfigMaps',
    });
    await expect(saCore.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
    await expect(saCore.listNamespacedConfigMap({ namespace: 'default' })).rejects.toMatchObject({
      code: 403,
    });
  });

  it('issues workload-identity tokens that verify against the JWKS anyone can fetch', async () => {
    const sa = 'workload';
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    const token = await serviceAccountToken(kc, namespace, sa, 'api://AzureADTokenExchange', 3600);

    // Like Entra ID: no credentials, only trust in the issuer's TLS certificate.
    const dispatcher = new Agent({ connect: { ca: await readFile(info.caFile, 'utf8') } });
    try {
      const discoveryResponse = await fetch(`${info.issuer}/.well-known/openid-configuration`, {
        dispatcher,
      });
      expect(discoveryResponse.status).toBe(200);
      const discovery = (await discoveryResponse.json()) as { issuer: string; jwks_uri: string };
      expect(discovery.issuer).toBe(info.issuer);
      const jwksResponse = await fetch(discovery.jwks_uri, { dispatcher });
      expect(jwksResponse.status).toBe(200);
      const keys = createLocalJWKSet((await jwksResponse.json()) as JSONWebKeySet);

      const { payload, protectedHeader } = await jwtVerify(token, keys, {
        issuer: info.issuer,
        audience: 'api://AzureADTokenExchange',
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload.sub).toBe(`system:serviceaccount:${namespace}:${sa}`);
      expect(payload.aud).toEqual(['api://AzureADTokenExchange']);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

      const [header, body, signature] = token.split('.') as [string, string, string];
      const forged = `${header}.${body}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      await expect(jwtVerify(forged, keys, { issuer: info.issuer })).rejects.toThrow(/signature/);
      await expect(
        jwtVerify(token, keys, { issuer: info.issuer, audience: info.issuer }),
      ).rejects.toThrow(/aud/);
    } finally {
      await dispatcher.close();
    }
  });
});

describe('the controller manager', () => {
  it('garbage-collects an object when its owner is deleted', async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'owner' } },
    });
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' },
          ],
        },
        stringData: { token: 'placeholder' },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace });
    await waitFor(() => gone(() => core.readNamespacedSecret({ name: 'dependent', namespace })), {
      description: 'the Secret owned by a deleted ConfigMap to be garbage-collected',
      timeoutMs: 60_000,
    });
  });

  it('finishes deleting a namespace and its contents', async () => {
    const doomed = await createTestNamespace(kc, 'doomed');
    await core.createNamespacedConfigMap({
      namespace: doomed,
      body: { metadata: { name: 'content' } },
    });
    await deleteTestNamespace(kc, doomed);
    await waitFor(() => gone(() => core.readNamespace({ name: doomed })), {
      description: `namespace ${doomed} to be deleted by the namespace controller`,
      timeoutMs: 60_000,
    });
  });
});

describe('command-line tools', () => {
  it('kubectl talks to it with the admin kubeconfig', async () => {
    const version = JSON.parse(await runTool(info, 'kubectl', ['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(
      await runTool(info, 'kubectl', [
        'get',
        'namespace',
        namespace,
        '-o',
        'jsonpath={.status.phase}',
      ]),
    ).toBe('Active');
    expect((await runTool(info, 'kubectl', ['auth', 'can-i', '*', '*'])).trim()).toBe('yes');
  });

  it('helm installs, lists and uninstalls a chart', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'kvsync-helm-'));
    try {
      const chart = path.join(home, 'tiny');
      await mkdir(path.join(chart, 'templates'), { recursive: true });
      await writeFile(
        path.join(chart, 'Chart.yaml'),
        'apiVersion: v2\nname: tiny\nversion: 0.1.0\n',
      );
      await writeFile(path.join(chart, 'values.yaml'), 'greeting: hello\n');
      await writeFile(
        path.join(chart, 'templates', 'configmap.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
      );
      // Keep helm's cache and config out of the user's home.
      const env = {
        HELM_CACHE_HOME: path.join(home, 'cache'),
        HELM_CONFIG_HOME: path.join(home, 'config'),
        HELM_DATA_HOME: path.join(home, 'data'),
      };
      const helm = (...args: string[]) => runTool(info, 'helm', args, env);

      await helm(
        'install',
        'tiny',
        chart,
        '--namespace',
        namespace,
        '--set',
        'greeting=hi',
        '--wait',
      );
      const configMap = await core.readNamespacedConfigMap({ name: 'tiny-greeting', namespace });
      expect(configMap.data?.greeting).toBe('hi');
      const releases = JSON.parse(await helm('list', '--namespace', namespace, '-o', 'json')) as {
        name: string;
        status: string;
      }[];
      expect(releases.map(({ name, status }) => ({ name, status }))).toEqual([
        { name: 'tiny', status: 'deployed' },
      ]);

      await helm('uninstall', 'tiny', '--namespace', namespace, '--wait');
      expect(
        await gone(() => core.readNamespacedConfigMap({ name: 'tiny-greeting', namespace })),
      ).toBe(true);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('lifecycle', () => {
  // Every supervisor and server has the control plane's directory in its arguments.
  const processesUsing = (dir: string): number[] =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
        } catch {
          return false; // exited meanwhile
        }
      })
      .map(Number);

  const allPids = (processes: readonly ControlPlaneProcess[]) =>
    processes.flatMap((p) => [p.pid, p.supervisorPid]);

  it('stop() leaves no process and no directory behind', async () => {
    const cp = await startControlPlane({ binDir: info.binDir });
    const pids = allPids(cp.processes);
    expect(pids.every(isAlive)).toBe(true);

    await cp.stop();

    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesUsing(cp.dir)).toEqual([]);
    expect(existsSync(cp.dir)).toBe(false);
  });

  it('leaves no process behind when the Node process that started it is SIGKILLed', async () => {
    const cli = fileURLToPath(new URL('../support/cluster-cli.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, '--json'], {
      env: { ...process.env, KVSYNC_BIN_DIR: info.binDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const started = JSON.parse(line) as { dir: string; processes: ControlPlaneProcess[] };
    try {
      const pids = allPids(started.processes);
      expect(pids.every(isAlive)).toBe(true);

      child.kill('SIGKILL');
      await exited;

      await waitFor(() => pids.every((pid) => !isAlive(pid)), {
        description: `control-plane processes ${pids.join(', ')} to exit after their parent was killed`,
        timeoutMs: 30_000,
      });
      expect(processesUsing(started.dir)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await rm(started.dir, { recursive: true, force: true });
    }
  });

  it('leaves no process behind when interrupted while still starting', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-cp-interrupted-'));
    const cli = fileURLToPath(new URL('../support/cluster-cli.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, '--dir', dir], {
      env: { ...process.env, KVSYNC_BIN_DIR: info.binDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      // Interrupt as soon as etcd is up, while the API server is still starting.
      const lines = createInterface({ input: child.stderr });
      for await (const line of lines) if (line.startsWith('etcd healthy')) break;
      child.kill('SIGINT');
      await exited;
      await waitFor(() => processesUsing(dir).length === 0, {
        description: `every process using ${dir} to exit after the interrupt`,
        timeoutMs: 30_000,
      });
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tears down what it started when a component fails to start, and names its log', async () => {
    const bin = await mkdtemp(path.join(tmpdir(), 'kvsync-bin-'));
    const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-cp-failing-'));
    try {
      await symlink(path.join(info.binDir, 'etcd'), path.join(bin, 'etcd'));
      await symlink(
        path.join(info.binDir, 'kube-controller-manager'),
        path.join(bin, 'kube-controller-manager'),
      );
      const broken = path.join(bin, 'kube-apiserver');
      await writeFile(
        broken,
        '#!/bin/sh\necho "this kube-apiserver refuses to start" >&2\nexit 3\n',
      );
      await chmod(broken, 0o755);

      const failure = startControlPlane({ binDir: bin, dir });
      await expect(failure).rejects.toThrow(/kube-apiserver exited \(exit code 3\)/);
      await expect(failure).rejects.toThrow(path.join(dir, 'kube-apiserver.log'));
      await expect(failure).rejects.toThrow(/this kube-apiserver refuses to start/);
      // etcd was running by then; it must be gone too.
      expect(processesUsing(dir)).toEqual([]);
    } finally {
      await rm(bin, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
