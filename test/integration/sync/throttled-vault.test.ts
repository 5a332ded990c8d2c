// A throttled vault holds no worker (issue 16 §2): with 8 VaultSecrets on a vault that answers
// 429 with Retry-After: 60 and 4 workers, a VaultSecret on a calm vault created afterwards is
// served at once, before kvsync sends the throttled vault anything more.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import {
  applyVaultSecret,
  decoded,
  readSecret,
  startSyncEnvironment,
  waitForReady,
} from '../../support/kvsync.ts';
import { report, seconds } from '../operations/environment.ts';

const busyNames = Array.from({ length: 8 }, (_, i) => `busy-${i}`);

describe('a vault paused by a 429', () => {
  let env: SyncEnvironment;
  let busy: FakeVault;
  let calm: FakeVault;

  beforeAll(async () => {
    env = await startSyncEnvironment(inject('controlPlane'), {
      prefix: 'throttled',
      manager: { workers: 4 },
    });
    busy = env.azure.keyVault.createVault('throttled-busy');
    calm = env.azure.keyVault.createVault('throttled-calm');
    for (const vault of [busy, calm]) vault.grant(env.clientId);
    for (const name of busyNames) busy.setSecret(name, `throttled-${name}-value-7c1d`);
    calm.setSecret('api-key', 'throttled-calm-value-8e2f');
  });

  afterAll(async () => {
    await env?.close();
  });

  it('holds no worker: another vault is served in its first reconcile', async () => {
    busy.faults.inject({ kind: 'throttle', retryAfterSeconds: 60 });
    for (const name of busyNames) {
      await applyVaultSecret(env.kc, env.namespace, name, {
        vault: { url: env.azure.vaultUrl('throttled-busy') },
        data: [{ key: 'value', secret: { name } }],
      });
    }
    for (const name of busyNames) {
      const vs = await waitForReady(env.kc, env.namespace, name, {
        status: 'False',
        reason: 'Throttled',
      });
      expect(vs.status?.conditions?.[0]?.message).toMatch(/throttl/i);
    }
    const busyCalls = env.azure.keyVault.counters.calls({ vault: 'throttled-busy' });

    const createdAt = Date.now();
    await applyVaultSecret(env.kc, env.namespace, 'calm', {
      vault: { url: env.azure.vaultUrl('throttled-calm') },
      data: [{ key: 'api-key', secret: { name: 'api-key' } }],
    });
    await waitForReady(env.kc, env.namespace, 'calm', { status: 'True' });
    report(`calm vault Ready ${seconds(Date.now() - createdAt)} after it was created`);

    // Served before the throttled vault was asked anything more, with one read.
    expect(env.azure.keyVault.counters.calls({ vault: 'throttled-busy' })).toBe(busyCalls);
    expect(env.azure.keyVault.counters.calls({ vault: 'throttled-calm' })).toBe(1);
    expect(decoded(await readSecret(env.kc, env.namespace, 'calm'))).toEqual({
      'api-key': 'throttled-calm-value-8e2f',
    });
    // The throttled VaultSecrets wait for the pause's end, not in a worker: no Secret yet.
    expect(await readSecret(env.kc, env.namespace, 'busy-0')).toBeUndefined();
  });
});
