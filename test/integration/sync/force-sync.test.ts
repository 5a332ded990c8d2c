// kvsync.io/force-sync: a new annotation value re-reads the VaultSecret's objects from Key Vault
// now, past the sweep and the value cache; VaultSecrets sharing a changed object follow; a value
// already handled never reads again.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { forceSyncAnnotation } from '../../../src/api/vault-secret.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  annotateVaultSecret,
  applyVaultSecret,
  decoded,
  getVaultSecret,
  patchSecretData,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

describe('force-sync', () => {
  let env: SyncEnvironment;
  let vault: FakeVault;
  const calls = (operation: 'getSecret' | 'listSecrets') =>
    env.azure.keyVault.counters.calls({ vault: 'force', operation });
  const handled = (name: string, value: string) =>
    waitFor(
      async () => {
        const vs = await getVaultSecret(env.kc, env.namespace, name);
        return vs.status?.lastHandledForceSync === value && vs;
      },
      { description: `${name} to handle force-sync ${value}` },
    );

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), { prefix: 'force' });
    vault = env.azure.keyVault.createVault('force');
    vault.grant(env.clientId);
    vault.setSecret('shared', 'force-shared-1-0a1b');
    vault.setSecret('own', 'force-own-1-2c3d');
    // An hour between sweeps: during the test only force-sync can notice a new version.
    for (const [name, data] of [
      ['forcer', ['shared', 'own']],
      ['follower', ['shared']],
    ] as const) {
      await applyVaultSecret(env.kc, env.namespace, name, {
        vault: { url: env.azure.vaultUrl('force') },
        refreshInterval: '1h',
        data: data.map((object) => ({ key: object, secret: { name: object } })),
      });
      await waitForReady(env.kc, env.namespace, name, { status: 'True' });
    }
  });

  afterAll(async () => {
    await env?.close();
  });

  it('re-reads every object of the VaultSecret now, and its sharers get the new version too', async () => {
    vault.setSecret('shared', 'force-shared-2-4e5f');
    const before = await getVaultSecret(env.kc, env.namespace, 'forcer');
    const gets = calls('getSecret');
    const lists = calls('listSecrets');

    await annotateVaultSecret(env.kc, env.namespace, 'forcer', { [forceSyncAnnotation]: 'now-1' });
    const forced = await handled('forcer', 'now-1');

    expect(decoded(await readSecret(env.kc, env.namespace, 'forcer'))).toEqual({
      shared: 'force-shared-2-4e5f',
      own: 'force-own-1-2c3d',
    });
    await waitFor(
      async () =>
        decoded(await readSecret(env.kc, env.namespace, 'follower')).shared ===
        'force-shared-2-4e5f',
      { description: 'the follower to get the new version of the shared object' },
    );
    // One GET per object of the forced VaultSecret, the unchanged one included; the follower is
    // served the value just read.
    expect(calls('getSecret') - gets).toBe(2);
    expect(calls('listSecrets') - lists).toBe(0);
    expect(Date.parse(forced.status!.lastRefreshTime!)).toBeGreaterThan(
      Date.parse(before.status!.lastRefreshTime!),
    );
    expect(forced.status?.syncedAt).not.toBe(before.status?.syncedAt);
  });

  it('a handled value never reads again: later reconciles are served from the cache', async () => {
    const gets = calls('getSecret');
    // Drift makes kvsync reconcile the forced VaultSecret again, annotation unchanged.
    await patchSecretData(env.kc, env.namespace, 'forcer', {
      own: Buffer.from('edited by hand').toString('base64'),
    });
    await waitFor(
      async () =>
        decoded(await readSecret(env.kc, env.namespace, 'forcer')).own === 'force-own-1-2c3d',
      { description: 'kvsync to undo the edit' },
    );
    expect(calls('getSecret')).toBe(gets);
  });

  it('a new value with nothing new in the vault re-reads and writes only the status', async () => {
    const secretVersion = (await readSecret(env.kc, env.namespace, 'forcer'))?.metadata
      ?.resourceVersion;
    const gets = calls('getSecret');
    await annotateVaultSecret(env.kc, env.namespace, 'forcer', { [forceSyncAnnotation]: 'now-2' });
    await handled('forcer', 'now-2');
    expect(calls('getSecret') - gets).toBe(2);
    expect((await readSecret(env.kc, env.namespace, 'forcer'))?.metadata?.resourceVersion).toBe(
      secretVersion,
    );
  });
});
