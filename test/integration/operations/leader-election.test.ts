// Two kvsync processes on one Lease against the real API server, as two replicas of the
// Deployment: only the leader reconciles; kill -9 the leader and the standby takes over after the
// lease duration; SIGTERM the leader and it finishes its in-flight reconcile, releases the Lease
// and exits 0, so the standby takes over at once; a leader whose Lease is taken exits non-zero.
// Takeover times are printed, never asserted.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeLeaseClient, microTime } from '../../../src/runtime/lease-client.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import { applyVaultSecret, decoded, readSecret, waitForReady } from '../../support/kvsync.ts';
import type { KvsyncProcess } from '../../support/kvsync-process.ts';
import {
  report,
  seconds,
  startOperationsEnvironment,
  type OperationsEnvironment,
} from './environment.ts';

describe('leader election between two kvsync processes', () => {
  let env: OperationsEnvironment;
  let vault: FakeVault;
  let leader: KvsyncProcess;
  let standby: KvsyncProcess;

  const sync = async (name: string, value: string, timeoutMs = 30_000): Promise<void> => {
    vault.setSecret(name, value);
    await applyVaultSecret(env.kc, env.namespace, name, {
      vault: { url: env.azure.vaultUrl('ops-leader') },
      data: [{ key: 'value', secret: { name } }],
    });
    await waitForReady(env.kc, env.namespace, name, { status: 'True' }, timeoutMs);
    expect(decoded(await readSecret(env.kc, env.namespace, name))).toEqual({ value });
  };
  const holder = async (): Promise<string> => (await env.lease())?.spec?.holderIdentity ?? '';
  /** Polls until `candidate` says it leads, returning when it did (by this process's clock). */
  const leadsAt = async (candidate: KvsyncProcess, timeoutMs = 60_000): Promise<number> => {
    await candidate.waitForReadyz(/^ok: leader/, timeoutMs);
    return Date.now();
  };

  beforeAll(async () => {
    env = await startOperationsEnvironment(inject('controlPlane'), 'ops-leader');
    vault = env.azure.keyVault.createVault('ops-leader');
    vault.grant(env.clientId);
    const [a, b] = await Promise.all([env.start('a'), env.start('b')]);
    const first = await Promise.any(
      [a, b].map(async (p) => (await p.waitForReadyz(/^ok: leader/), p)),
    );
    leader = first;
    standby = first === a ? b : a;
  });

  afterAll(async () => {
    await env?.close();
  });

  it('lets only the leader reconcile; the standby is ready and says it stands by', async () => {
    await sync('first', 'ops-leader-first-value-3b1f');
    expect(await holder()).toMatch(new RegExp(`^${leader.name}_[0-9a-f]{8}$`));
    expect(await leader.metric('kvsync_reconcile_total')).toBeGreaterThan(0);
    expect(await leader.metric('kvsync_leader')).toBe(1);

    // A standby is ready once it has read the Lease (after losing a race to create it, on its
    // next attempt).
    expect(await standby.waitForReadyz(/^ok: standby/)).toMatch(
      new RegExp(`^ok: standby \\(leader: ${leader.name}_[0-9a-f]{8}\\)$`),
    );
    expect(await standby.metric('kvsync_reconcile_total')).toBe(0);
    expect(await standby.metric('kvsync_leader')).toBe(0);
    for (const p of [leader, standby]) expect((await p.probe('/healthz')).status).toBe(200);
  });

  it('kill -9 of the leader: the standby takes the Lease after it expires and syncs a new VaultSecret', async () => {
    const killedAt = Date.now();
    const exit = await leader.kill();
    expect(exit.code).toBe(137);
    const syncing = sync('after-kill', 'ops-leader-after-kill-value-77c2', 60_000).then(() =>
      Date.now(),
    );
    const led = await leadsAt(standby);
    const synced = await syncing;
    report(
      `kill -9 takeover: standby leads ${seconds(led - killedAt)} after the kill, ` +
        `new VaultSecret synced ${seconds(synced - killedAt)} after it (lease 15 s, retry 2 s)`,
    );
    expect(await holder()).toMatch(new RegExp(`^${standby.name}_`));
    expect(await standby.metric('kvsync_leader')).toBe(1);
    [leader, standby] = [standby, await env.start('c')];
    expect(await standby.waitForReadyz(/^ok: standby/)).toContain(leader.name);
  });

  it('SIGTERM: finishes the in-flight reconcile, releases the Lease, exits 0; the standby takes over at once', async () => {
    // A slow vault keeps a reconcile in flight when the signal arrives.
    const slow = env.azure.keyVault.createVault('ops-slow');
    slow.grant(env.clientId);
    slow.setSecret('slow', 'ops-leader-slow-value-0d9e');
    slow.faults.setLatency(1_500);
    await applyVaultSecret(env.kc, env.namespace, 'slow', {
      vault: { url: env.azure.vaultUrl('ops-slow') },
      data: [{ key: 'value', secret: { name: 'slow' } }],
    });
    // The challenge is the reconcile's first request to this vault; more must follow.
    await waitFor(() => env.azure.keyVault.counters.challenges({ vault: 'ops-slow' }) > 0, {
      description: 'the leader to start reading the slow vault',
    });
    const signalledAt = Date.now();
    const exit = await leader.stop();
    const exitedAt = Date.now();
    expect(exit.code).toBe(0);
    // The reconcile finished before the process ended: its Secret is there.
    expect(decoded(await readSecret(env.kc, env.namespace, 'slow'))).toEqual({
      value: 'ops-leader-slow-value-0d9e',
    });
    const messages = (await leader.logs()).map((r) => r.msg);
    const order = ['signal received', 'manager stopped', 'Lease released', 'kvsync stopped'];
    expect(
      order
        .map((m) => messages.indexOf(m))
        .every((i, n, all) => i >= 0 && (n === 0 || i > all[n - 1]!)),
    ).toBe(true);

    const led = await leadsAt(standby);
    report(
      `SIGTERM handover: leader exited ${seconds(exitedAt - signalledAt)} after the signal ` +
        `(1 in-flight reconcile on a vault answering in 1.5 s); standby led ${seconds(led - exitedAt)} after that exit`,
    );
    slow.faults.clear();
    await sync('after-term', 'ops-leader-after-term-value-5a40');
    expect(await standby.metric('kvsync_reconcile_total')).toBeGreaterThan(0);
    leader = standby;
  });

  it('a leader whose Lease is taken by someone else stops and exits non-zero', async () => {
    const leases = kubeLeaseClient(env.kc, { namespace: env.namespace, name: 'kvsync' });
    const lease = (await leases.get())!;
    const now = microTime(Date.now());
    await leases.update({
      ...lease,
      spec: { ...lease.spec, holderIdentity: 'intruder', acquireTime: now, renewTime: now },
    });
    const exit = await leader.exited;
    expect(exit.code).toBe(1);
    expect((await leader.logs()).some((r) => r.msg?.startsWith('lost the Lease'))).toBe(true);
  });
});
