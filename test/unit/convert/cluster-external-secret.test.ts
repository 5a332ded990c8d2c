// `kvsync convert` on ClusterExternalSecrets: the template is the ExternalSecret conversion, the
// namespace selection is ESO's union where one selector plus names can say it, the identity is one
// a ClusterVaultSecret may use, and consent covers every selected namespace.
import { describe, expect, it } from 'vitest';
import { convertDocuments } from '../../../src/convert/convert.ts';
import { convertFiles, documents, fixture, fixtures } from '../../support/eso-fixtures.ts';

const operatorStore = `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: { name: vault }
spec:
  provider:
    azurekv: { authType: ManagedIdentity, vaultUrl: https://kv.vault.azure.net/ }
`;

const storeRef = '    secretStoreRef: { kind: ClusterSecretStore, name: vault }\n';
const readA = '    data:\n    - { secretKey: a, remoteRef: { key: a } }\n';

/** A ClusterExternalSecret "shared": its selection (spec lines) and externalSecretSpec lines. */
function clusterExternalSecret(selection: string, externalSecretSpec = storeRef + readA): string {
  return `apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: { name: shared }
spec:
${selection}  externalSecretSpec:
${externalSecretSpec}`;
}

function convertCluster(spec: string) {
  const result = convertDocuments(
    documents(['store.yaml', operatorStore], ['ces.yaml', clusterExternalSecret(spec)]),
  );
  const report = result.reports.find((r) => r.object === 'ClusterExternalSecret shared');
  const manifest = result.manifests[0]?.manifest;
  return {
    result,
    report,
    spec: manifest?.kind === 'ClusterVaultSecret' ? manifest.spec : undefined,
  };
}

describe('the hand-made ClusterExternalSecrets', () => {
  const result = convertDocuments(fixtures('hand-made/cluster.yaml'));

  it('turns listed namespaces and a name selector into namespaces, keeping the Secret name', () => {
    expect(result.manifests[0]?.manifest).toEqual({
      apiVersion: 'kvsync.io/v1alpha1',
      kind: 'ClusterVaultSecret',
      metadata: { name: 'registry-pull' },
      spec: {
        namespaces: ['checkout', 'payments', 'search'],
        template: {
          vault: {
            url: 'https://platform-kv.vault.azure.net/',
            identity: {
              clientSecretRef: { name: 'platform-sp' },
              tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
            },
          },
          refreshInterval: '1h',
          target: {
            name: 'registry-credentials',
            creationPolicy: 'Owner',
            adopt: true,
            type: 'kubernetes.io/dockerconfigjson',
            template: {
              data: {
                '.dockerconfigjson': '{"auths":{"platformacr.azurecr.io":{"auth":"{{ .token }}"}}}',
              },
            },
          },
          data: [{ key: 'token', secret: { name: 'acr-pull-token' } }],
        },
      },
    });
    const report = result.reports.find((r) => r.object === 'ClusterExternalSecret registry-pull');
    expect(report?.notes).toEqual(
      expect.arrayContaining([
        "before applying: client secret platform-sp must be in kvsync's namespace (ESO read it from external-secrets)",
        'externalSecretName registry-credentials: kvsync names each VaultSecret like the ClusterVaultSecret (registry-pull); the Secret keeps its name registry-credentials through target.name',
        'refreshTime: kvsync watches namespaces, so a namespace that comes to match gets its VaultSecret without waiting for a re-scan',
      ]),
    );
  });

  it('keeps a v1beta1 selector and an empty one (every namespace), with the operator identity', () => {
    const specs = result.manifests.map(({ manifest }) => manifest.spec);
    expect(specs[1]).toMatchObject({
      namespaceSelector: {
        matchLabels: { telemetry: 'enabled' },
        matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['sandbox'] }],
      },
      template: {
        vault: { url: 'https://platform-kv.vault.azure.net/' },
        target: { name: 'telemetry-key', creationPolicy: 'Owner', adopt: true },
        dataFrom: [{ find: { nameRegex: '^telemetry-' }, rewrite: { stripPrefix: 'telemetry-' } }],
      },
    });
    expect(specs[2]).toMatchObject({
      namespaceSelector: {},
      template: { target: { name: 'trust-bundle', creationPolicy: 'Merge' } },
    });
    expect(specs[2]).not.toHaveProperty('namespaces');
    const telemetry = result.reports.find((r) => r.object === 'ClusterExternalSecret telemetry');
    expect(telemetry?.notes).toEqual([
      "ManagedIdentity: kvsync reads with the operator's own workload identity, which works in every namespace the ClusterVaultSecret selects; give that identity read access to the vault",
    ]);
  });

  it('grants consent in each listed namespace, and by selector where there is one', () => {
    expect(result.consent).toEqual([
      'kubectl annotate secret registry-credentials -n checkout kvsync.io/adopt-by=registry-pull',
      'kubectl annotate secret registry-credentials -n payments kvsync.io/adopt-by=registry-pull',
      'kubectl annotate secret registry-credentials -n search kvsync.io/adopt-by=registry-pull',
      "kubectl get namespaces -l 'telemetry=enabled,tier notin (sandbox)' -o name | cut -d/ -f2 | xargs -I{} kubectl annotate secret telemetry-key -n {} kvsync.io/adopt-by=telemetry",
      'kubectl get namespaces -o name | cut -d/ -f2 | xargs -I{} kubectl annotate secret trust-bundle -n {} kvsync.io/merge-from=cluster-ca',
    ]);
  });

  it('skips a ServiceAccount identity and two label selectors, saying what to do instead', () => {
    const report = result.reports.find((r) => r.object === 'ClusterExternalSecret team-tokens');
    expect(report?.converted).toBe(false);
    expect(report?.problems).toEqual([
      "WorkloadIdentity with serviceAccountRef eso-reader: a ClusterVaultSecret never reads with a ServiceAccount; give the store a ServicePrincipal (a clientSecretRef to a Secret in kvsync's namespace) or let kvsync read with the operator's identity (authType ManagedIdentity), then convert again",
      '2 namespace selectors: ESO selects the namespaces any of them matches, a ClusterVaultSecret has one selector (plus namespaces by name); give those namespaces one common label and select it, or list them under namespaces',
    ]);
    expect(result.manifests.map(({ manifest }) => manifest.metadata.name)).toEqual([
      'registry-pull',
      'telemetry',
      'cluster-ca',
    ]);
  });
});

describe('ClusterExternalSecret edge cases', () => {
  it('folds selectors by namespace name into namespaces beside one label selector', () => {
    const { spec, report } = convertCluster(`  namespaceSelectors:
  - matchLabels: { kubernetes.io/metadata.name: one }
  - matchLabels: { env: prod }
  - matchLabels: { env: prod }
  namespaces: [two]
`);
    expect(report?.problems).toEqual([]);
    expect(spec?.namespaceSelector).toEqual({ matchLabels: { env: 'prod' } });
    expect(spec?.namespaces).toEqual(['one', 'two']);
  });

  it('names the VaultSecrets and the Secret like the ClusterExternalSecret by default', () => {
    const { spec, report, result } = convertCluster(`  namespaces: [a]\n`);
    expect(spec?.template.target).toEqual({ name: 'shared', creationPolicy: 'Owner', adopt: true });
    expect(report?.notes.join('\n')).not.toContain('externalSecretName');
    expect(result.consent).toEqual([
      'kubectl annotate secret shared -n a kvsync.io/adopt-by=shared',
    ]);
  });

  it('refuses a SecretStore reference: each namespace would have its own', () => {
    const result = convertDocuments(
      documents([
        'ces.yaml',
        clusterExternalSecret(
          '  namespaces: [a]\n',
          `    secretStoreRef: { name: vault }\n${readA}`,
        ),
      ]),
    );
    expect(result.reports[0]?.problems).toEqual([
      'SecretStore vault: each selected namespace has its own SecretStore of that name, a ClusterVaultSecret reads one vault with one identity; point the ClusterExternalSecret at a ClusterSecretStore',
    ]);
  });

  it('refuses selectors that select nothing or are not label syntax (never printed to a shell)', () => {
    expect(convertCluster('').report?.problems).toEqual(['selects no namespace']);
    expect(
      convertCluster(`  namespaceSelector: { matchLabels: { "a;rm -rf /": x } }\n`).report
        ?.problems,
    ).toEqual(['namespaceSelectors[0].matchLabels must map label keys to label values']);
    expect(
      convertCluster(
        `  namespaceSelector: { matchExpressions: [{ key: env, operator: Exists, values: [x] }] }\n`,
      ).report?.problems,
    ).toEqual([
      'namespaceSelectors[0].matchExpressions[0]: In and NotIn need values; Exists and DoesNotExist take none',
    ]);
    const { result } = convertCluster(`  namespaces: ["$(id)"]\n`);
    expect(result.consent).toEqual([]);
    expect(result.reports[1]?.problems).toEqual([
      'namespaces: "$(id)" is not a namespace name',
      'selects no namespace',
    ]);
  });

  it('converts the template whole or not at all, with the ExternalSecret reasons', () => {
    const { report, result } = convertCluster(`  namespaces: [a]
  externalSecretMetadata: { labels: { team: x } }
`);
    expect(report?.notes).toContain(
      "externalSecretMetadata: the labels and annotations ESO put on each ExternalSecret are not put on kvsync's VaultSecrets",
    );
    expect(result.manifests).toHaveLength(1);
    const refused = convertDocuments(
      documents(
        ['store.yaml', operatorStore],
        [
          'ces.yaml',
          clusterExternalSecret(
            '  namespaces: [a]\n',
            `${storeRef}    refreshPolicy: CreatedOnce\n    data:\n    - { secretKey: a, remoteRef: { key: cert/a } }\n`,
          ),
        ],
      ),
    );
    expect(refused.manifests).toEqual([]);
    expect(refused.reports[1]?.problems).toEqual([
      'refreshPolicy CreatedOnce: kvsync refreshes periodically (refreshInterval "0" syncs once per spec change)',
      "data[0] (a): cert/a: ESO writes the certificate's public DER bytes; kvsync writes certificates as PEM with their key (data[].certificate), a different value",
    ]);
  });
});

describe("a ClusterExternalSecret's own ExternalSecrets", () => {
  const child = (controller: boolean, namespace: string, apiVersion = 'external-secrets.io/v1') =>
    `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: shared
  namespace: ${namespace}
  ownerReferences:
  - { apiVersion: ${apiVersion}, kind: ClusterExternalSecret, name: shared, uid: 0b3c, controller: ${controller} }
spec:
${(storeRef + readA).replace(/^ {2}/gm, '')}`;
  const children: [name: string, yaml: string][] = [
    ['made.yaml', child(true, 'a')],
    ['other.yaml', child(false, 'b')],
    ['foreign.yaml', child(true, 'c', 'example.com/v1')],
  ];

  it('are covered by its ClusterVaultSecret, so no second VaultSecret writes the Secret', () => {
    const result = convertDocuments(
      documents(['store.yaml', operatorStore], ...children, [
        'ces.yaml',
        clusterExternalSecret('  namespaces: [a]\n'),
      ]),
    );
    const made = result.reports.find((r) => r.object === 'ExternalSecret a/shared');
    expect(made?.converted).toBe(true);
    expect(made?.notes).toEqual([
      'made by ClusterExternalSecret shared: its ClusterVaultSecret covers this namespace (see its report), so no VaultSecret of its own',
    ]);
    expect(result.manifests.map(({ manifest }) => manifest.metadata)).toEqual([
      { name: 'shared', namespace: 'b' },
      { name: 'shared', namespace: 'c' },
      { name: 'shared' },
    ]);
  });

  it('are skipped, naming the ClusterExternalSecret to convert, when it is not in the input', () => {
    const result = convertDocuments(documents(['store.yaml', operatorStore], ...children));
    expect(result.reports.slice(1).map((r) => [r.object, r.problems])).toEqual([
      [
        'ExternalSecret a/shared',
        [
          'made by ClusterExternalSecret shared, which is not in the input: convert it (kubectl get clusterexternalsecrets -o yaml) to get a ClusterVaultSecret for every namespace it selects',
        ],
      ],
      ['ExternalSecret b/shared', []],
      ['ExternalSecret c/shared', []],
    ]);
  });
});

describe('the command on ClusterExternalSecrets', () => {
  it('writes ClusterVaultSecrets, counts them, and exits 1 for the skipped one', async () => {
    const { code, stdout, stderr } = await convertFiles(
      new Map([['cluster.yaml', fixture('hand-made/cluster.yaml')]]),
    );
    expect(code).toBe(1);
    expect(stdout.match(/^kind: ClusterVaultSecret$/gm)).toHaveLength(3);
    expect(stderr).toContain(
      '0 VaultSecrets and 3 ClusterVaultSecrets written; 1 of 7 objects skipped',
    );
    expect(stderr).toContain(
      'ClusterExternalSecret team-tokens (cluster.yaml document 7): skipped',
    );
  });
});
