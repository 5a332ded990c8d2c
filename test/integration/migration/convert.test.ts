// What `kvsync convert` writes is accepted by the real API server (the CRD's schema and CEL), and
// synced against the Key Vault double it gives the Secret the data ESO's semantics give, taking
// over the Secret ESO left behind.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { convertDocuments } from '../../../src/convert/convert.ts';
import type { VaultSecretManifest } from '../../../src/convert/external-secret.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import { makeChain, toPfxBase64 } from '../../support/certs.ts';
import { serverSideApply } from '../../support/crds.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import { decoded, readSecret, startSyncEnvironment, waitForReady } from '../../support/kvsync.ts';
import { documents, fixtures } from '../../support/eso-fixtures.ts';

const servicePrincipal = `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: { name: sp }
spec:
  provider:
    azurekv:
      vaultUrl: https://team-kv.vault.azure.net
      authSecretRef:
        clientId: { name: azure-sp, key: clientId }
        clientSecret: { name: azure-sp, key: clientSecret }
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: { name: merged }
spec:
  refreshInterval: 15m
  secretStoreRef: { name: sp }
  target: { name: existing, creationPolicy: Merge }
  data:
  - { secretKey: token, remoteRef: { key: api-token, decodingStrategy: Base64URL } }
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: { name: orphaned }
spec:
  refreshInterval: "0"
  secretStoreRef: { name: sp }
  target: { creationPolicy: Orphan, template: { type: kubernetes.io/basic-auth, data: { username: "{{ .user | trim }}" } } }
  data:
  - { secretKey: password, remoteRef: { key: secret/password, version: 0123456789abcdef0123456789abcdef } }
  - { secretKey: user, remoteRef: { key: user } }
`;

function converted(...inputs: Parameters<typeof convertDocuments>[0][]): VaultSecretManifest[] {
  return inputs.flatMap((input) => {
    const result = convertDocuments(input);
    expect(result.manifests.length).toBeGreaterThan(0);
    return result.manifests.flatMap(({ manifest }) =>
      manifest.kind === 'VaultSecret' ? [manifest] : [],
    );
  });
}

describe('converted VaultSecrets on the real API server', () => {
  let env: SyncEnvironment;
  let vault: FakeVault;

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), { prefix: 'convert' });
    vault = env.azure.keyVault.createVault('convert');
    vault.grant(env.clientId);
  });

  afterAll(async () => {
    await env?.close();
  });

  /** The manifest in the test namespace, reading the double instead of Azure. */
  function here(manifest: VaultSecretManifest): VaultSecretManifest {
    return {
      ...manifest,
      metadata: { ...manifest.metadata, namespace: env.namespace },
      spec: {
        ...manifest.spec,
        vault: { ...manifest.spec.vault, url: env.azure.vaultUrl('convert') },
      },
    };
  }

  it('accepts every converted manifest (server-side dry run)', async () => {
    const manifests = converted(
      fixtures(
        'snippets/azkv-secret-store-mi.yaml',
        'snippets/azkv-pkcs12-cert-external-secret.yaml',
      ),
      fixtures('hand-made/migration.yaml'),
      documents(['service-principal.yaml', servicePrincipal]),
    );
    expect(manifests.map((m) => m.metadata.name)).toEqual([
      'tls-client-credentials',
      'payments',
      'merged',
      'orphaned',
    ]);
    const api = KubernetesObjectApi.makeApiClient(env.kc);
    for (const manifest of manifests) {
      const object = { ...manifest, metadata: { ...manifest.metadata, namespace: env.namespace } };
      await expect(api.create(object as never, undefined, 'All')).resolves.toMatchObject({
        metadata: { name: manifest.metadata.name },
      });
    }
  });

  it('accepts every converted ClusterVaultSecret (server-side dry run)', async () => {
    const result = convertDocuments(fixtures('hand-made/cluster.yaml'));
    const clusters = result.manifests.flatMap(({ manifest }) =>
      manifest.kind === 'ClusterVaultSecret' ? [manifest] : [],
    );
    expect(clusters.map((m) => `${m.kind} ${m.metadata.name}`)).toEqual([
      'ClusterVaultSecret registry-pull',
      'ClusterVaultSecret telemetry',
      'ClusterVaultSecret cluster-ca',
    ]);
    const api = KubernetesObjectApi.makeApiClient(env.kc);
    for (const manifest of clusters) {
      await expect(api.create(manifest as never, undefined, 'All')).resolves.toMatchObject({
        kind: 'ClusterVaultSecret',
        metadata: { name: manifest.metadata.name },
        spec: { template: { target: manifest.spec.template.target } },
      });
    }
  });

  it("syncs the migration example to ESO's data, adopting ESO's Secret", async () => {
    const signingKey = 'convert-test-signing-key-bytes\u0000\u00ff';
    const eso = {
      'db-password': 'convert-test-password-4e1a',
      user: 'payments_app',
      'signing-key': signingKey,
      DATABASE_URL: 'postgres://payments_app:convert-test-password-4e1a@db:5432/payments',
      'api-key': 'convert-test-api-key-77b0',
      LOG_LEVEL: 'info',
      RETRIES: '3',
    };
    vault.setSecret('db-password', eso['db-password']);
    vault.setSecret('db-config', JSON.stringify({ user: eso.user, port: 5432 }));
    const encodedKey = Buffer.from(signingKey, 'latin1').toString('base64');
    vault.setSecret('signing-key', encodedKey);
    vault.setSecret('payments-api-key', eso['api-key'], { tags: { team: 'payments' } });
    vault.setSecret('payments-legacy', 'not-selected', { tags: { team: 'other' } });
    vault.setSecret('other-payments', 'not-selected', { tags: { team: 'payments' } });
    vault.setSecret('app-settings', JSON.stringify({ LOG_LEVEL: 'info', RETRIES: 3 }));
    // What ESO wrote, now consenting to adoption.
    await serverSideApply(env.kc, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'payments-env',
        namespace: env.namespace,
        annotations: { 'kvsync.io/adopt-by': 'payments' },
      },
      data: Object.fromEntries(
        Object.entries(eso).map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('base64')]),
      ),
    });

    const [manifest] = converted(fixtures('hand-made/migration.yaml'));
    await serverSideApply(env.kc, here(manifest!));
    await waitForReady(env.kc, env.namespace, 'payments', { status: 'True', reason: 'Synced' });

    const secret = await readSecret(env.kc, env.namespace, 'payments-env');
    const data = Object.fromEntries(
      Object.entries(secret?.data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString('latin1'),
      ]),
    );
    // ESO's keys and values, plus the encoded copy the converter reported keeping.
    expect(data).toEqual({ ...eso, 'signing-key.base64': encodedKey });
  });

  it("syncs ESO's PKCS#12 example to what pkcs12cert and pkcs12key give", async () => {
    const chain = await makeChain({ keyType: 'rsa-2048', length: 3 });
    await vault.importCertificate('tls-client-credentials', {
      pfxBase64: await toPfxBase64(chain, { includeRoot: true }),
    });
    const [manifest] = converted(
      fixtures(
        'snippets/azkv-secret-store-mi.yaml',
        'snippets/azkv-pkcs12-cert-external-secret.yaml',
      ),
    );
    await serverSideApply(env.kc, here(manifest!));
    await waitForReady(env.kc, env.namespace, 'tls-client-credentials', {
      status: 'True',
      reason: 'Synced',
    });
    const secret = await readSecret(env.kc, env.namespace, 'tls-client-credentials');
    expect(secret?.type).toBe('kubernetes.io/tls');
    expect(decoded(secret)).toEqual({
      // pkcs12cert: every certificate, leaf / intermediate(s) / root; pkcs12key: PKCS#8 PEM.
      'tls.crt': chain.issuingOrder.map((cert) => cert.pem).join(''),
      'tls.key': chain.leafKeyPem,
    });
  });
});
