// What the chart does to a cluster over time, against the real API server and the real helm:
// the CRD is a template of the release, so `helm upgrade` upgrades it and `crds.keep` decides
// whether `helm uninstall` leaves it; and the aggregated ClusterRoles let the people who may edit
// or view a namespace manage or read its VaultSecrets through Kubernetes' default roles.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthorizationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { chartCrdTemplate } from '../../../scripts/generate.ts';
import { vaultSecretCrd } from '../../../src/api/vault-secret-crd.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  runTool,
  waitFor,
} from '../../support/kube.ts';
import { chartDir, helmTemplate, kubectlWithManifest, KUBE_VERSION } from './chart.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const kubectl = (...args: string[]) => runTool(info, 'kubectl', args);
const helm = (...args: string[]) => runTool(info, 'helm', args);
const crdTemplatePath = 'templates/crds/kvsync.io_vaultsecrets.yaml';
const clusterCrdTemplatePath = 'templates/crds/kvsync.io_clustervaultsecrets.yaml';

let namespace: string;
let workDir: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'chart-lifecycle');
  workDir = await mkdtemp(path.join(tmpdir(), 'kvsync-chart-lifecycle-'));
});

afterAll(async () => {
  if (namespace !== undefined) await deleteTestNamespace(kc, namespace);
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/**
 * A copy of the chart whose VaultSecret CRD serves an API group, short name and category of its
 * own, so installing, upgrading and deleting it leaves alone the CRDs the other tests use (and
 * their `kubectl get vsec` / `kubectl get kvsync`). The copy has no ClusterVaultSecret CRD.
 * `crdTemplate` replaces the VaultSecret CRD template.
 */
async function chartCopy(name: string, group: string, crdTemplate?: string): Promise<string> {
  const dir = path.join(workDir, name);
  await cp(chartDir, dir, { recursive: true });
  await rm(path.join(dir, clusterCrdTemplatePath));
  const file = path.join(dir, crdTemplatePath);
  const template = crdTemplate ?? (await readFile(file, 'utf8'));
  const tag = group.split('.')[0]?.replace(/-/g, '') ?? 'copy';
  await writeFile(
    file,
    template
      .replace(/^ {2}name: vaultsecrets\.kvsync\.io$/m, `  name: vaultsecrets.${group}`)
      .replace(/^ {2}group: kvsync\.io$/m, `  group: ${group}`)
      .replace(/^( +shortNames:\n +- )vsec$/m, `$1${tag}`)
      .replace(/^( +categories:\n +- )kvsync$/m, `$1${tag}`),
  );
  return dir;
}

/** The chart's CRD template as an older chart had it: only the first printer column. */
function olderCrdTemplate(): string {
  const [version] = vaultSecretCrd.spec.versions;
  const older = {
    ...vaultSecretCrd,
    spec: {
      ...vaultSecretCrd.spec,
      versions: [
        { ...version, additionalPrinterColumns: version.additionalPrinterColumns.slice(0, 1) },
      ],
    },
  };
  return chartCrdTemplate(stringify(older, { lineWidth: 0 }));
}

interface LiveCrd {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { versions: { additionalPrinterColumns: object[] }[] };
}

async function liveCrd(group: string): Promise<LiveCrd | undefined> {
  try {
    return JSON.parse(await kubectl('get', `crd/vaultsecrets.${group}`, '-o', 'json')) as LiveCrd;
  } catch (error) {
    if (/NotFound|not found/.test((error as Error).message)) return undefined;
    throw error;
  }
}

const install = (verb: 'install' | 'upgrade', release: string, chart: string, ...set: string[]) =>
  helm(
    verb,
    release,
    chart,
    '--namespace',
    namespace,
    '--set',
    'rbac.aggregateToView=false,rbac.aggregateToEdit=false',
    ...set.flatMap((value) => ['--set', value]),
  );

describe('the CRD as a template of the release', () => {
  it('helm upgrade upgrades the CRD, and helm uninstall leaves it (crds.keep, the default)', async () => {
    const group = `kvsync-${randomBytes(3).toString('hex')}.example.com`;
    const release = `kvsync-${randomBytes(3).toString('hex')}`;
    try {
      const out = await install(
        'install',
        release,
        await chartCopy('older', group, olderCrdTemplate()),
      );
      expect(out).toContain(
        'The VaultSecret CRD is part of this release: helm upgrade upgrades it, and helm uninstall leaves it (crds.keep).',
      );
      const before = await liveCrd(group);
      expect(before?.spec.versions[0]?.additionalPrinterColumns).toHaveLength(1);
      expect(before?.metadata.annotations).toMatchObject({
        'helm.sh/resource-policy': 'keep',
        'meta.helm.sh/release-name': release,
      });

      await install('upgrade', release, await chartCopy('current', group));
      const after = await liveCrd(group);
      expect(after?.spec.versions[0]?.additionalPrinterColumns).toEqual(
        vaultSecretCrd.spec.versions[0].additionalPrinterColumns,
      );

      await helm('uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s');
      expect(await liveCrd(group)).toBeDefined();
    } finally {
      await kubectl('delete', '--ignore-not-found', `crd/vaultsecrets.${group}`);
    }
  });

  it('with crds.keep=false, helm uninstall deletes the CRD', async () => {
    const group = `kvsync-${randomBytes(3).toString('hex')}.example.com`;
    const release = `kvsync-${randomBytes(3).toString('hex')}`;
    try {
      await install('install', release, await chartCopy('unkept', group), 'crds.keep=false');
      expect((await liveCrd(group))?.metadata.annotations ?? {}).not.toHaveProperty(
        'helm.sh/resource-policy',
      );
      await helm('uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s');
      await waitFor(async () => (await liveCrd(group)) === undefined, {
        description: `CRD vaultsecrets.${group} to be deleted by helm uninstall`,
      });
    } finally {
      await kubectl('delete', '--ignore-not-found', `crd/vaultsecrets.${group}`);
    }
  });

  it('a release from before the CRD was templated takes its CRD over as docs/install.md says', async () => {
    const group = `kvsync-${randomBytes(3).toString('hex')}.example.com`;
    const release = `kvsync-${randomBytes(3).toString('hex')}`;
    const chart = await chartCopy('takeover', group);
    const crd = `crd/vaultsecrets.${group}`;
    try {
      // As before: the CRD applied by kubectl (Helm's crds/ or by hand), the release without it.
      const manifest = await helm(
        'template',
        release,
        chart,
        '--kube-version',
        KUBE_VERSION,
        '--show-only',
        crdTemplatePath,
      );
      await kubectlWithManifest(info, ['apply', '--server-side'], manifest);
      await install('install', release, chart, 'crds.install=false');

      await expect(install('upgrade', release, chart)).rejects.toThrow(
        /invalid ownership metadata/,
      );
      await kubectl('label', crd, 'app.kubernetes.io/managed-by=Helm');
      await kubectl(
        'annotate',
        crd,
        `meta.helm.sh/release-name=${release}`,
        `meta.helm.sh/release-namespace=${namespace}`,
      );
      await install('upgrade', release, chart);
      expect((await liveCrd(group))?.metadata.annotations).toMatchObject({
        'helm.sh/resource-policy': 'keep',
      });
      await helm('uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s');
    } finally {
      await kubectl('delete', '--ignore-not-found', crd);
    }
  });

  it('with crds.install=false, the release has no CRD', async () => {
    const manifest = await helmTemplate(info, {
      release: 'kvsync',
      namespace,
      values: { crds: { install: false } },
    });
    expect(manifest).not.toContain('kind: CustomResourceDefinition');
  });
});

describe('aggregated ClusterRoles', () => {
  const authorization = kc.makeApiClient(AuthorizationV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

  async function allowed(user: string, verb: string, subresource = ''): Promise<boolean> {
    const review = await authorization.createSubjectAccessReview({
      body: {
        spec: {
          user,
          resourceAttributes: {
            group: 'kvsync.io',
            resource: 'vaultsecrets',
            subresource,
            verb,
            namespace,
          },
        },
      },
    });
    return review.status?.allowed === true;
  }

  async function bind(user: string, clusterRole: 'edit' | 'view'): Promise<void> {
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: `${user}-${clusterRole}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    });
  }

  it('namespace editors manage VaultSecrets and viewers read them, through the default roles', async () => {
    const suffix = randomBytes(3).toString('hex');
    const editor = `editor-${suffix}`;
    const viewer = `viewer-${suffix}`;
    await bind(editor, 'edit');
    await bind(viewer, 'view');
    // Kubernetes' default roles know nothing of VaultSecrets...
    expect(await allowed(editor, 'create')).toBe(false);
    expect(await allowed(viewer, 'list')).toBe(false);

    const release = `kvsync-${suffix}`;
    const manifest = await helmTemplate(info, {
      release,
      namespace,
      extraArgs: ['--show-only', 'templates/aggregated-roles.yaml'],
    });
    try {
      await kubectlWithManifest(info, ['apply'], manifest);
      // ...until kube-controller-manager folds the chart's roles into them.
      await waitFor(() => allowed(editor, 'create'), {
        description: 'the edit role to grant create on VaultSecrets',
      });
      for (const verb of [
        'get',
        'list',
        'watch',
        'update',
        'patch',
        'delete',
        'deletecollection',
      ]) {
        expect({ verb, allowed: await allowed(editor, verb) }).toEqual({ verb, allowed: true });
      }
      await waitFor(() => allowed(viewer, 'list'), {
        description: 'the view role to grant list on VaultSecrets',
      });
      expect(await allowed(viewer, 'get')).toBe(true);
      expect(await allowed(viewer, 'watch')).toBe(true);
      expect(await allowed(viewer, 'get', 'status')).toBe(true);
      for (const verb of ['create', 'update', 'patch', 'delete']) {
        expect({ verb, allowed: await allowed(viewer, verb) }).toEqual({ verb, allowed: false });
      }
      // Nobody may write status but kvsync.
      expect(await allowed(editor, 'update', 'status')).toBe(false);
    } finally {
      await kubectl(
        'delete',
        '--ignore-not-found',
        `clusterrole/${release}-edit`,
        `clusterrole/${release}-view`,
      );
    }
  });
});
