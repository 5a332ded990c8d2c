// Rotation detection: the sweep notices new versions cheaply, shares value reads between
// VaultSecrets, and in steady state writes nothing to Kubernetes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  eventsFor,
  getVaultSecret,
  metricValue,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const seeded = {
  first: 'rotation-first-value-1a2b',
  second: 'rotation-second-value-3c4d',
  shared: 'rotation-shared-value-5e6f',
  doomed: 'rotation-doomed-value-7a8b',
};

describe('rotation', () => {
  let env: SyncEnvironment;
  let vault: FakeVault;
  const sweeps = () => metricValue(env.metrics, 'kvsync_vault_sweeps_total');
  const vaultCalls = (operation?: 'getSecret' | 'listSecrets') =>
    env.azure.keyVault.counters.calls({ vault: 'rotation', ...(operation ? { operation } : {}) });

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), { prefix: 'rotation' });
    vault = env.azure.keyVault.createVault('rotation');
    vault.grant(env.clientId);
    vault.setSecret('api-key', seeded.first);
    vault.setSecret('shared', seeded.shared);
    vault.setSecret('doomed', seeded.doomed);
    vault.setSecret('switched-off', seeded.doomed);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('reads an object once for ten VaultSecrets that reference it', async () => {
    const before = vaultCalls('getSecret');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        applyVaultSecret(env.kc, env.namespace, `shared-${i}`, {
          vault: { url: env.azure.vaultUrl('rotation') },
          refreshInterval: '10s',
          data: [{ key: 'value', secret: { name: 'shared' } }],
        }),
      ),
    );
    for (let i = 0; i < 10; i++)
      await waitForReady(env.kc, env.namespace, `shared-${i}`, { status: 'True' });
    expect(vaultCalls('getSecret') - before).toBe(1);
    for (let i = 0; i < 10; i++) {
      expect(decoded(await readSecret(env.kc, env.namespace, `shared-${i}`))).toEqual({
        value: seeded.shared,
      });
    }
  });

  it('writes a rotated value within one sweep and tells the user, naming the object only', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'rotating', {
      vault: { url: env.azure.vaultUrl('rotation') },
      refreshInterval: '10s',
      data: [{ key: 'api-key', secret: { name: 'api-key' } }],
    });
    await waitForReady(env.kc, env.namespace, 'rotating', { status: 'True' });
    // Rotate right after a sweep, so the next one is the first that can see it.
    const start = await sweeps();
    await waitFor(async () => (await sweeps()) > start, {
      description: 'a sweep',
      timeoutMs: 30_000,
    });
    const afterSweep = await sweeps();
    const { version } = vault.setSecret('api-key', seeded.second);

    await waitFor(
      async () =>
        decoded(await readSecret(env.kc, env.namespace, 'rotating'))['api-key'] === seeded.second,
      {
        description: 'the rotated value in the Secret',
        timeoutMs: 30_000,
      },
    );
    expect(await sweeps()).toBeLessThanOrEqual(afterSweep + 1);
    await waitFor(
      async () =>
        (await getVaultSecret(env.kc, env.namespace, 'rotating')).status?.objects?.[0]?.version ===
        version,
      { description: 'status.objects to show the new version' },
    );
    const rotated = await waitFor(
      async () =>
        (await eventsFor(env.kc, env.namespace, 'rotating')).find((e) => e.reason === 'Rotated'),
      { description: 'a Rotated event' },
    );
    expect(rotated.message).toContain('api-key');
    expect(rotated.message).toContain(version);
    expect(rotated.message).not.toContain(seeded.second);
    expect(await metricValue(env.metrics, 'kvsync_secret_rotations_total')).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('in steady state writes nothing to Kubernetes and only sweeps the vault', async () => {
    const names = ['rotating', ...Array.from({ length: 10 }, (_, i) => `shared-${i}`)];
    const versionsOf = async () =>
      Promise.all(
        names.flatMap((name) => [
          getVaultSecret(env.kc, env.namespace, name).then((vs) => vs.metadata.resourceVersion),
          readSecret(env.kc, env.namespace, name).then(
            (secret) => secret?.metadata?.resourceVersion,
          ),
        ]),
      );
    const start = await sweeps();
    await waitFor(async () => (await sweeps()) > start, {
      description: 'a sweep',
      timeoutMs: 30_000,
    });
    const resourceVersions = await versionsOf();
    const writes = await metricValue(env.metrics, 'kvsync_kube_writes_total');
    const gets = vaultCalls('getSecret');
    const lists = vaultCalls('listSecrets');
    const windowStart = await sweeps();
    const logStart = env.logs.lines.length;

    await waitFor(async () => (await sweeps()) >= windowStart + 2, {
      description: 'two more sweeps',
      timeoutMs: 40_000,
    });

    const windowLogs = env.logs.lines
      .slice(logStart)
      .filter((line) => !line.includes('"level":"debug"'));
    expect(windowLogs, 'nothing worth logging happens in steady state').toEqual([]);
    expect(await versionsOf()).toEqual(resourceVersions);
    expect(await metricValue(env.metrics, 'kvsync_kube_writes_total')).toBe(writes);
    expect(vaultCalls('getSecret')).toBe(gets);
    expect(vaultCalls('listSecrets') - lists).toBeGreaterThanOrEqual(2);
  });

  it('keeps the last Secret when the object is deleted or disabled in the vault', async () => {
    for (const [name, object] of [
      ['deleted', 'doomed'],
      ['disabled', 'switched-off'],
    ] as const) {
      await applyVaultSecret(env.kc, env.namespace, name, {
        vault: { url: env.azure.vaultUrl('rotation') },
        refreshInterval: '10s',
        data: [{ key: 'value', secret: { name: object } }],
      });
      await waitForReady(env.kc, env.namespace, name, { status: 'True' });
    }
    vault.deleteSecret('doomed');
    vault.updateSecret('switched-off', { enabled: false });

    const deleted = await waitForReady(
      env.kc,
      env.namespace,
      'deleted',
      { status: 'False', reason: 'ObjectNotFound' },
      40_000,
    );
    const disabled = await waitForReady(
      env.kc,
      env.namespace,
      'disabled',
      { status: 'False', reason: 'ObjectDisabled' },
      40_000,
    );
    expect(deleted.status?.conditions?.[0]?.message).toContain('doomed');
    expect(disabled.status?.conditions?.[0]?.message).toContain('switched-off');
    expect(decoded(await readSecret(env.kc, env.namespace, 'deleted'))).toEqual({
      value: seeded.doomed,
    });
    expect(decoded(await readSecret(env.kc, env.namespace, 'disabled'))).toEqual({
      value: seeded.doomed,
    });
    expect(deleted.status?.objects?.[0]?.name).toBe('doomed');
  });

  it('never writes a secret value into logs', () => {
    for (const value of Object.values(seeded)) expect(env.logs.text).not.toContain(value);
  });
});
