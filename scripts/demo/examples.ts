// What the demo puts in the vaults and asks kvsync for: a plain secret, a JSON property, a
// certificate whose chain is stored in reverse order, a namespace that reads its own vault with
// its own federated identity, and one that tries to borrow the operator's identity.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { VaultSecretSpec } from '../../src/api/vault-secret.ts';
import {
  serviceAccountSubject,
  type AzureDoubles,
  type FakeVault,
} from '../../test/support/azure/index.ts';
import { makeChain, makeKey, toPemBundle, type TestChain } from '../../test/support/certs.ts';

export interface DemoNamespaces {
  /** kvsync's Lease. */
  readonly system: string;
  /** Reads its vault with the operator's identity. */
  readonly shop: string;
  /** Reads its own vault with its own identity. */
  readonly team: string;
}

export interface DemoExample {
  readonly namespace: string;
  readonly name: string;
  readonly what: string;
  readonly spec: VaultSecretSpec;
  /** Ready status the example must reach. */
  readonly expect: { readonly status: 'True' | 'False'; readonly reason: string };
}

/** What is in the vaults, kept to check the Secrets without printing a value. */
export interface VaultContents {
  readonly shopVault: FakeVault;
  readonly teamVault: FakeVault;
  readonly teamClientId: string;
  dbPassword: string;
  readonly dbConfig: { readonly user: string; readonly host: string };
  readonly apiKey: string;
  chain: TestChain;
}

export const SERVICE_ACCOUNT = 'kv-reader';
export const REFRESH_INTERVAL = '10s';

export async function fillVaults(
  azure: AzureDoubles,
  operatorClientId: string,
  names: { shopVault: string; teamVault: string },
  namespaces: DemoNamespaces,
  issuer: string,
): Promise<VaultContents> {
  const shopVault = azure.keyVault.createVault(names.shopVault);
  const dbPassword = newValue();
  shopVault.setSecret('db-password', dbPassword);
  const dbConfig = { user: 'shop_app', host: 'db.shop.internal' };
  shopVault.setSecret('db-config', JSON.stringify({ ...dbConfig, port: 5432 }), {
    contentType: 'application/json',
  });
  const chain = await makeChain({ keyType: 'ec-p256', length: 3, leafCommonName: 'shop.example' });
  // Key Vault returns a chain in upload order; this one was uploaded root first.
  await shopVault.importCertificate('web-tls', {
    pem: toPemBundle(chain, { order: 'reverse', key: 'last' }),
  });
  shopVault.grant(operatorClientId, { readOnly: true });

  // team-a's own app registration, federated with its ServiceAccount, granted only its vault.
  const teamApp = azure.entra.registerApp({
    federatedCredentials: [
      { issuer, subject: serviceAccountSubject(namespaces.team, SERVICE_ACCOUNT) },
    ],
  });
  const teamVault = azure.keyVault.createVault(names.teamVault);
  const apiKey = newValue();
  teamVault.setSecret('api-key', apiKey);
  teamVault.grant(teamApp.clientId, { readOnly: true });
  return {
    shopVault,
    teamVault,
    teamClientId: teamApp.clientId,
    dbPassword,
    dbConfig,
    apiKey,
    chain,
  };
}

export async function createNamespaces(
  kc: KubeConfig,
  namespaces: DemoNamespaces,
  teamClientId: string,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of [namespaces.system, namespaces.shop, namespaces.team]) {
    await core.createNamespace({
      body: { metadata: { name, labels: { 'kvsync.io/demo': 'true' } } },
    });
  }
  await core.createNamespacedServiceAccount({
    namespace: namespaces.team,
    body: {
      metadata: {
        name: SERVICE_ACCOUNT,
        annotations: { 'azure.workload.identity/client-id': teamClientId },
      },
    },
  });
}

export function examples(
  azure: AzureDoubles,
  names: { shopVault: string; teamVault: string },
  namespaces: DemoNamespaces,
): DemoExample[] {
  const shopUrl = azure.vaultUrl(names.shopVault);
  const teamUrl = azure.vaultUrl(names.teamVault);
  const synced = { status: 'True', reason: 'Synced' } as const;
  return [
    {
      namespace: namespaces.shop,
      name: 'db-password',
      what: 'a plain secret',
      spec: {
        vault: { url: shopUrl },
        refreshInterval: REFRESH_INTERVAL,
        data: [{ key: 'password', secret: { name: 'db-password' } }],
      },
      expect: synced,
    },
    {
      namespace: namespaces.shop,
      name: 'db-config',
      what: 'properties of a JSON secret',
      spec: {
        vault: { url: shopUrl },
        refreshInterval: REFRESH_INTERVAL,
        data: [
          { key: 'username', secret: { name: 'db-config', property: 'user' } },
          { key: 'host', secret: { name: 'db-config', property: 'host' } },
        ],
      },
      expect: synced,
    },
    {
      namespace: namespaces.shop,
      name: 'web-tls',
      what: 'a certificate as a kubernetes.io/tls Secret',
      spec: {
        vault: { url: shopUrl },
        refreshInterval: REFRESH_INTERVAL,
        target: { type: 'kubernetes.io/tls' },
        data: [{ certificate: { name: 'web-tls', keys: { ca: 'ca.crt' } } }],
      },
      expect: synced,
    },
    {
      namespace: namespaces.team,
      name: 'api-key',
      what: `team-a's own vault, with its ServiceAccount ${SERVICE_ACCOUNT} (workload identity)`,
      spec: {
        vault: { url: teamUrl, identity: { serviceAccountName: SERVICE_ACCOUNT } },
        refreshInterval: REFRESH_INTERVAL,
        data: [{ key: 'api-key', secret: { name: 'api-key' } }],
      },
      expect: synced,
    },
    {
      namespace: namespaces.team,
      name: 'borrowed',
      what: "shop's vault with the operator's identity, which team-a may not use",
      spec: {
        vault: { url: shopUrl },
        refreshInterval: REFRESH_INTERVAL,
        data: [{ key: 'password', secret: { name: 'db-password' } }],
      },
      expect: { status: 'False', reason: 'IdentityNotAllowed' },
    },
  ];
}

/** New versions of db-password and web-tls (a new key, a new chain). */
export async function rotate(contents: VaultContents): Promise<void> {
  contents.dbPassword = newValue();
  contents.shopVault.setSecret('db-password', contents.dbPassword);
  contents.chain = await makeChain({
    keyType: 'ec-p256',
    length: 3,
    leafCommonName: 'shop.example',
    leafKey: await makeKey('ec-p256'),
  });
  await contents.shopVault.importCertificate('web-tls', {
    pem: toPemBundle(contents.chain, { order: 'reverse', key: 'last' }),
  });
}

/** Random and never printed. */
function newValue(): string {
  return randomBytes(18).toString('base64url');
}
