// spec.rolloutRestart against the real API server (and its deployment controller): a rotation
// restarts the Deployment once, a burst of rotations restarts it once, first sync and drift
// repair restart nothing. Rotations arrive as events, so the test runs in seconds.
import type { V1Deployment } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  RESTART_ANNOTATION,
  RESTART_PENDING_ANNOTATION,
} from '../../../src/rollout/restart-stamp.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  waitFor,
} from '../../support/kube.ts';
import {
  applyVaultSecret,
  decoded,
  patchSecretData,
  readSecret,
  waitForReady,
} from '../../support/kvsync.ts';
import type { QueueEnvironment } from './queue-environment.ts';
import { eventMessage } from '../../support/key-vault-events.ts';
import { startQueueEnvironment } from './queue-environment.ts';

const values = ['rollout-v1-5be1', 'rollout-v2-9a0c', 'rollout-v3-31f7', 'rollout-v4-c2d8'];

describe('rollout restarts', () => {
  let q: QueueEnvironment;
  let vault: FakeVault;
  let keyNamespace: string;
  const kc = kubeConfigFrom(inject('controlPlane'));
  const apps = kc.makeApiClient(AppsV1Api);

  const deployment = (): Promise<V1Deployment> =>
    apps.readNamespacedDeployment({ namespace: q.env.namespace, name: 'web' });
  const stampOf = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[RESTART_ANNOTATION];
  const restarts = () => q.metric('kvsync_rollout_restarts_total', { kind: 'Deployment' });
  const skipped = (reason: string) => q.metric('kvsync_rollout_skipped_total', { reason });
  const settled = () => q.metric('kvsync_rollout_pending').then((pending) => pending === 0);
  const secretValue = async () =>
    decoded(await readSecret(q.env.kc, q.env.namespace, 'app'))['password'];

  /** Writes a new version and announces it, as Key Vault and Event Grid would. */
  const rotate = async (value: string) => {
    const { version } = vault.setSecret('app-password', value);
    await q.queue.sendMessage(eventMessage({ vaultUrl: vault.url, name: 'app-password', version }));
    await waitFor(async () => (await secretValue()) === value, {
      description: 'the rotated value in the Secret',
    });
  };

  beforeAll(async () => {
    keyNamespace = await createTestNamespace(kc, 'rollout-key');
    q = await startQueueEnvironment(inject('controlPlane'), 'rollout', () => ({
      rollout: {
        keySecret: { namespace: keyNamespace, name: 'kvsync-rollout-key' },
        // Long enough for the burst below to land inside one window.
        settleMs: 20_000,
        minIntervalMs: 5_000,
      },
    }));
    vault = q.azure.keyVault.createVault('rollout');
    vault.grant(q.env.clientId);
    vault.setSecret('app-password', values[0]!);
    await apps.createNamespacedDeployment({
      namespace: q.env.namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] },
          },
        },
      },
    });
    await applyVaultSecret(q.env.kc, q.env.namespace, 'app', {
      vault: { url: vault.url },
      refreshInterval: '1h',
      data: [{ key: 'password', secret: { name: 'app-password' } }],
      rolloutRestart: { targets: [{ kind: 'Deployment', name: 'web' }] },
    });
    await waitForReady(q.env.kc, q.env.namespace, 'app', { status: 'True' });
    await waitFor(async () => (await q.metric('kvsync_event_source_up')) === 1, {
      description: 'kvsync receiving from the queue',
    });
  });

  afterAll(async () => {
    await q?.close();
    await deleteTestNamespace(kc, keyNamespace);
  });

  it('does not restart on the first sync', async () => {
    await waitFor(async () => (await skipped('first-sync')) >= 1, {
      description: 'the first sync seen by the restarter',
    });
    const web = await deployment();
    expect(stampOf(web)).toBeUndefined();
    expect(web.metadata?.generation).toBe(1);
    expect(await restarts()).toBe(0);
  });

  it('restarts the Deployment once when a rotation changes the data', async () => {
    await rotate(values[1]!);
    await waitFor(async () => (await restarts()) === 1 && (await settled()), {
      description: 'one restart',
    });
    const web = await deployment();
    expect(web.metadata?.generation).toBe(2);
    const stamp = stampOf(web);
    expect(stamp).toMatch(/^[0-9a-f]{32}$/);
    // A keyed hash: the value is not derivable from the data without kvsync's key.
    const key = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: keyNamespace, name: 'kvsync-rollout-key' });
    expect(Buffer.from(key.data?.['key'] ?? '', 'base64')).toHaveLength(32);
  });

  it('restarts it once for several rotations in a row', async () => {
    const before = await deployment();
    const rotations = await q.metric('kvsync_secret_rotations_total');
    await rotate(values[2]!);
    await rotate(values[3]!);
    await waitFor(async () => (await restarts()) === 2 && (await settled()), {
      description: 'the second restart',
      timeoutMs: 60_000,
    });
    expect((await q.metric('kvsync_secret_rotations_total')) - rotations).toBe(2);
    const after = await deployment();
    expect(after.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
    expect(stampOf(after)).not.toBe(stampOf(before));
  });

  it('does not restart when it repairs drift', async () => {
    const before = await deployment();
    const drifts = await skipped('drift-repair');
    await patchSecretData(q.env.kc, q.env.namespace, 'app', {
      password: Buffer.from('edited-by-hand').toString('base64'),
    });
    await waitFor(async () => (await skipped('drift-repair')) === drifts + 1, {
      description: 'the drift repaired',
    });
    expect(await secretValue()).toBe(values[3]);
    expect(await settled()).toBe(true);
    expect(await restarts()).toBe(2);
    expect((await deployment()).metadata?.generation).toBe(before.metadata?.generation);
  });

  it('a restart owed when the leader stops is made by the next leader, once', async () => {
    const before = await deployment();
    const restartsBefore = await restarts();
    const marked = async () =>
      (await readSecret(q.env.kc, q.env.namespace, 'app'))?.metadata?.annotations?.[
        RESTART_PENDING_ANNOTATION
      ];
    await rotate(values[0]!);
    // The restart waits for its 20 s settle window; meanwhile the Secret says it is owed.
    await waitFor(async () => (await marked()) === 'true', {
      description: 'the restarts-owed mark on the Secret',
    });
    await q.env.failover();
    expect(await restarts(), 'the stopped leader restarted nothing').toBe(restartsBefore);
    expect((await deployment()).metadata?.generation).toBe(before.metadata?.generation);

    await waitFor(async () => (await marked()) === undefined, {
      description: 'the next leader to make the restart and clear the mark',
      timeoutMs: 60_000,
    });
    const after = await deployment();
    expect(after.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
    expect(stampOf(after)).not.toBe(stampOf(before));
    expect(await restarts()).toBe(restartsBefore + 1);
    expect(q.env.logs.text).toContain('resuming workload restarts owed since an earlier change');
  });

  it('never writes a secret value into logs', () => {
    for (const value of values) expect(q.env.logs.text).not.toContain(value);
  });
});
