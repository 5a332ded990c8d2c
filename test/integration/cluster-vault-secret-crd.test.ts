// The ClusterVaultSecret CRD on a real API server: cluster-scoped, its template validated by the
// VaultSecret schema itself, identity limited to the platform team's, namespaces selected one way
// or another, and kubectl shows the counts.
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClusterVaultSecretSpec } from '../../src/api/cluster-vault-secret.ts';
import { clusterPlural } from '../../src/api/cluster-vault-secret.ts';
import { group, version } from '../../src/api/vault-secret.ts';
import { installCrds } from '../support/crds.ts';
import { kubeConfigFrom, runTool } from '../support/kube.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const objects = kc.makeApiClient(CustomObjectsApi);

beforeAll(async () => {
  await installCrds(kc);
});

const body = (name: string, spec: unknown) => ({
  apiVersion: `${group}/${version}`,
  kind: 'ClusterVaultSecret',
  metadata: { name },
  spec,
});

/** The API server's message when it refuses the spec (server-side dry run). */
async function refusal(spec: unknown): Promise<string> {
  try {
    await objects.createClusterCustomObject({
      group,
      version,
      plural: clusterPlural,
      body: body('refused', spec),
      dryRun: 'All',
    });
  } catch (err) {
    const { code, body: status } = err as { code?: number; body?: unknown };
    expect(code).toBe(422);
    const parsed = (typeof status === 'string' ? JSON.parse(status) : status) as {
      message?: string;
    };
    return parsed.message ?? '';
  }
  throw new Error(`the API server accepted ${JSON.stringify(spec)}`);
}

const template: ClusterVaultSecretSpec['template'] = {
  vault: { url: 'https://platform-kv.vault.azure.net/' },
  data: [{ key: '.dockerconfigjson', secret: { name: 'registry-pull' } }],
  target: { type: 'kubernetes.io/dockerconfigjson' },
};

describe('the ClusterVaultSecret CRD', () => {
  it('stores a valid one cluster-wide, with the template defaulted like a VaultSecret', async () => {
    const created = (await objects.createClusterCustomObject({
      group,
      version,
      plural: clusterPlural,
      body: body('crd-valid', {
        namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] },
        namespaces: ['kube-public'],
        template,
      }),
      dryRun: 'All',
    })) as { metadata: { namespace?: string }; spec: ClusterVaultSecretSpec };
    expect(created.metadata.namespace).toBeUndefined();
    expect(created.spec.template.target).toEqual({
      type: 'kubernetes.io/dockerconfigjson',
      creationPolicy: 'Owner',
    });
  });

  it.each<[string, unknown, string]>([
    ['no namespaces selected', { template }, 'select namespaces: set namespaceSelector'],
    ['an empty namespaces list', { namespaces: [], template }, 'select namespaces'],
    [
      'a ServiceAccount of the target namespace',
      {
        namespaces: ['a'],
        template: {
          ...template,
          vault: { ...template.vault, identity: { serviceAccountName: 'app' } },
        },
      },
      "kvsync's own identity or a clientSecretRef",
    ],
    [
      'a template the VaultSecret schema refuses',
      {
        namespaces: ['a'],
        template: { ...template, vault: { url: 'http://plain.vault.azure.net/' } },
      },
      'spec.template.vault.url',
    ],
    [
      'In without values',
      { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In' }] }, template },
      'In and NotIn need values',
    ],
  ])('refuses %s', async (_what, spec, message) => {
    expect(await refusal(spec)).toContain(message);
  });

  it('kubectl get cvsec shows the counts; -o wide adds the vault and the message', async () => {
    const name = `crd-columns-${randomBytes(3).toString('hex')}`;
    await objects.createClusterCustomObject({
      group,
      version,
      plural: clusterPlural,
      body: body(name, { namespaces: [`${name}-absent`], template }),
    });
    try {
      const header = (args: string[]) =>
        runTool(info, 'kubectl', ['get', ...args]).then((out) => out.split('\n')[0]?.split(/\s+/));
      expect(await header(['cvsec', name])).toEqual([
        'NAME',
        'SELECTED',
        'SYNCED',
        'FAILED',
        'READY',
        'REASON',
        'AGE',
      ]);
      expect(await header(['clustervaultsecrets', name, '-o', 'wide'])).toEqual(
        expect.arrayContaining(['VAULT', 'MESSAGE']),
      );
      expect(await runTool(info, 'kubectl', ['get', 'kvsync', '-o', 'name'])).toContain(
        `clustervaultsecret.kvsync.io/${name}`,
      );
    } finally {
      await objects.deleteClusterCustomObject({ group, version, plural: clusterPlural, name });
    }
  });
});
