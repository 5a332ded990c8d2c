// Two leader electors in one process, on a real Lease: only one leads, a release hands over at
// once, and a leader that can no longer renew steps down and is replaced after the lease expires.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  LeaderElector,
  leaderIdentity,
  type StoppedLeadingReason,
} from '../../../src/runtime/leader-election.ts';
import { kubeLeaseClient, type LeaseClient } from '../../../src/runtime/lease-client.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  waitFor,
} from '../../support/kube.ts';

const kc = kubeConfigFrom(inject('controlPlane'));

interface Candidate {
  elector: LeaderElector;
  stopped: StoppedLeadingReason[];
  /** Cuts this candidate off from the API server, like a network partition. */
  cut(): void;
}

describe('leader election on a real Lease', () => {
  let namespace: string;
  let candidates: Candidate[] = [];

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, 'leader');
  });

  afterEach(async () => {
    await Promise.all(candidates.map((c) => c.elector.release()));
    candidates = [];
  });

  afterAll(async () => {
    await deleteTestNamespace(kc, namespace);
  });

  function candidate(
    leaseName: string,
    timing: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number },
  ): Candidate {
    const real = kubeLeaseClient(kc, { namespace, name: leaseName });
    let reachable = true;
    const check = (): void => {
      if (!reachable) throw new Error('connect ECONNREFUSED (partitioned by the test)');
    };
    const leases: LeaseClient = {
      get: async (signal) => (check(), real.get(signal)),
      create: async (spec, signal) => (check(), real.create(spec, signal)),
      update: async (lease, signal) => (check(), real.update(lease, signal)),
    };
    const stopped: StoppedLeadingReason[] = [];
    const elector = new LeaderElector({
      leases,
      identity: leaderIdentity('kvsync-test'),
      ...timing,
      onStoppedLeading: (reason) => stopped.push(reason),
    });
    void elector.run();
    const entry = { elector, stopped, cut: () => (reachable = false) };
    candidates.push(entry);
    return entry;
  }

  const leading = (): Candidate[] => candidates.filter((c) => c.elector.isLeader());

  it('lets only one of two candidates lead', async () => {
    const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 500 };
    const a = candidate('only-one', timing);
    const b = candidate('only-one', timing);
    const [leader] = await waitFor(() => (leading().length > 0 ? leading() : undefined), {
      description: 'a leader',
    });
    const standby = leader === a ? b : a;
    // Once the standby has read the lease and seen the leader, it has had its chance to take it.
    await waitFor(() => standby.elector.leader === leader!.elector.identity, {
      description: 'the standby to observe the leader',
    });
    // The leader keeps renewing and the standby never takes over.
    const leases = kubeLeaseClient(kc, { namespace, name: 'only-one' });
    const renewedAt = (await leases.get())?.spec?.renewTime;
    await waitFor(async () => (await leases.get())?.spec?.renewTime !== renewedAt, {
      description: 'a renewal',
    });
    expect(leading()).toEqual([leader]);
    expect(standby.stopped).toEqual([]);
    const lease = await leases.get();
    expect(lease?.spec?.holderIdentity).toBe(leader!.elector.identity);
  });

  it('hands over at once when the leader releases, long before the lease would expire', async () => {
    // A 60 s lease: a standby that waited for expiry would miss the 20 s bound below.
    const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 10_000, retryPeriodMs: 500 };
    const a = candidate('release', timing);
    await waitFor(() => a.elector.isLeader(), { description: 'the first candidate to lead' });
    const b = candidate('release', timing);
    await waitFor(() => b.elector.leader === a.elector.identity, {
      description: 'the standby to observe the leader',
    });
    await a.elector.release();
    expect(a.stopped).toEqual(['released']);
    await waitFor(() => b.elector.isLeader(), {
      description: 'the standby to take over',
      timeoutMs: 20_000,
    });
    const lease = await kubeLeaseClient(kc, { namespace, name: 'release' }).get();
    expect(lease?.spec?.holderIdentity).toBe(b.elector.identity);
    expect(lease?.spec?.leaseTransitions).toBe(1);
  });

  it('a leader that cannot renew steps down, and the standby takes over after expiry', async () => {
    const timing = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
    const a = candidate('expiry', timing);
    await waitFor(() => a.elector.isLeader(), { description: 'the first candidate to lead' });
    const b = candidate('expiry', timing);
    await waitFor(() => b.elector.leader === a.elector.identity, {
      description: 'the standby to observe the leader',
    });
    a.cut();
    await waitFor(() => b.elector.isLeader(), { description: 'the standby to take over' });
    expect(a.stopped).toEqual(['lost']);
    expect(a.elector.isLeader()).toBe(false);
    const lease = await kubeLeaseClient(kc, { namespace, name: 'expiry' }).get();
    expect(lease?.spec?.holderIdentity).toBe(b.elector.identity);
  });
});
