// Key Vault failing: the Secret keeps its last good data, the status says why, a throttled vault
// is paused (no hot loop) without slowing another vault, and everything recovers by itself.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  metricValue,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';

const seeded = {
  before: 'faults-before-value-11aa',
  after: 'faults-after-value-22bb',
  throttled: 'faults-throttled-value-33cc',
  calm: 'faults-calm-value-44dd',
  stale: 'faults-stale-value-55ee',
};

describe('Key Vault failures', () => {
  let env: SyncEnvironment;
  let flaky: FakeVault;
  let busy: FakeVault;
  let calm: FakeVault;
  let stale: FakeVault;

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), { prefix: 'faults' });
    flaky = env.azure.keyVault.createVault('faults-flaky');
    busy = env.azure.keyVault.createVault('faults-busy');
    calm = env.azure.keyVault.createVault('faults-calm');
    stale = env.azure.keyVault.createVault('faults-stale');
    for (const vault of [flaky, busy, calm, stale]) vault.grant(env.clientId);
    stale.setSecret('api-key', seeded.stale);
    flaky.setSecret('api-key', seeded.before);
    busy.setSecret('api-key', seeded.throttled);
    calm.setSecret('api-key', seeded.calm);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('keeps the Secret while the vault answers 503, says so, then recovers', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'flaky', {
      vault: { url: env.azure.vaultUrl('faults-flaky') },
      refreshInterval: '10s',
      data: [{ key: 'api-key', secret: { name: 'api-key' } }],
    });
    await waitForReady(env.kc, env.namespace, 'flaky', { status: 'True' });

    flaky.faults.inject({ kind: 'status', status: 503 }, { operations: ['getSecret'] });
    flaky.setSecret('api-key', seeded.after); // the next sweep notices, the read then fails
    const failing = await waitForReady(
      env.kc,
      env.namespace,
      'flaky',
      { status: 'False', reason: 'VaultError' },
      40_000,
    );
    expect(failing.status?.conditions?.[0]?.message).toContain('api-key');
    expect(decoded(await readSecret(env.kc, env.namespace, 'flaky'))).toEqual({
      'api-key': seeded.before,
    });

    flaky.faults.clear();
    await waitForReady(env.kc, env.namespace, 'flaky', { status: 'True' }, 60_000);
    expect(decoded(await readSecret(env.kc, env.namespace, 'flaky'))).toEqual({
      'api-key': seeded.after,
    });
  });

  it('pauses a vault that answers 429 without Retry-After, without slowing another vault', async () => {
    busy.faults.inject({ kind: 'throttle' });
    await applyVaultSecret(env.kc, env.namespace, 'busy', {
      vault: { url: env.azure.vaultUrl('faults-busy') },
      data: [{ key: 'api-key', secret: { name: 'api-key' } }],
    });
    await waitForReady(env.kc, env.namespace, 'busy', { status: 'False', reason: 'Throttled' });
    const throttledAt = env.azure.keyVault.counters.calls({ vault: 'faults-busy' });

    // Another vault is served at once while the first is paused.
    await applyVaultSecret(env.kc, env.namespace, 'calm', {
      vault: { url: env.azure.vaultUrl('faults-calm') },
      refreshInterval: '10s',
      data: [{ key: 'api-key', secret: { name: 'api-key' } }],
    });
    await waitForReady(env.kc, env.namespace, 'calm', { status: 'True' });
    expect(decoded(await readSecret(env.kc, env.namespace, 'calm'))).toEqual({
      'api-key': seeded.calm,
    });

    // Over the next two sweeps of the calm vault (about 20 s), pauses of 1, 2, 4, 8, 16 s allow
    // a handful of requests to the busy one; a hot loop would make hundreds.
    const sweeps = await metricValue(env.metrics, 'kvsync_vault_sweeps_total');
    await waitFor(
      async () => (await metricValue(env.metrics, 'kvsync_vault_sweeps_total')) >= sweeps + 2,
      {
        description: 'two sweeps of the calm vault',
        timeoutMs: 40_000,
      },
    );
    const during = env.azure.keyVault.counters.calls({ vault: 'faults-busy' }) - throttledAt;
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThanOrEqual(8);
    expect(
      await metricValue(env.metrics, 'kvsync_vault_throttled_total', {
        vault: new URL(env.azure.vaultUrl('faults-busy')).host,
      }),
    ).toBeGreaterThan(0);
    expect(await readSecret(env.kc, env.namespace, 'busy')).toBeUndefined();

    busy.faults.clear();
    await waitForReady(env.kc, env.namespace, 'busy', { status: 'True' }, 60_000);
    expect(decoded(await readSecret(env.kc, env.namespace, 'busy'))).toEqual({
      'api-key': seeded.throttled,
    });
  });

  it('after two failed sweeps, looks again after the next sweep instead of retrying from 5 ms', async () => {
    await applyVaultSecret(env.kc, env.namespace, 'stale', {
      vault: { url: env.azure.vaultUrl('faults-stale') },
      refreshInterval: '10s',
      data: [{ key: 'api-key', secret: { name: 'api-key' } }],
    });
    await waitForReady(env.kc, env.namespace, 'stale', { status: 'True' });
    stale.faults.inject({ kind: 'status', status: 503 });
    const failing = await waitForReady(
      env.kc,
      env.namespace,
      'stale',
      { status: 'False', reason: 'VaultError' },
      60_000,
    );
    expect(failing.status?.conditions?.[0]?.message).toMatch(/could not check the vault/);

    // Reconciles of this VaultSecret until the next failed sweep: nothing can succeed before a
    // sweep does, so at most the one the sweep's schedule asks for (a hot retry makes ~10).
    const failedReconciles = () =>
      env.logs.lines.filter(
        (line) =>
          line.includes(`"vaultsecret":"${env.namespace}/stale"`) &&
          line.includes('"msg":"sync failed'),
      ).length;
    const before = failedReconciles();
    const sweepErrors = await metricValue(env.metrics, 'kvsync_vault_sweeps_total', {
      result: 'error',
    });
    await waitFor(
      async () =>
        (await metricValue(env.metrics, 'kvsync_vault_sweeps_total', { result: 'error' })) >
        sweepErrors,
      { description: 'the next failed sweep', timeoutMs: 40_000 },
    );
    expect(failedReconciles() - before).toBeLessThanOrEqual(2);
    expect(decoded(await readSecret(env.kc, env.namespace, 'stale'))).toEqual({
      'api-key': seeded.stale,
    });

    stale.faults.clear();
    await waitForReady(env.kc, env.namespace, 'stale', { status: 'True' }, 60_000);
  });

  it('never writes a secret value into logs', () => {
    for (const value of Object.values(seeded)) expect(env.logs.text).not.toContain(value);
  });
});
