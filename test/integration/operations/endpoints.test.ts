// kvsync's HTTP endpoints as Prometheus and the kubelet see them, on a separate process: every
// metric DESIGN.md §4 names with its type, process and Node metrics, series that go away with
// their VaultSecret, the expiry gauge opt-out, /healthz, and /readyz before and after the caches
// can sync (a replica without RBAC to list VaultSecrets never becomes ready, and says why).
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { kubeConfigForToken, serviceAccountToken, waitFor } from '../../support/kube.ts';
import { applyVaultSecret, deleteVaultSecret, waitForReady } from '../../support/kvsync.ts';
import { parseMetrics, sumSamples, type KvsyncProcess } from '../../support/kvsync-process.ts';
import { startOperationsEnvironment, type OperationsEnvironment } from './environment.ts';

/** DESIGN.md §4, plus what this operator adds for operations. */
const designMetrics = {
  kvsync_reconcile_total: 'counter',
  kvsync_reconcile_duration_seconds: 'histogram',
  kvsync_vault_requests_total: 'counter',
  kvsync_vault_request_duration_seconds: 'histogram',
  kvsync_vault_throttled_total: 'counter',
  kvsync_secret_rotations_total: 'counter',
  kvsync_object_expiry_timestamp_seconds: 'gauge',
  kvsync_last_sync_timestamp_seconds: 'gauge',
  kvsync_workqueue_depth: 'gauge',
  kvsync_vaultsecret_ready: 'gauge',
  kvsync_leader: 'gauge',
};

describe('metrics and health endpoints of a kvsync process', () => {
  let env: OperationsEnvironment;
  let vault: FakeVault;
  let kvsync: KvsyncProcess;
  const expires = new Date('2031-05-04T03:02:01Z');

  beforeAll(async () => {
    env = await startOperationsEnvironment(inject('controlPlane'), 'ops-endpoints');
    vault = env.azure.keyVault.createVault('ops-endpoints');
    vault.grant(env.clientId);
    vault.setSecret('expiring', 'ops-endpoints-value-6d1c', { expires });
    kvsync = await env.start('solo', { args: ['--leader-elect=false'] });
    await applyVaultSecret(env.kc, env.namespace, 'app', {
      vault: { url: env.azure.vaultUrl('ops-endpoints') },
      data: [{ key: 'value', secret: { name: 'expiring' } }],
    });
    await waitForReady(env.kc, env.namespace, 'app', { status: 'True' });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('/metrics has every metric named in DESIGN.md with its type, and process and Node metrics', async () => {
    const { types, samples } = parseMetrics(await kvsync.scrape());
    for (const [name, type] of Object.entries(designMetrics)) {
      expect({ name, type: types.get(name) }).toEqual({ name, type });
    }
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');

    const app = { namespace: env.namespace, name: 'app' };
    expect(sumSamples(samples, 'kvsync_vaultsecret_ready', app)).toBe(1);
    expect(sumSamples(samples, 'kvsync_leader')).toBe(1);
    expect(
      sumSamples(samples, 'kvsync_reconcile_total', { result: 'requeue_after' }),
    ).toBeGreaterThan(0);
    expect(
      sumSamples(samples, 'kvsync_vault_requests_total', {
        vault: 'ops-endpoints.vault.localtest',
        code: '200',
      }),
    ).toBeGreaterThan(0);
    expect(sumSamples(samples, 'kvsync_last_sync_timestamp_seconds', app)).toBeGreaterThan(0);
    expect(
      sumSamples(samples, 'kvsync_object_expiry_timestamp_seconds', {
        ...app,
        object: 'expiring',
        kind: 'secret',
      }),
    ).toBe(expires.getTime() / 1000);
  });

  it('/healthz and /readyz answer 200 and say why', async () => {
    expect(await kvsync.probe('/healthz')).toEqual({
      status: 200,
      body: expect.stringMatching(/^ok: event loop delay \d+ ms/) as unknown,
    });
    expect(await kvsync.probe('/readyz')).toEqual({
      status: 200,
      body: 'ok: caches synced (leader election disabled)',
    });
  });

  it('drops the series of a deleted VaultSecret', async () => {
    await deleteVaultSecret(env.kc, env.namespace, 'app');
    await waitFor(async () => !(await kvsync.scrape()).includes(`name="app"`), {
      description: 'the series of the deleted VaultSecret to go',
    });
  });

  it('exports no per-object expiry gauge with --object-expiry-metric=false', async () => {
    expect((await kvsync.stop()).code).toBe(0);
    await applyVaultSecret(env.kc, env.namespace, 'again', {
      vault: { url: env.azure.vaultUrl('ops-endpoints') },
      data: [{ key: 'value', secret: { name: 'expiring' } }],
    });
    const quiet = await env.start('no-expiry', {
      args: ['--leader-elect=false', '--object-expiry-metric=false'],
    });
    await waitForReady(env.kc, env.namespace, 'again', { status: 'True' });
    const text = await quiet.scrape();
    expect(
      sumSamples(parseMetrics(text).samples, 'kvsync_vaultsecret_ready', { name: 'again' }),
    ).toBe(1);
    expect(text).not.toContain('kvsync_object_expiry_timestamp_seconds');
  });

  it('is live but not ready while it cannot list what it watches, and logs why', async () => {
    const core = env.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({
      namespace: env.namespace,
      body: { metadata: { name: 'no-rights' } },
    });
    const token = await serviceAccountToken(
      env.kc,
      env.namespace,
      'no-rights',
      env.info.issuer,
      600,
    );
    const kubeconfigPath = path.join(tmpdir(), `kvsync-no-rights-${env.namespace}.json`);
    await writeFile(kubeconfigPath, kubeConfigForToken(env.info, token).exportConfig(), {
      mode: 0o600,
    });
    const unready = await env
      .start('no-rights', { kubeconfigPath, args: ['--leader-elect=false'] })
      .finally(() => rm(kubeconfigPath, { force: true }));
    const failure = await unready.waitForLog(
      (r) => r.msg === 'list/watch failed; retrying',
      'a failed list',
    );
    expect(failure.err).toMatch(/forbidden|403/i);
    expect(await unready.probe('/readyz')).toEqual({
      status: 503,
      body: 'not ok: caches not synced yet (leader election disabled)',
    });
    expect((await unready.probe('/healthz')).status).toBe(200);
  });
});
