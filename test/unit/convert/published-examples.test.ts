// `kvsync convert` on the External Secrets Operator project's own Azure Key Vault examples
// (test/fixtures/eso/snippets, sources in its README): what converts, to what, and what is
// refused with which reason.
import { describe, expect, it } from 'vitest';
import { convertDocuments } from '../../../src/convert/convert.ts';
import { documents, fixtures } from '../../support/eso-fixtures.ts';

const snippet = (name: string) => `snippets/${name}`;

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

describe('ESO Azure Key Vault examples', () => {
  it('turns the PKCS#12 TLS example into a certificate item, adopting the Secret', () => {
    const result = convertDocuments(
      fixtures(
        snippet('azkv-secret-store-mi.yaml'),
        snippet('azkv-pkcs12-cert-external-secret.yaml'),
      ),
    );
    expect(only(result.manifests).manifest).toEqual({
      apiVersion: 'kvsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name: 'tls-client-credentials' },
      spec: {
        vault: { url: 'https://my-keyvault-name.vault.azure.net/' },
        refreshInterval: '1h',
        target: {
          name: 'tls-client-credentials',
          creationPolicy: 'Owner',
          adopt: true,
          type: 'kubernetes.io/tls',
        },
        data: [
          {
            certificate: {
              name: 'tls-client-credentials',
              includeRoot: true,
              keys: { certificate: 'tls.crt', privateKey: 'tls.key' },
            },
          },
        ],
      },
    });
    expect(result.consent).toEqual([
      'kubectl annotate secret tls-client-credentials kvsync.io/adopt-by=tls-client-credentials',
    ]);
    const report = result.reports.find((r) => r.object === 'ExternalSecret tls-client-credentials');
    expect(report?.converted).toBe(true);
    expect(report?.notes.join('\n')).toContain(
      "ManagedIdentity <MI_clientId>: kvsync reads with the operator's own workload identity",
    );
  });

  it('refuses the object-types example for each item kvsync cannot reproduce', () => {
    const result = convertDocuments(
      fixtures(snippet('azkv-secret-store-mi.yaml'), snippet('azkv-external-secret.yaml')),
    );
    expect(result.manifests).toEqual([]);
    const report = result.reports.find((r) => r.object === 'ExternalSecret database-credentials');
    expect(report?.converted).toBe(false);
    expect(report?.problems).toEqual([
      'data[2] (database-credentials-metadata): remoteRef.metadataPolicy Fetch is not supported by kvsync',
      'data[3] (database-credentials): remoteRef.metadataPolicy Fetch is not supported by kvsync',
      expect.stringContaining(
        "data[4] (db-client-cert): cert/db-client-cert: ESO writes the certificate's public DER bytes",
      ),
      'data[5] (encryption-pubkey): key/encryption-pubkey: kvsync syncs secrets and certificates, not Key Vault keys',
    ]);
  });

  it('refuses the dataFrom example only for the tag extraction', () => {
    const example = fixtures(snippet('azkv-datafrom-external-secret.yaml'));
    expect(only(convertDocuments(example).reports).problems).toEqual([
      'SecretStore example is not in the input: convert it together with its store',
    ]);
    const store = documents([
      'store.yaml',
      'apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: { name: example }\nspec: { provider: { azurekv: { authType: ManagedIdentity, vaultUrl: "https://example.vault.azure.net" } } }\n',
    ]);
    const result = convertDocuments([...example, ...store]);
    expect(result.reports[0]?.problems).toEqual([
      'dataFrom[3]: extract.metadataPolicy Fetch is not supported by kvsync',
    ]);
  });

  it('refuses stores that authenticate with a client certificate', () => {
    for (const name of ['azkv-secret-store.yaml', 'azkv-secret-store-spn-certificate.yaml']) {
      const report = only(convertDocuments(fixtures(snippet(name))).reports);
      expect(report.problems).toEqual([
        'authSecretRef.clientCertificate: kvsync authenticates with workload identity or a client secret, not a client certificate',
      ]);
    }
  });

  it('refuses the v1alpha1 example', () => {
    const report = only(
      convertDocuments(fixtures(snippet('akv-data-from-external-secret.yaml'))).reports,
    );
    expect(report.problems[0]).toBe(
      'external-secrets.io/v1alpha1 is not converted: export the object from the cluster (kubectl get -o yaml serves v1) and convert that',
    );
  });

  it('treats the ServiceAccount beside the workload-identity store as bad input', () => {
    const result = convertDocuments(fixtures(snippet('azkv-workload-identity.yaml')));
    expect(result.badInput).toEqual([
      'snippets/azkv-workload-identity.yaml document 1: v1 ServiceAccount workload-identity-sa is not an External Secrets Operator object',
    ]);
    expect(result.manifests).toEqual([]);
  });

  it('never repeats the content of a Secret in the input', () => {
    const result = convertDocuments(fixtures(snippet('azkv-pushsecret-secret.yaml')));
    expect(result.badInput).toEqual([
      'snippets/azkv-pushsecret-secret.yaml document 1: v1 Secret source-secret is not an External Secrets Operator object',
    ]);
    expect(JSON.stringify(result)).not.toContain('my-secret');
  });

  it('skips the fan-out example: another provider, a missing store', () => {
    const result = convertDocuments(fixtures(snippet('cluster-external-secret-fanout.yaml')));
    expect(result.reports.map((r) => [r.object, r.problems])).toEqual([
      [
        'ExternalSecret eso-fanout-source/shared-credentials',
        [
          'ClusterSecretStore my-upstream-store is not in the input: convert it together with its store',
        ],
      ],
      [
        'ClusterSecretStore shared-credentials-store',
        ['provider kubernetes: kvsync reads Azure Key Vault only (provider azurekv)'],
      ],
      [
        'ClusterExternalSecret shared-credentials',
        ['ClusterSecretStore shared-credentials-store cannot be converted (see its report)'],
      ],
    ]);
  });
});
