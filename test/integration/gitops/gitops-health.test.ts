// GitOps health, judged by the tools' own code on VaultSecrets read from the API server:
// kstatus (what Flux and kpt compute) and the Argo CD health check and refresh action in
// deploy/argocd, run by gopher-lua as Argo CD runs them.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VaultSecret } from '../../../src/api/vault-secret.ts';
import { forceSyncAnnotation } from '../../../src/api/vault-secret.ts';
import type { ArgoHealth, GitOpsHealth } from '../../support/gitops-health.ts';
import { gitOpsHealth } from '../../support/gitops-health.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  annotateVaultSecret,
  applyVaultSecret,
  getVaultSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

describe('GitOps health of VaultSecrets', () => {
  let env: SyncEnvironment;
  let tools: GitOpsHealth;
  const vaultUrl = (name: string) => env.azure.vaultUrl(name);
  const judge = async (vaultSecret: VaultSecret) => ({
    kstatus: (await tools.kstatus(vaultSecret)).status,
    argo: (await tools.lua<ArgoHealth>('health.lua', vaultSecret)).status,
  });
  const create = (name: string, vault: string, object = 'db-password') =>
    applyVaultSecret(env.kc, env.namespace, name, {
      vault: { url: vaultUrl(vault) },
      data: [{ key: 'value', secret: { name: object } }],
    });

  beforeAll(async () => {
    [env, tools] = await Promise.all([
      startSyncEnvironment(inject('controlPlane'), { prefix: 'gitops' }),
      gitOpsHealth(),
    ]);
    for (const name of ['gitops', 'gitops-slow', 'gitops-down']) {
      const vault = env.azure.keyVault.createVault(name);
      vault.grant(env.clientId);
      vault.setSecret('db-password', 'gitops-value-9f8e');
    }
    // Every answer takes 5 s: a first sync needs two (the challenge, then the read), far past the
    // 2 s after which kvsync reports that it is under way.
    env.azure.keyVault.vault('gitops-slow').faults.setLatency(5_000);
    env.azure.keyVault.vault('gitops-down').faults.inject({ kind: 'status', status: 503 });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('a synced VaultSecret is Current (kstatus) and Healthy (Argo CD)', async () => {
    await create('synced', 'gitops');
    const synced = await waitForReady(env.kc, env.namespace, 'synced', { status: 'True' });
    expect(await judge(synced)).toEqual({ kstatus: 'Current', argo: 'Healthy' });
  });

  it('a VaultSecret whose first sync is under way is InProgress and Progressing', async () => {
    await create('first-sync', 'gitops-slow');
    const syncing = await waitFor(
      async () => {
        const vs = await getVaultSecret(env.kc, env.namespace, 'first-sync');
        return vs.status?.conditions?.some((c) => c.type === 'Reconciling') && vs;
      },
      { description: 'kvsync to say the first sync is under way' },
    );
    expect(syncing.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'Unknown', 'Progressing'],
      ['Reconciling', 'True', 'Progressing'],
    ]);
    expect(await judge(syncing)).toEqual({ kstatus: 'InProgress', argo: 'Progressing' });
    // When the slow answers arrive, it is synced like any other.
    const synced = await waitForReady(
      env.kc,
      env.namespace,
      'first-sync',
      { status: 'True' },
      60_000,
    );
    expect(synced.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
    expect(await judge(synced)).toEqual({ kstatus: 'Current', argo: 'Healthy' });
  });

  it('a VaultSecret retrying a Key Vault failure is InProgress and Progressing', async () => {
    await create('retrying', 'gitops-down');
    const retrying = await waitForReady(
      env.kc,
      env.namespace,
      'retrying',
      { status: 'False', reason: 'VaultError' },
      60_000,
    );
    expect(retrying.status?.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['Ready', 'False'],
      ['Reconciling', 'True'],
    ]);
    expect(await judge(retrying)).toEqual({ kstatus: 'InProgress', argo: 'Progressing' });
  });

  it('VaultSecrets that need a person are Failed and Degraded, and say why', async () => {
    await create('missing', 'gitops', 'no-such-secret');
    await env.kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: env.namespace,
      body: { metadata: { name: 'taken' }, stringData: { owner: 'someone else' } },
    });
    await create('taken', 'gitops');
    for (const [name, reason] of [
      ['missing', 'ObjectNotFound'],
      ['taken', 'SecretConflict'],
    ] as const) {
      const broken = await waitForReady(env.kc, env.namespace, name, { status: 'False', reason });
      const stalled = broken.status?.conditions?.find((c) => c.type === 'Stalled');
      expect(stalled).toMatchObject({ status: 'True', reason });
      expect(await judge(broken)).toEqual({ kstatus: 'Failed', argo: 'Degraded' });
      const argo = await tools.lua<ArgoHealth>('health.lua', broken);
      expect(argo.message).toBe(`${reason}: ${stalled?.message}`);
    }
  });

  it("Argo CD's refresh action sets a new force-sync value, and kvsync acts on it", async () => {
    const before = await waitForReady(env.kc, env.namespace, 'synced', { status: 'True' });
    const actions = await tools.lua<Record<string, { disabled: boolean }>>(
      'actions/discovery.lua',
      before,
    );
    expect(actions.refresh?.disabled).toBe(false);

    const refreshed = await tools.lua<VaultSecret>('actions/refresh/action.lua', before);
    const value = refreshed.metadata.annotations?.[forceSyncAnnotation];
    expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(refreshed.spec).toEqual(before.spec);

    // Argo CD patches the live object with what the action changed: the annotation.
    const gets = () =>
      env.azure.keyVault.counters.calls({ vault: 'gitops', operation: 'getSecret' });
    const getsBefore = gets();
    await annotateVaultSecret(env.kc, env.namespace, 'synced', { [forceSyncAnnotation]: value! });
    const handled = await waitFor(
      async () => {
        const vs = await getVaultSecret(env.kc, env.namespace, 'synced');
        return vs.status?.lastHandledForceSync === value && vs;
      },
      { description: 'kvsync to record the handled force-sync' },
    );
    expect(gets() - getsBefore).toBe(1);
    expect(Date.parse(handled.status!.lastRefreshTime!)).toBeGreaterThan(
      Date.parse(before.status!.lastRefreshTime!),
    );
    expect(await judge(handled)).toEqual({ kstatus: 'Current', argo: 'Healthy' });
  });
});
