// The VaultSecret CRD on a real API server: the YAML users apply is accepted, defaults are filled
// in, kubectl shows the printer columns, status is a subresource, and bad specs are refused with
// a message that says what is wrong.
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VaultSecret, VaultSecretSpec } from '../../src/api/vault-secret.ts';
import { group, plural, version } from '../../src/api/vault-secret.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  runTool,
  waitFor,
} from '../support/kube.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const objects = kc.makeApiClient(CustomObjectsApi);
const crdPath = fileURLToPath(new URL('../../crds/kvsync.io_vaultsecrets.yaml', import.meta.url));
let namespace: string;

const kubectl = (...args: string[]) => runTool(info, 'kubectl', args);

beforeAll(async () => {
  // What users run; server-side apply is idempotent if another test file installs it too.
  await kubectl(
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=kvsync-test',
    '-f',
    crdPath,
  );
  await kubectl('wait', '--for=condition=Established', '--timeout=60s', `crd/${plural}.${group}`);
  namespace = await createTestNamespace(kc, 'vsec-crd');
  await waitFor(
    () =>
      objects.listNamespacedCustomObject({ group, version, namespace, plural }).then(() => true),
    { description: 'the VaultSecret API to be served' },
  );
});

afterAll(async () => {
  if (namespace !== undefined) await deleteTestNamespace(kc, namespace);
});

function manifest(name: string, spec: unknown) {
  return { apiVersion: `${group}/${version}`, kind: 'VaultSecret', metadata: { name }, spec };
}

async function create(name: string, spec: unknown, dryRun = false): Promise<VaultSecret> {
  return (await objects.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural,
    body: manifest(name, spec),
    ...(dryRun ? { dryRun: 'All' } : {}),
  })) as VaultSecret;
}

/** The API server's message when it refuses the spec; fails the test when it accepts it. */
async function refusal(spec: unknown): Promise<string> {
  try {
    await create('refused', spec, true);
  } catch (err) {
    const { code, body } = err as { code?: number; body?: unknown };
    expect(code).toBe(422);
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
    return status.message ?? '';
  }
  throw new Error(`the API server accepted ${JSON.stringify(spec)}`);
}

const vaultUrl = 'https://payments-kv.vault.azure.net/';
const minimal = (): VaultSecretSpec => ({
  vault: { url: vaultUrl },
  data: [{ key: 'password', secret: { name: 'db-password' } }],
});

describe('a valid VaultSecret', () => {
  it('is stored with the defaults filled in', async () => {
    const created = await create('defaults', {
      ...minimal(),
      data: [
        { key: 'password', secret: { name: 'db-password' } },
        { certificate: { name: 'web-tls' } },
        {
          certificate: { name: 'api-tls', keys: { certificate: 'api.crt', privateKey: 'api.key' } },
        },
      ],
    });
    expect(created.spec.refreshInterval).toBeUndefined(); // the operator's default applies
    expect(created.spec.target).toEqual({ type: 'Opaque', creationPolicy: 'Owner' });
    expect(created.spec.data?.[1]?.certificate).toEqual({
      name: 'web-tls',
      includeRoot: false,
      keyFormat: 'pkcs8',
      format: 'pem',
    });
    expect(created.spec.data?.[2]?.certificate?.keys).toEqual({
      certificate: 'api.crt',
      privateKey: 'api.key',
    });
  });

  it('accepts the full example of DESIGN.md', async () => {
    const spec: VaultSecretSpec = {
      vault: {
        url: 'https://prod-payments-kv.vault.azure.net/',
        identity: {
          serviceAccountName: 'payments-app',
          clientId: '6f1c8d2e-0b7a-4c3e-9d51-2a8f4e6b7c90',
          tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        },
      },
      refreshInterval: '1h30m',
      target: {
        name: 'payments',
        type: 'Opaque',
        creationPolicy: 'Merge',
        labels: { team: 'payments' },
        annotations: { 'example.com/owner': 'payments' },
        template: { data: { url: 'postgres://{{ .user }}:{{ .password }}@db:5432/app' } },
      },
      data: [
        { key: 'password', secret: { name: 'db-password' } },
        { key: 'user', secret: { name: 'db-config', property: 'user' } },
        { key: 'pinned', secret: { name: 'api-key', version: '5f3c0a9b8e7d6c5b4a3928170f6e5d4c' } },
        { certificate: { name: 'web-tls', keys: { ca: 'ca.crt' } } },
        { key: 'keystore.pfx', certificate: { name: 'web-tls', format: 'pfx' } },
      ],
      dataFrom: [
        {
          find: { nameRegex: '^payments-', tags: { team: 'payments' } },
          rewrite: { stripPrefix: 'payments-' },
        },
        { secret: { name: 'app-settings' } },
      ],
      rolloutRestart: { targets: [{ kind: 'Deployment', name: 'payments-api' }] },
    };
    const created = await create('design-example', spec);
    expect(created.spec.vault).toEqual(spec.vault);
    expect(created.spec.dataFrom).toEqual(spec.dataFrom);
  });

  it('accepts "0" (sync once) and a client secret identity', async () => {
    const created = await create('once', {
      ...minimal(),
      refreshInterval: '0',
      vault: {
        url: 'https://127.0.0.1:8443',
        identity: { clientSecretRef: { name: 'azure-creds' } },
      },
    });
    expect(created.spec.refreshInterval).toBe('0');
  });
});

describe('kubectl', () => {
  it('lists VaultSecrets by short name and category with the printer columns', async () => {
    const name = 'columns';
    const vs = await create(name, minimal());
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await objects.replaceNamespacedCustomObjectStatus({
      group,
      version,
      namespace,
      plural,
      name,
      body: {
        ...vs,
        status: {
          observedGeneration: 1,
          secretName: 'columns-secret',
          expiresOn: '2030-01-01T00:00:00Z',
          syncedAt: now,
          lastRefreshTime: now,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Synced',
              message: '1 key from 1 object',
              lastTransitionTime: now,
              observedGeneration: 1,
            },
          ],
        },
      },
    });

    const table = await kubectl('get', 'vsec', name, '-n', namespace);
    const [header, row] = table.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'NAME',
      'SECRET',
      'READY',
      'REASON',
      'EXPIRES',
      'LAST CHECKED',
      'AGE',
    ]);
    const cells = row?.split(/\s+/) ?? [];
    expect(cells.slice(0, 5)).toEqual([
      name,
      'columns-secret',
      'True',
      'Synced',
      '2030-01-01T00:00:00Z',
    ]);
    // Last Checked is an age ("3s"), like Age.
    expect(cells[5]).toMatch(/^\d+s$/);

    const wide = await kubectl('get', 'vsec', name, '-n', namespace, '-o', 'wide');
    const [wideHeader, wideRow] = wide.trim().split('\n');
    expect(wideHeader?.split(/\s{2,}/).slice(-2)).toEqual(['VAULT', 'MESSAGE']);
    expect(wideRow?.split(/\s{2,}/).slice(-2)).toEqual([vaultUrl, '1 key from 1 object']);

    const byCategory = await kubectl('get', 'kvsync', '-n', namespace, '-o', 'name');
    expect(byCategory.split('\n')).toContain(`vaultsecret.${group}/${name}`);
  });

  it('keeps status out of spec writes (status subresource)', async () => {
    const name = 'subresource';
    const vs = await create(name, minimal());
    const written = (await objects.replaceNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name,
      body: {
        ...vs,
        spec: { ...vs.spec, refreshInterval: '15m' },
        status: { secretName: 'ignored' },
      },
    })) as VaultSecret;
    expect(written.spec.refreshInterval).toBe('15m');
    expect(written.status?.secretName).toBeUndefined();
    expect(written.metadata.generation).toBe(2);
  });
});

type Mutation = (spec: VaultSecretSpec & Record<string, unknown>) => void;

// [what is wrong, how the spec is broken, a part of the message users see]
const invalid: [string, Mutation, string][] = [
  [
    'plain http vault URL',
    (s) => void (s.vault.url = 'http://payments-kv.vault.azure.net/'),
    'must use https://',
  ],
  [
    'vault URL with a path',
    (s) => void (s.vault.url = 'https://payments-kv.vault.azure.net/secrets/x'),
    'is not a vault base URL',
  ],
  [
    'vault URL with user info',
    (s) => void (s.vault.url = 'https://evil.example@payments-kv.vault.azure.net/'),
    'without path, query or user info',
  ],
  [
    'missing vault',
    (s) => void delete (s as Record<string, unknown>).vault,
    'spec.vault: Required value',
  ],
  [
    'Key Vault name with an underscore',
    (s) => void (s.data = [{ key: 'password', secret: { name: 'db_password' } }]),
    '"db_password" is not a Key Vault object name',
  ],
  [
    'Secret key with a space',
    (s) => void (s.data = [{ key: 'db password', secret: { name: 'db-password' } }]),
    '"db password" is not a valid Secret key',
  ],
  [
    'the same key twice',
    (s) => void s.data?.push({ key: 'password', secret: { name: 'other' } }),
    'Secret key "password" would be written twice',
  ],
  [
    'a key that collides with a certificate default key',
    (s) =>
      void s.data?.push(
        { key: 'tls.key', secret: { name: 'k' } },
        { certificate: { name: 'web' } },
      ),
    'Secret key "tls.key" would be written twice',
  ],
  [
    'two certificates with default keys',
    (s) => void s.data?.push({ certificate: { name: 'a' } }, { certificate: { name: 'b' } }),
    'Secret key "tls.crt" would be written twice',
  ],
  [
    'both secret and certificate in one item',
    (s) => void (s.data = [{ key: 'x', secret: { name: 'a' }, certificate: { name: 'b' } }]),
    'exactly one of secret or certificate',
  ],
  [
    'neither secret nor certificate',
    (s) => void (s.data = [{ key: 'x' }]),
    'exactly one of secret or certificate',
  ],
  [
    'secret without key',
    (s) => void (s.data = [{ secret: { name: 'a' } }]),
    'key is required with secret',
  ],
  [
    'PFX certificate without key',
    (s) => void (s.data = [{ certificate: { name: 'web', format: 'pfx' } }]),
    'key is required with certificate.format pfx',
  ],
  [
    'version that is not 32 hex characters',
    (s) => void (s.data = [{ key: 'k', secret: { name: 'a', version: 'latest' } }]),
    '"latest" is not a Key Vault version',
  ],
  [
    'ServiceAccount in another namespace',
    (s) => void (s.vault.identity = { serviceAccountName: 'kube-system/admin' }),
    'is not a valid ServiceAccount name',
  ],
  [
    'ServiceAccount and client secret at once',
    (s) =>
      void (s.vault.identity = { serviceAccountName: 'app', clientSecretRef: { name: 'creds' } }),
    'at most one of serviceAccountName and clientSecretRef',
  ],
  [
    "client id override of the operator's identity",
    (s) => void (s.vault.identity = { clientId: '6f1c8d2e-0b7a-4c3e-9d51-2a8f4e6b7c90' }),
    "the operator's own identity cannot be overridden",
  ],
  [
    'tenant id that is not a GUID',
    (s) =>
      void (s.vault.identity = { serviceAccountName: 'app', tenantId: 'contoso.onmicrosoft.com' }),
    'is not a GUID',
  ],
  [
    'service account token target',
    (s) => void (s.target = { type: 'kubernetes.io/service-account-token' }),
    'never writes kubernetes.io/service-account-token Secrets',
  ],
  [
    'bootstrap token target',
    (s) => void (s.target = { type: 'bootstrap.kubernetes.io/token' }),
    'never writes bootstrap.kubernetes.io/token Secrets',
  ],
  ['nothing to sync', (s) => void (s.data = []), 'nothing to sync: set data or dataFrom'],
  [
    'invalid template key',
    (s) => void (s.target = { template: { data: { 'conn string': '{{ .password }}' } } }),
    'template key "conn string" is not a valid Secret key',
  ],
  [
    'template key also written by data',
    (s) => void (s.target = { template: { data: { password: '{{ .password }}' } } }),
    'template key "password" is also written by data',
  ],
  [
    'refresh interval in words',
    (s) => void (s.refreshInterval = '5 minutes'),
    'refreshInterval "5 minutes" is not a duration',
  ],
  [
    'refresh interval below 10s',
    (s) => void (s.refreshInterval = '5s'),
    'must be between 10s and 168h',
  ],
  [
    'unknown creation policy',
    (s) => void (s.target = { creationPolicy: 'Adopt' as 'Owner' }),
    'supported values: "Owner", "Merge", "Orphan"',
  ],
  [
    'reserved label on the Secret',
    (s) => void (s.target = { labels: { 'kvsync.io/managed': 'true' } }),
    'labels starting with kvsync.io/ are reserved',
  ],
  [
    'find without name or tags',
    (s) => void (s.dataFrom = [{ find: {} }]),
    'find needs nameRegex or tags',
  ],
  [
    'name regex longer than 256 characters',
    (s) => void (s.dataFrom = [{ find: { nameRegex: `^(${'a|'.repeat(150)}b)$` } }]),
    'may not be more than 256',
  ],
  [
    'invalid target name',
    (s) => void (s.target = { name: 'Payments_DB' }),
    '"Payments_DB" is not a valid Secret name',
  ],
  [
    'restart of an unsupported kind',
    (s) =>
      void (s.rolloutRestart = { targets: [{ kind: 'Job' as 'Deployment', name: 'migrate' }] }),
    'supported values: "Deployment", "StatefulSet", "DaemonSet", "Rollout"',
  ],
];

describe('an invalid VaultSecret is refused with a readable message', () => {
  it.each(invalid)('%s', async (_what, mutate, message) => {
    const spec = minimal() as VaultSecretSpec & Record<string, unknown>;
    mutate(spec);
    expect(await refusal(spec)).toContain(message);
  });
});
