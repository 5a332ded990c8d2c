// What /readyz says through a replica's life, and the order of a shutdown, with a fake manager
// and an in-memory Lease (fast lease timings on real timers).
import { describe, expect, it } from 'vitest';
import type { Manager } from '../../../src/manager.ts';
import type { ManagerOptions } from '../../../src/manager.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { runOperator, type OperatorOptions } from '../../../src/operator.ts';
import { KubeApiError } from '../../../src/runtime/kube-http.ts';
import type { Lease, LeaseClient, LeaseSpec } from '../../../src/runtime/lease-client.ts';
import { waitFor } from '../../support/kube.ts';

/** One Lease with optimistic concurrency, as the API server keeps it. */
function memoryLease(): LeaseClient & { lease: Lease | undefined; steal(holder: string): void } {
  let version = 0;
  const store = {
    lease: undefined as Lease | undefined,
    get: () => Promise.resolve(store.lease && structuredClone(store.lease)),
    create: (spec: LeaseSpec) => {
      if (store.lease) return Promise.reject(new KubeApiError(409, 'exists', 'AlreadyExists'));
      store.lease = {
        metadata: { name: 'kvsync', namespace: 'ns', resourceVersion: String(++version) },
        spec,
      };
      return Promise.resolve(structuredClone(store.lease));
    },
    update: (lease: Lease) => {
      if (lease.metadata.resourceVersion !== store.lease?.metadata.resourceVersion) {
        return Promise.reject(new KubeApiError(409, 'modified', 'Conflict'));
      }
      store.lease = {
        ...lease,
        metadata: { ...lease.metadata, resourceVersion: String(++version) },
      };
      return Promise.resolve(structuredClone(store.lease));
    },
    steal(holder: string) {
      const now = new Date().toISOString();
      store.lease = {
        metadata: { name: 'kvsync', namespace: 'ns', resourceVersion: String(++version) },
        spec: {
          holderIdentity: holder,
          leaseDurationSeconds: 60,
          acquireTime: now,
          renewTime: now,
        },
      };
    },
  };
  return store;
}

interface FakeManager extends Manager {
  readonly calls: string[];
  sync(): void;
  failToStart(): void;
}

function fakeManager(calls: string[]): FakeManager {
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const started = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  calls.push('manager started');
  return {
    calls,
    started,
    ready: () => false,
    stop: (deadlineMs?: number) => {
      calls.push(`manager stopped (${deadlineMs} ms)`);
      return Promise.resolve();
    },
    abort: (reason: Error) => calls.push(`manager aborted (${reason.message})`),
    sync: () => resolve(),
    failToStart: () => reject(new Error('cannot list vaultsecrets')),
  } as unknown as FakeManager;
}

function operator(options: Partial<OperatorOptions> & { leases?: LeaseClient } = {}) {
  const calls: string[] = [];
  const managers: FakeManager[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const running = runOperator({
    kubeConfig: undefined as never,
    manager: {} as ManagerOptions,
    shutdownTimeoutMs: 7_000,
    log: createLogger('silent'),
    metrics,
    startManager: () => {
      const manager = fakeManager(calls);
      managers.push(manager);
      return manager;
    },
    ...options,
  });
  const leader = async () => (await metrics.leader.get()).values[0]?.value;
  return { running, calls, managers, leader };
}

const fast = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };
const election = (identity: string) => ({
  leaseName: 'kvsync',
  leaseNamespace: 'ns',
  identity,
  ...fast,
});

describe('runOperator', () => {
  it('without leader election: not ready until the caches sync, then ready', async () => {
    const { running, managers, leader } = operator();
    expect(running.readiness()).toEqual({
      ok: false,
      detail: 'caches not synced yet (leader election disabled)',
    });
    expect(await leader()).toBe(1);
    managers[0]!.sync();
    await waitFor(() => running.readiness().ok, { description: 'ready' });
    expect(running.readiness().detail).toBe('caches synced (leader election disabled)');
  });

  it('a standby: ready once it has read the Lease, names the leader, starts no manager', async () => {
    const leases = memoryLease();
    leases.steal('other_1234');
    const { running, calls, leader } = operator({ leaderElection: election('me_1'), leases });
    await waitFor(() => running.readiness().ok, { description: 'standby ready' });
    expect(running.readiness().detail).toBe('standby (leader: other_1234)');
    expect(calls).toEqual([]);
    expect(await leader()).toBe(0);
    await running.shutdown();
    expect(running.readiness()).toEqual({ ok: false, detail: 'shutting down' });
  });

  it('a leader: starts the manager, ready once caches sync; shutdown stops it, then frees the Lease', async () => {
    const leases = memoryLease();
    const { running, calls, managers, leader } = operator({
      leaderElection: election('me_1'),
      leases,
    });
    await waitFor(() => managers.length === 1, { description: 'the manager to start' });
    expect(running.readiness()).toEqual({ ok: false, detail: 'leader, caches not synced yet' });
    expect(await leader()).toBe(1);
    managers[0]!.sync();
    await waitFor(() => running.readiness().ok, { description: 'leader ready' });
    expect(running.readiness().detail).toBe('leader, caches synced');

    const releasedWhenStopped: (string | undefined)[] = [];
    const stop = managers[0]!.stop.bind(managers[0]);
    managers[0]!.stop = (ms) => (
      releasedWhenStopped.push(leases.lease?.spec?.holderIdentity),
      stop(ms)
    );
    await running.shutdown();
    expect(calls).toEqual(['manager started', 'manager stopped (7000 ms)']);
    expect(releasedWhenStopped).toEqual(['me_1']);
    expect(leases.lease?.spec?.holderIdentity).toBe('');
    expect(await leader()).toBe(0);
  });

  it('a leader whose Lease is taken aborts its manager at once and reports the loss', async () => {
    const leases = memoryLease();
    const { running, calls, managers } = operator({ leaderElection: election('me_1'), leases });
    await waitFor(() => managers.length === 1, { description: 'the manager to start' });
    leases.steal('intruder');
    expect(await running.failed).toBe('lost-lease');
    expect(calls).toEqual(['manager started', 'manager aborted (lost the Lease)']);
  });

  it('a Lease lost during a SIGTERM shutdown still aborts the in-flight work', async () => {
    const leases = memoryLease();
    const { running, calls, managers } = operator({ leaderElection: election('me_1'), leases });
    await waitFor(() => managers.length === 1, { description: 'the manager to start' });
    managers[0]!.stop = (ms) => {
      calls.push(`manager stopping (${ms} ms)`);
      leases.steal('intruder');
      return new Promise(() => {}); // an in-flight reconcile that never finishes by itself
    };
    void running.shutdown();
    expect(await running.failed).toBe('lost-lease');
    expect(calls).toEqual([
      'manager started',
      'manager stopping (7000 ms)',
      'manager aborted (lost the Lease)',
    ]);
  });

  it('reports a manager that cannot start', async () => {
    const { running, managers } = operator();
    managers[0]!.failToStart();
    expect(await running.failed).toBe('manager-failed');
  });
});
