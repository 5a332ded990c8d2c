// Hand-made ESO inputs: every mapping kvsync convert makes, every refusal with its reason, and
// input that is hostile or not ESO at all.
import { describe, expect, it } from 'vitest';
import { convertDocuments } from '../../../src/convert/convert.ts';
import { goDurationMs, refreshIntervalOf } from '../../../src/convert/duration.ts';
import { Findings } from '../../../src/convert/fields.ts';
import { convertFiles, documents, fixtures } from '../../support/eso-fixtures.ts';

const store = `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: { name: vault, namespace: team }
spec:
  provider:
    azurekv:
      vaultUrl: https://team-kv.vault.azure.net/
      tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
      authSecretRef:
        clientId: { name: azure-sp, key: ClientID }
        clientSecret: { name: azure-sp, key: ClientSecret }
`;

function externalSecret(spec: string): string {
  return `apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: { name: app, namespace: team }
spec:
  secretStoreRef: { name: vault }
${spec}`;
}

function convertSpec(spec: string) {
  const result = convertDocuments(
    documents(['store.yaml', store], ['es.yaml', externalSecret(spec)]),
  );
  const report = result.reports.find((r) => r.object === 'ExternalSecret team/app');
  const manifest = result.manifests[0]?.manifest;
  return { result, report, spec: manifest?.kind === 'VaultSecret' ? manifest.spec : undefined };
}

describe('the hand-made migration example', () => {
  it('maps data, properties, decoding, find with tags and prefix, extract and templates', () => {
    const result = convertDocuments(fixtures('hand-made/migration.yaml'));
    expect(result.reports.every((r) => r.converted)).toBe(true);
    expect(result.manifests[0]?.manifest.spec).toEqual({
      vault: {
        url: 'https://payments-kv.vault.azure.net/',
        identity: {
          serviceAccountName: 'payments-reader',
          tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        },
      },
      refreshInterval: '1h',
      target: {
        name: 'payments-env',
        creationPolicy: 'Owner',
        adopt: true,
        type: 'Opaque',
        labels: { team: 'payments' },
        template: {
          data: {
            DATABASE_URL: 'postgres://{{ .user }}:{{ index . "db-password" }}@db:5432/payments',
            'signing-key': '{{ index . "signing-key.base64" | b64dec }}',
          },
        },
      },
      data: [
        { key: 'db-password', secret: { name: 'db-password' } },
        { key: 'user', secret: { name: 'db-config', property: 'user' } },
        { key: 'signing-key.base64', secret: { name: 'signing-key' } },
      ],
      dataFrom: [
        {
          find: { nameRegex: '^payments-', tags: { team: 'payments' } },
          rewrite: { stripPrefix: 'payments-' },
        },
        { secret: { name: 'app-settings' } },
      ],
    });
    expect(result.consent).toEqual([
      'kubectl annotate secret payments-env kvsync.io/adopt-by=payments',
    ]);
  });

  it('skips each unsupported feature with its reason', () => {
    const result = convertDocuments(fixtures('hand-made/unsupported.yaml'));
    expect(result.manifests).toEqual([]);
    const problems = new Map(result.reports.map((r) => [r.object, r.problems]));
    expect(Object.fromEntries(problems)).toEqual({
      'ClusterSecretStore shared-vault': [],
      'SecretStore team/vault': [],
      'ExternalSecret team/cross-namespace-identity': [
        "ServiceAccount eso-reader is in namespace external-secrets: kvsync reads identities only from the VaultSecret's own namespace (team)",
      ],
      'ExternalSecret team/created-once': [
        'refreshPolicy CreatedOnce: kvsync refreshes periodically (refreshInterval "0" syncs once per spec change)',
      ],
      'ExternalSecret team/sprig': [
        'target.template.data: template for key "url", line 1 column 13: unknown function replace',
      ],
      'ExternalSecret team/generated': [
        'dataFrom[0]: sourceRef.generatorRef: generators have no kvsync equivalent',
      ],
      'ExternalSecret team/no-write': [
        'data[0] (a): decodingStrategy Auto: kvsync decodes only when told (Base64)',
        'target.immutable: kvsync rewrites the Secret when a value rotates',
        'creationPolicy None: kvsync always writes the Secret it syncs',
      ],
      'ExternalSecret team/rewrite': [
        'dataFrom[0]: rewrite: kvsync only strips a literal prefix (regexp source "^prefix", target "")',
      ],
      'Password team/pw': ['generators have no kvsync equivalent'],
    });
  });
});

describe('mappings', () => {
  it('uses the client secret of a ServicePrincipal store and says which keys it needs', () => {
    const { report, spec } = convertSpec(`  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`);
    expect(spec?.vault).toEqual({
      url: 'https://team-kv.vault.azure.net/',
      identity: {
        clientSecretRef: { name: 'azure-sp' },
        tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      },
    });
    expect(report?.notes).toEqual([
      'before applying: Secret azure-sp needs the key clientId (ESO read azure-sp/ClientID)',
      'before applying: Secret azure-sp needs the key clientSecret (ESO read azure-sp/ClientSecret)',
    ]);
  });

  it.each([
    ['Owner', { creationPolicy: 'Owner', adopt: true }, 'kvsync.io/adopt-by=app'],
    ['Orphan', { creationPolicy: 'Orphan', adopt: true }, 'kvsync.io/adopt-by=app'],
    ['Merge', { creationPolicy: 'Merge' }, 'kvsync.io/merge-from=app'],
  ])('creationPolicy %s', (policy, target, annotation) => {
    const { result, spec } = convertSpec(
      `  target: { name: app-secret, creationPolicy: ${policy} }\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
    );
    expect(spec?.target).toEqual({ name: 'app-secret', ...target });
    expect(result.consent).toEqual([`kubectl annotate secret app-secret -n team ${annotation}`]);
  });

  it('pins versions and notes deletion policies kvsync treats as Retain', () => {
    const version = 'a'.repeat(32);
    const { report, spec } = convertSpec(
      `  target: { deletionPolicy: Delete }\n  data:\n  - { secretKey: a, remoteRef: { key: secret/a, version: ${version} } }\n`,
    );
    expect(spec?.data).toEqual([{ key: 'a', secret: { name: 'a', version } }]);
    expect(report?.notes).toContain(
      'deletionPolicy Delete: kvsync keeps the last Secret when objects disappear from the vault (like Retain)',
    );
  });

  it('keeps a template kvsync can run and says the source keys stay', () => {
    const { report, spec } = convertSpec(
      `  target:\n    template:\n      data:\n        url: '{{ .host | lower }}:{{ index . "db-port" | trim }}'\n  data:\n  - { secretKey: host, remoteRef: { key: host } }\n  - { secretKey: db-port, remoteRef: { key: port } }\n`,
    );
    expect(spec?.target?.template?.data).toEqual({
      url: '{{ .host | lower }}:{{ index . "db-port" | trim }}',
    });
    expect(report?.notes).toContain(
      "the Secret also keeps the source keys (host, db-port): kvsync writes fetched keys beside template keys, where ESO's mergePolicy Replace wrote only the template's",
    );
  });

  it('finds every secret when find has neither name nor tags', () => {
    const { spec } = convertSpec(`  dataFrom:\n  - find: {}\n`);
    expect(spec?.dataFrom).toEqual([{ find: { nameRegex: '.*' } }]);
  });

  it('reads kubectl List output', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: documents(
        ['s', store],
        ['e', externalSecret('  data:\n  - { secretKey: a, remoteRef: { key: a } }\n')],
      ).map((d) => d.value),
    };
    const result = convertDocuments([{ source: 'list.yaml document 1', value: list }]);
    expect(result.manifests.map((m) => m.source)).toEqual(['list.yaml document 1 item 2']);
  });
});

describe('refusals', () => {
  it.each([
    [
      'a template key that is also a data key',
      `  target: { template: { data: { a: '{{ .a | upper }}' } } }\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
      'template key a is also a data key: kvsync keeps fetched keys, so each key needs one source',
    ],
    [
      'a template reading a value nothing fetches',
      `  target: { template: { data: { b: '{{ .missing }}' } } }\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
      'template b reads missing, which no data item fetches',
    ],
    [
      'a template on a value ESO decoded first',
      `  target: { template: { data: { b: '{{ .a }}' } } }\n  data:\n  - { secretKey: a, remoteRef: { key: a, decodingStrategy: Base64 } }\n`,
      'template b reads a, which ESO base64-decoded first: kvsync templates see fetched values, write b64dec in the template instead',
    ],
    [
      'an engine v1 template',
      `  target: { template: { engineVersion: v1, data: { b: x } } }\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
      'target.template.engineVersion v1: kvsync converts v2 templates only',
    ],
    [
      'templateFrom',
      `  target: { template: { templateFrom: [{ literal: x }] } }\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
      'target.template.templateFrom: kvsync templates are inline (target.template.data) only',
    ],
    [
      'a JSON path property',
      `  data:\n  - { secretKey: a, remoteRef: { key: a, property: "users.#.name" } }\n`,
      'data[0] (a): property "users.#.name" uses JSON path syntax kvsync does not have',
    ],
    [
      'a key written twice',
      `  data:\n  - { secretKey: a, remoteRef: { key: a } }\n  - { secretKey: a, remoteRef: { key: b } }\n`,
      'data[1] (a): the key is written twice',
    ],
    [
      'a name Key Vault cannot have',
      `  data:\n  - { secretKey: a, remoteRef: { key: "my_secret" } }\n`,
      'data[0] (a): "my_secret" is not a Key Vault object name',
    ],
    [
      'a non-hex version',
      `  data:\n  - { secretKey: a, remoteRef: { key: a, version: latest } }\n`,
      'data[0] (a): version "latest" is not a Key Vault version',
    ],
    [
      'labels in kvsync.io/',
      `  target: { template: { metadata: { labels: { kvsync.io/vaultsecret: x } } } }\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
      "target.template.metadata.labels kvsync.io/vaultsecret: kvsync.io/ is kvsync's",
    ],
    [
      'a second store per item',
      `  data:\n  - { secretKey: a, remoteRef: { key: a }, sourceRef: { storeRef: { name: other } } }\n`,
      'data[0] (a): sourceRef.storeRef: a VaultSecret reads one vault; split it into one VaultSecret per store',
    ],
    [
      'OnChange refreshes',
      `  refreshPolicy: OnChange\n  data:\n  - { secretKey: a, remoteRef: { key: a } }\n`,
      'refreshPolicy OnChange: kvsync refreshes periodically (refreshInterval "0" syncs once per spec change)',
    ],
  ])('%s', (_, spec, problem) => {
    const { result, report } = convertSpec(spec);
    expect(report?.problems).toContain(problem);
    expect(result.manifests).toEqual([]);
    expect(result.consent).toEqual([]);
  });

  it('skips ExternalSecrets whose store is refused, naming it', () => {
    const result = convertDocuments(
      documents(
        ['store.yaml', store.replace('azurekv:', 'aws:')],
        ['es.yaml', externalSecret('  data:\n  - { secretKey: a, remoteRef: { key: a } }\n')],
      ),
    );
    expect(result.reports.map((r) => r.problems)).toEqual([
      ['provider aws: kvsync reads Azure Key Vault only (provider azurekv)'],
      ['SecretStore vault cannot be converted (see its report)'],
    ]);
  });

  it('treats user names as data, never as object properties', () => {
    const { spec, report } = convertSpec(
      `  target:\n    template:\n      metadata: { labels: { __proto__: x } }\n  dataFrom:\n  - find: { tags: { __proto__: y, constructor: z } }\n`,
    );
    expect(report?.problems).toEqual([]);
    expect(Object.keys(spec?.target?.labels ?? {})).toEqual(['__proto__']);
    expect(Object.keys(spec?.dataFrom?.[0]?.find?.tags ?? {})).toEqual([
      '__proto__',
      'constructor',
    ]);
  });
});

describe('refreshInterval', () => {
  it.each([
    ['1h0m0s', 3_600_000],
    ['2h30m', 9_000_000],
    ['1.5h', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['0', 0],
    ['', undefined],
    ['1d', undefined],
    ['-1h', undefined],
  ])('Go duration %j is %j ms', (text, ms) => {
    expect(goDurationMs(text)).toBe(ms);
  });

  it.each([
    [undefined, '1h', undefined],
    ['1h0m0s', '1h', undefined],
    ['90s', '1m30s', undefined],
    ['0s', '0', undefined],
    ['5s', '10s', 'refreshInterval 5s became 10s'],
    ['500h', '168h', 'refreshInterval 500h became 168h'],
    ['1500ms', '10s', 'refreshInterval 1500ms became 10s'],
    ['90.5s', '1m31s', 'refreshInterval 90.5s became 1m31s'],
  ])('%j becomes %j', (text, expected, note) => {
    const findings = new Findings();
    expect(refreshIntervalOf(text, findings)).toBe(expected);
    if (note) expect(findings.notes[0]).toContain(note);
  });
});

describe('the command', () => {
  it('refuses input that is not YAML without quoting it, naming file and document', async () => {
    const files = new Map([
      ['ok.yaml', store],
      ['bad.yaml', `${store}---\npassword: [hunter2\n`],
    ]);
    const { code, stdout, stderr } = await convertFiles(files);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^kvsync convert: bad.yaml document 2: not YAML \(\w+ at line \d+, column \d+\)\n$/,
    );
    expect(stderr).not.toContain('hunter2');
  });

  it('reads stdin, writes YAML, reports and prints the consent lines', async () => {
    const input = `${store}---\n${externalSecret('  data:\n  - { secretKey: a, remoteRef: { key: a } }\n')}`;
    const { code, stdout, stderr } = await convertFiles(new Map([['-', input]]), []);
    expect(code).toBe(0);
    expect(stdout).toContain(
      '# converted from stdin document 2\napiVersion: kvsync.io/v1alpha1\nkind: VaultSecret\n',
    );
    expect(stderr).toContain('ExternalSecret team/app (stdin document 2): converted\n');
    expect(stderr).toContain('kubectl annotate secret app -n team kvsync.io/adopt-by=app\n');
  });

  it('exits 1 when an object was skipped, still writing the others', async () => {
    const input = `${store}---\n${externalSecret('  data:\n  - { secretKey: a, remoteRef: { key: key/a } }\n')}`;
    const { code, stdout, stderr } = await convertFiles(new Map([['in.yaml', input]]));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'ExternalSecret team/app (in.yaml document 2): skipped\n  not converted: data[0] (a): key/a',
    );
  });

  it('names a file it cannot read', async () => {
    const { code, stderr } = await convertFiles(new Map(), ['missing.yaml']);
    expect(code).toBe(2);
    expect(stderr).toBe('kvsync convert: missing.yaml: cannot be read (ENOENT)\n');
  });
});
