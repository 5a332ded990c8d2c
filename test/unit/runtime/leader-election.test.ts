import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError } from '../../../src/runtime/kube-http.ts';
import { LeaderElector, leaderIdentity } from '../../../src/runtime/leader-election.ts';
import type { Lease, LeaseClient, LeaseSpec } from '../../../src/runtime/lease-client.ts';

/** One Lease with the API server's optimistic concurrency: stale writes get 409. */
class FakeLeaseServer {
  lease: Lease | undefined;
  conflicts = 0;
  #version = 0;
  #heldReads: Array<() => void> = [];
  #readsToHold = 0;

  /** Makes the next `count` reads wait for each other, so all see the same version. */
  holdReads(count: number): void {
    this.#readsToHold = count;
  }

  #read(): Promise<void> {
    if (this.#readsToHold === 0) return Promise.resolve();
    const held = new Promise<void>((resolve) => this.#heldReads.push(resolve));
    if (this.#heldReads.length === this.#readsToHold) {
      this.#readsToHold = 0;
      for (const release of this.#heldReads.splice(0)) release();
    }
    return held;
  }

  /**
   * A client as one candidate sees it; `reachable = false` cuts it off. `holding = true` is an API
   * server with etcd down: requests sent meanwhile get no answer, ever, unless their signal aborts.
   */
  client(): LeaseClient & { reachable: boolean; holding: boolean } {
    const client = {
      reachable: true,
      holding: false,
      get: async (signal?: AbortSignal) => {
        if (client.holding) await held(signal);
        check(client.reachable);
        const lease = this.lease && structuredClone(this.lease);
        await this.#read();
        return lease;
      },
      create: async (spec: LeaseSpec) => {
        await Promise.resolve();
        check(client.reachable);
        if (this.lease) throw new KubeApiError(409, 'already exists', 'AlreadyExists');
        this.lease = {
          metadata: {
            name: 'kvsync',
            namespace: 'kvsync',
            resourceVersion: String(++this.#version),
          },
          spec,
        };
        return structuredClone(this.lease);
      },
      update: async (lease: Lease) => {
        await Promise.resolve();
        check(client.reachable);
        // As the API server: a PUT without resourceVersion is unconditional.
        const expected = lease.metadata.resourceVersion;
        if (expected !== undefined && expected !== this.lease?.metadata.resourceVersion) {
          this.conflicts++;
          throw new KubeApiError(409, 'the object has been modified', 'Conflict');
        }
        this.lease = {
          ...lease,
          metadata: { ...lease.metadata, resourceVersion: String(++this.#version) },
        };
        return structuredClone(this.lease);
      },
    };
    return client;
  }
}

/** Never settles; rejects when `signal` aborts. */
function held(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

function check(reachable: boolean): void {
  if (!reachable) throw new Error('connect ECONNREFUSED');
}

interface Candidate {
  elector: LeaderElector;
  client: ReturnType<FakeLeaseServer['client']>;
  stopped: string[];
  running: Promise<void>;
}

describe('LeaderElector', () => {
  let server: FakeLeaseServer;
  let candidates: Candidate[];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    server = new FakeLeaseServer();
    candidates = [];
  });

  afterEach(async () => {
    for (const candidate of candidates) void candidate.elector.release();
    await vi.runAllTimersAsync();
    vi.useRealTimers();
  });

  function candidate(identity: string, random = Math.random): Candidate {
    const client = server.client();
    const stopped: string[] = [];
    const elector = new LeaderElector({
      leases: client,
      identity,
      random,
      onStoppedLeading: (reason) => stopped.push(reason),
    });
    const entry = { elector, client, stopped, running: elector.run() };
    candidates.push(entry);
    return entry;
  }

  const leaders = (): string[] =>
    candidates.filter((c) => c.elector.isLeader()).map((c) => c.elector.identity);

  it('lets exactly one candidate lead while it keeps renewing', async () => {
    const a = candidate('a');
    await vi.advanceTimersByTimeAsync(0);
    const b = candidate('b');
    for (let second = 0; second < 120; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      expect(leaders()).toEqual(['a']);
    }
    expect(b.elector.leader).toBe('a');
    expect(server.lease?.spec?.holderIdentity).toBe('a');
    expect(server.lease?.spec?.leaseTransitions).toBe(0);
    expect(a.stopped).toEqual([]);
  });

  it('never lets two candidates lead when they race for a free lease', async () => {
    server.lease = {
      metadata: { name: 'kvsync', namespace: 'kvsync', resourceVersion: '7' },
      spec: { holderIdentity: '', leaseDurationSeconds: 1 },
    };
    server.holdReads(2); // both read the free lease before either writes
    candidate('a');
    candidate('b');
    for (let second = 0; second < 60; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      expect(leaders().length).toBeLessThanOrEqual(1);
    }
    expect(leaders()).toHaveLength(1);
    expect(server.conflicts).toBeGreaterThanOrEqual(1); // the loser's write was refused
  });

  it('stops leading within the renew deadline when it cannot renew, before a standby takes over', async () => {
    const a = candidate('a');
    await vi.advanceTimersByTimeAsync(0);
    const b = candidate('b');
    await vi.advanceTimersByTimeAsync(5_000);
    a.client.reachable = false;
    let aLostAt: number | undefined;
    let bLedAt: number | undefined;
    const cutAt = Date.now();
    for (let ms = 0; ms < 40_000 && bLedAt === undefined; ms += 100) {
      await vi.advanceTimersByTimeAsync(100);
      if (aLostAt === undefined && !a.elector.isLeader()) aLostAt = Date.now() - cutAt;
      if (b.elector.isLeader()) bLedAt = Date.now() - cutAt;
      expect(leaders().length).toBeLessThanOrEqual(1);
    }
    expect(a.stopped).toEqual(['lost']);
    expect(aLostAt).toBeDefined();
    expect(bLedAt).toBeDefined();
    expect(aLostAt!).toBeLessThan(bLedAt!); // the old leader steps down before the new one starts
    expect(server.lease?.spec?.holderIdentity).toBe('b');
    expect(server.lease?.spec?.leaseTransitions).toBe(1);
  });

  it('keeps leading through a short etcd outage: a renewal the API server holds is given up and tried again', async () => {
    const a = candidate('a');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(a.elector.isLeader()).toBe(true);
    // etcd goes down: the next renewal's request is held by the API server (for up to its own
    // 60 s timeout), even after etcd is back 4 s later.
    a.client.holding = true;
    await vi.advanceTimersByTimeAsync(4_000);
    a.client.holding = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(a.stopped).toEqual([]);
    expect(a.elector.isLeader()).toBe(true);
    expect(server.lease?.spec?.holderIdentity).toBe('a');
  });

  it('hands over at once on release instead of waiting for the lease to expire', async () => {
    const a = candidate('a');
    await vi.advanceTimersByTimeAsync(0);
    const b = candidate('b');
    await vi.advanceTimersByTimeAsync(10_000);
    await a.elector.release();
    expect(a.stopped).toEqual(['released']);
    expect(server.lease?.spec?.holderIdentity).toBe('');
    // b retries every 2 s × (1 + 1.2 × random): it must lead well before a 15 s lease would expire.
    await vi.advanceTimersByTimeAsync(4_400);
    expect(b.elector.isLeader()).toBe(true);
    expect(leaders()).toEqual(['b']);
  });

  it('keeps the acquire time while renewing and counts transitions on takeover', async () => {
    candidate('a');
    await vi.advanceTimersByTimeAsync(0);
    const acquired = server.lease?.spec?.acquireTime;
    const firstRenew = server.lease?.spec?.renewTime;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.lease?.spec?.acquireTime).toBe(acquired);
    expect(server.lease?.spec?.renewTime).not.toBe(firstRenew);
    expect(server.lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('takes over a lease whose holder is gone once it has seen no renewal for a lease duration', async () => {
    server.lease = {
      metadata: { name: 'kvsync', namespace: 'kvsync', resourceVersion: '3' },
      spec: { holderIdentity: 'crashed', leaseDurationSeconds: 15, leaseTransitions: 4 },
    };
    const b = candidate('b');
    await vi.advanceTimersByTimeAsync(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(server.lease?.spec?.leaseTransitions).toBe(5);
  });

  it('refuses settings that would let two leaders overlap', () => {
    const leases = server.client();
    expect(
      () =>
        new LeaderElector({
          leases,
          identity: 'a',
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
        }),
    ).toThrow(/leaseDuration/);
    expect(
      () =>
        new LeaderElector({ leases, identity: 'a', renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    ).toThrow(/renewDeadline/);
  });

  it('makes identities unique per process', () => {
    const first = leaderIdentity('kvsync-7d9f');
    expect(first).toMatch(/^kvsync-7d9f_[0-9a-f]{8}$/);
    expect(leaderIdentity('kvsync-7d9f')).not.toBe(first);
  });
});
