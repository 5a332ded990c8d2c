// A refused identity shared by 50 VaultSecrets, run by kvsync's manager against the real API
// server (ServiceAccounts, TokenRequest, the ServiceAccount watch) and the Entra and Key Vault
// doubles: the token requests Entra sees thin out round after round down to the cap, one per round
// however many VaultSecrets wait; and fixing the federated credential plus touching the
// ServiceAccount gets every VaultSecret Ready without waiting out the pause.
import { randomUUID } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { group, plural, version, type VaultSecret } from '../../../src/api/vault-secret.ts';
import type { IdentityBackoffOptions } from '../../../src/identity/identity-backoff.ts';
import { kubeIdentityPort } from '../../../src/identity/kubernetes-port.ts';
import { createIdentityResolver } from '../../../src/identity/resolver.ts';
import {
  serviceAccountSubject,
  startAzureDoubles,
  type AzureDoubles,
} from '../../support/azure/index.ts';
import { kubeConfigFrom, waitFor } from '../../support/kube.ts';
import {
  applyVaultSecret,
  readyOf,
  startSyncEnvironment,
  waitForReady,
  type SyncEnvironment,
} from '../../support/kvsync.ts';

const info = inject('controlPlane');
const kc = kubeConfigFrom(info);
const core = kc.makeApiClient(CoreV1Api);
const VAULT_SECRETS = 50;
const SERVICE_ACCOUNT = 'shared-reader';

let azure: AzureDoubles;
const environments: SyncEnvironment[] = [];

beforeAll(async () => {
  azure = await startAzureDoubles({ kubeIssuerCaFile: info.caFile });
});

afterAll(async () => {
  for (const env of environments) await env.close();
  await azure?.close();
});

/** kvsync on a namespace of its own, resolving identities for real, with these pauses. */
async function kvsyncResolving(prefix: string, backoff?: IdentityBackoffOptions) {
  const env = await startSyncEnvironment(info, {
    prefix,
    azure,
    identities: (doubles) =>
      createIdentityResolver({
        kubernetes: kubeIdentityPort(kc),
        azureOptions: doubles.clientOptions,
        env: { AZURE_TENANT_ID: doubles.tenantId },
        defaultIdentityNamespaces: [],
        ...(backoff ? { backoff } : {}),
      }),
  });
  environments.push(env);
  return env;
}

/** An app federated with ServiceAccount `federatedWith`, and `name` annotated with its client id. */
async function serviceAccountFor(namespace: string, name: string, federatedWith = name) {
  const app = azure.entra.registerApp({
    federatedCredentials: [
      { issuer: info.issuer, subject: serviceAccountSubject(namespace, federatedWith) },
    ],
  });
  await core.createNamespacedServiceAccount({
    namespace,
    body: {
      metadata: { name, annotations: { 'azure.workload.identity/client-id': app.clientId } },
    },
  });
  return app;
}

async function kvsyncWithBackoff(prefix: string, backoff: IdentityBackoffOptions) {
  const env = await kvsyncResolving(prefix, backoff);
  const { namespace } = env;
  // The app trusts another ServiceAccount of the namespace: Entra answers AADSTS700213.
  const app = await serviceAccountFor(namespace, SERVICE_ACCOUNT, 'someone-else');
  const vaultName = `${prefix}-kv`;
  const vault = azure.keyVault.createVault(vaultName);
  vault.setSecret('db-password', `value-${prefix}`);
  vault.grant(app.clientId);
  for (let i = 0; i < VAULT_SECRETS; i++) {
    await applyVaultSecret(kc, namespace, `app-${i}`, {
      vault: { url: azure.vaultUrl(vaultName), identity: { serviceAccountName: SERVICE_ACCOUNT } },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
  }
  return { env, app, vaultName };
}

async function readiness(namespace: string): Promise<{ status?: string; reason?: string }[]> {
  const list = (await kc
    .makeApiClient(CustomObjectsApi)
    .listNamespacedCustomObject({ group, version, namespace, plural })) as {
    items: VaultSecret[];
  };
  return list.items.map((vs) => readyOf(vs));
}

describe('a refused identity shared by 50 VaultSecrets', () => {
  it('asks Entra ID once per round, with rounds thinning out to the cap', async () => {
    const initialMs = 1_000;
    const maxMs = 4_000;
    const jitter = 0.2;
    const { env, app, vaultName } = await kvsyncWithBackoff('id-backoff-rounds', {
      initialMs,
      maxMs,
      jitter,
    });
    const times = await waitFor(
      () => {
        const seen = azure.entra.tokenRequestTimes(app.clientId);
        return seen.length >= 8 && seen;
      },
      { description: '8 token requests for the refused identity', timeoutMs: 90_000 },
    );
    // The first round: the VaultSecrets that started together before Entra's first answer, at
    // most one request per worker (concurrent requests are shared).
    const first = times[0]!;
    const firstRound = times.filter((t) => t - first < initialMs / 2);
    expect(firstRound.length).toBeLessThanOrEqual(4);
    // Every later round is one request, at least the round's pause after the previous one (the
    // pause doubles from 1 s to the 4 s cap, ± 20%): one VaultSecret probes, 49 wait. So each
    // successive window of time holds fewer requests, down to one per cap. (A busy machine only
    // lengthens gaps: these are lower bounds.)
    const rounds = times.slice(firstRound.length - 1);
    const gaps = rounds.slice(1).map((t, i) => t - rounds[i]!);
    gaps.forEach((gap, round) => {
      const pause = Math.min(maxMs, initialMs * 2 ** round);
      expect(gap).toBeGreaterThanOrEqual(pause * (1 - jitter));
    });
    // Waiting VaultSecrets call no Key Vault either: at most one challenge per round.
    const keyVaultRequests =
      azure.keyVault.counters.challenges({ vault: vaultName }) +
      azure.keyVault.counters.calls({ vault: vaultName });
    expect(keyVaultRequests).toBeLessThanOrEqual(times.length);
    const states = await readiness(env.namespace);
    expect(states).toHaveLength(VAULT_SECRETS);
    expect(states.every((s) => s.status === 'False' && s.reason === 'Unauthenticated')).toBe(true);
  });

  it('fixing the federated credential and touching the ServiceAccount gets all Ready at once', async () => {
    // A pause of an hour: only the ServiceAccount's change can end it within this test.
    const { env, app } = await kvsyncWithBackoff('id-backoff-fix', {
      initialMs: 3_600_000,
      maxMs: 3_600_000,
    });
    const { namespace } = env;
    await waitFor(
      async () => {
        const states = await readiness(namespace);
        return (
          states.length === VAULT_SECRETS &&
          states.every((s) => s.status === 'False' && s.reason === 'Unauthenticated')
        );
      },
      { description: `all ${VAULT_SECRETS} VaultSecrets refused`, timeoutMs: 60_000 },
    );
    const refusedRequests = azure.entra.tokenRequests(app.clientId);
    expect(refusedRequests).toBeLessThanOrEqual(4);

    azure.entra.addFederatedCredential(app.clientId, {
      issuer: info.issuer,
      subject: serviceAccountSubject(namespace, SERVICE_ACCOUNT),
    });
    await core.patchNamespacedServiceAccount(
      {
        namespace,
        name: SERVICE_ACCOUNT,
        body: { metadata: { annotations: { 'kvsync.io/retry': 'federated credential added' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      async () => {
        const states = await readiness(namespace);
        return states.every((s) => s.status === 'True' && s.reason === 'Synced');
      },
      { description: `all ${VAULT_SECRETS} VaultSecrets Ready`, timeoutMs: 60_000 },
    );
    // One token for all of them.
    expect(azure.entra.tokensIssued(app.clientId)).toBe(1);
  });

  it('a missing ServiceAccount: creating it syncs at once', async () => {
    const { namespace } = await kvsyncResolving('id-backoff-missing');
    const app = azure.entra.registerApp({
      federatedCredentials: [
        { issuer: info.issuer, subject: serviceAccountSubject(namespace, 'not-yet') },
      ],
    });
    const vault = azure.keyVault.createVault('id-missing-kv');
    vault.setSecret('db-password', 'missing-then-created');
    vault.grant(app.clientId);
    await applyVaultSecret(kc, namespace, 'waits', {
      vault: { url: azure.vaultUrl('id-missing-kv'), identity: { serviceAccountName: 'not-yet' } },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    await waitForReady(kc, namespace, 'waits', { status: 'False', reason: 'IdentityError' });
    // Looked at again a minute later by itself; the ServiceAccount watch makes it now.
    await core.createNamespacedServiceAccount({
      namespace,
      body: {
        metadata: {
          name: 'not-yet',
          annotations: { 'azure.workload.identity/client-id': app.clientId },
        },
      },
    });
    await waitForReady(kc, namespace, 'waits', { status: 'True' }, 30_000);
  });
});

describe('a refused client secret', () => {
  it('fixing the clientSecretRef Secret gets it Ready without waiting out the pause', async () => {
    // A pause of an hour: only the Secret's change can end it within this test (kvsync's own Secret
    // informer does not see the Secret; a paused VaultSecret looks again only after a minute).
    const { namespace } = await kvsyncResolving('id-backoff-secret', {
      initialMs: 3_600_000,
      maxMs: 3_600_000,
    });
    const clientSecret = `right-${randomUUID()}`;
    const app = azure.entra.registerApp({ clientSecret });
    const vault = azure.keyVault.createVault('id-secret-kv');
    vault.setSecret('db-password', 'read-with-a-client-secret');
    vault.grant(app.clientId);
    const ids = { tenantId: azure.tenantId, clientId: app.clientId };
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'azure-creds' },
        stringData: { ...ids, clientSecret: `wrong-${randomUUID()}` },
      },
    });
    await applyVaultSecret(kc, namespace, 'reads', {
      vault: {
        url: azure.vaultUrl('id-secret-kv'),
        identity: { clientSecretRef: { name: 'azure-creds' } },
      },
      data: [{ key: 'password', secret: { name: 'db-password' } }],
    });
    const refused = await waitForReady(kc, namespace, 'reads', {
      status: 'False',
      reason: 'Unauthenticated',
    });
    expect(readyOf(refused).message).toContain('AADSTS7000215');
    const refusedRequests = azure.entra.tokenRequests(app.clientId);

    await core.replaceNamespacedSecret({
      namespace,
      name: 'azure-creds',
      body: { metadata: { name: 'azure-creds' }, stringData: { ...ids, clientSecret } },
    });
    await waitForReady(kc, namespace, 'reads', { status: 'True' }, 30_000);
    const synced = await core.readNamespacedSecret({ namespace, name: 'reads' });
    expect(Buffer.from(synced.data?.password ?? '', 'base64').toString()).toBe(
      'read-with-a-client-secret',
    );
    // The refused secret was asked once; the fixed one once.
    expect(refusedRequests).toBe(1);
    expect(azure.entra.tokensIssued(app.clientId)).toBe(1);
  });
});

describe('Entra ID throttling', () => {
  it("a 429 with Retry-After comes back at once, into kvsync's own pause", async () => {
    const { namespace } = await kvsyncResolving('id-throttled');
    const app = await serviceAccountFor(namespace, SERVICE_ACCOUNT);
    const vault = azure.keyVault.createVault('id-throttled-kv');
    vault.setSecret('db-password', 'throttled');
    vault.grant(app.clientId);
    // Entra ID asks to come back in ten minutes. Waited out inside the token request, as the SDK
    // does by default, the reconcile would hold its worker for half an hour and report nothing.
    azure.entra.failTokenRequests({ status: 429, retryAfterSeconds: 600 });
    try {
      await applyVaultSecret(kc, namespace, 'throttled', {
        vault: {
          url: azure.vaultUrl('id-throttled-kv'),
          identity: { serviceAccountName: SERVICE_ACCOUNT },
        },
        data: [{ key: 'password', secret: { name: 'db-password' } }],
      });
      const vs = await waitForReady(kc, namespace, 'throttled', {
        status: 'False',
        reason: 'Throttled',
      });
      expect(readyOf(vs).message).toContain('Entra ID is throttling token requests');
      // One request, not the SDK's four: the pause is kvsync's.
      expect(azure.entra.tokenRequests(app.clientId)).toBe(1);
    } finally {
      azure.entra.failTokenRequests(undefined);
    }
  });
});
