import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RolloutTarget, VaultSecret } from '../../../src/api/vault-secret.ts';
import { rolloutMetrics } from '../../../src/rollout/metrics.ts';
import { RolloutRestarter, type PendingMarker } from '../../../src/rollout/restarter.ts';
import { dataDigest, digestSecret, type DigestedSecret } from '../../../src/kube/secret-digest.ts';
import { RESTART_PENDING_ANNOTATION, restartStamp } from '../../../src/rollout/restart-stamp.ts';
import type { Workload, WorkloadClient } from '../../../src/rollout/workloads.ts';

class FakeWorkloads implements WorkloadClient {
  readonly workloads = new Map<string, Workload & { restarts: number }>();
  failNext = 0;

  add(name: string, options: Partial<Workload> = {}): void {
    this.workloads.set(name, { paused: false, stamp: undefined, restarts: 0, ...options });
  }

  read(_namespace: string, target: RolloutTarget): Promise<Workload | undefined> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      return Promise.reject(new Error('HTTP 503'));
    }
    return Promise.resolve(this.workloads.get(target.name));
  }

  /** Stamps wait for `release` (a slow API server) when set; they end early when aborted. */
  hold: Promise<void> | undefined;
  readonly stampSignals: (AbortSignal | undefined)[] = [];

  async stamp(
    _namespace: string,
    target: RolloutTarget,
    value: string,
    signal?: AbortSignal,
  ): Promise<void> {
    this.stampSignals.push(signal);
    if (this.hold) await Promise.race([this.hold, aborted(signal)]);
    const workload = this.workloads.get(target.name)!;
    this.workloads.set(target.name, { ...workload, stamp: value, restarts: workload.restarts + 1 });
  }

  restarts(name: string): number {
    return this.workloads.get(name)?.restarts ?? 0;
  }
}

/** Rejects with the signal's reason once it aborts; never settles without one. */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

const key = Buffer.alloc(32, 7);
const second = 1_000;

function vaultSecret(targets: RolloutTarget[]): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name: 'app', namespace: 'ns' },
    spec: { vault: { url: 'https://kv.vault.azure.net/' }, rolloutRestart: { targets } },
  };
}

const rotation = (value: string) => ({
  data: { password: Buffer.from(value).toString('base64') },
  firstSync: false,
  driftRepair: false,
});

describe('RolloutRestarter', () => {
  let workloads: FakeWorkloads;
  let restarter: RolloutRestarter;
  let registry: Registry;
  const web: RolloutTarget = { kind: 'Deployment', name: 'web' };

  beforeEach(() => {
    vi.useFakeTimers();
    workloads = new FakeWorkloads();
    workloads.add('web');
    registry = new Registry();
    restarter = new RolloutRestarter({
      workloads,
      stampKey: () => Promise.resolve(key),
      minIntervalMs: 60 * second,
      settleMs: 10 * second,
      metrics: rolloutMetrics(registry),
      log: pino({ level: 'silent' }),
    });
  });

  afterEach(() => {
    restarter.stop();
    vi.useRealTimers();
  });

  const skipped = async (reason: string) =>
    (await registry.getSingleMetric('kvsync_rollout_skipped_total')!.get()).values
      .filter((v) => v.labels.reason === reason)
      .reduce((sum, v) => sum + v.value, 0);

  it('restarts once after the settle window, stamping an HMAC of the data', async () => {
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(9 * second);
    expect(workloads.restarts('web')).toBe(0);
    await vi.advanceTimersByTimeAsync(1 * second);
    expect(workloads.restarts('web')).toBe(1);
    const stamp = workloads.workloads.get('web')?.stamp;
    expect(stamp).toBe(restartStamp(key, 'ns/app', dataDigest(rotation('two').data)));
    expect(stamp).toMatch(/^[0-9a-f]{32}$/);
    expect(restarter.pendingCount).toBe(0);
  });

  it('three quick rotations restart once, with the last data', async () => {
    for (const value of ['two', 'three', 'four']) {
      restarter.dataChanged(vaultSecret([web]), rotation(value));
      await vi.advanceTimersByTimeAsync(3 * second);
    }
    await vi.advanceTimersByTimeAsync(60 * second);
    expect(workloads.restarts('web')).toBe(1);
    expect(workloads.workloads.get('web')?.stamp).toBe(
      restartStamp(key, 'ns/app', dataDigest(rotation('four').data)),
    );
  });

  it('keeps the minimum interval between two restarts of one workload', async () => {
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second);
    restarter.dataChanged(vaultSecret([web]), rotation('three'));
    await vi.advanceTimersByTimeAsync(59 * second);
    expect(workloads.restarts('web')).toBe(1);
    await vi.advanceTimersByTimeAsync(1 * second);
    expect(workloads.restarts('web')).toBe(2);
  });

  it('stamping the same data again changes nothing', async () => {
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second);
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(120 * second);
    expect(workloads.restarts('web')).toBe(1);
    expect(await skipped('unchanged')).toBe(1);
  });

  it('never restarts on first sync or drift repair', async () => {
    restarter.dataChanged(vaultSecret([web]), { ...rotation('one'), firstSync: true });
    restarter.dataChanged(vaultSecret([web]), { ...rotation('one'), driftRepair: true });
    await vi.advanceTimersByTimeAsync(120 * second);
    expect(workloads.restarts('web')).toBe(0);
    expect(await skipped('first-sync')).toBe(1);
    expect(await skipped('drift-repair')).toBe(1);
  });

  it('skips paused Deployments and missing workloads, restarts the others', async () => {
    workloads.add('paused', { paused: true });
    workloads.add('db');
    const targets: RolloutTarget[] = [
      { kind: 'Deployment', name: 'paused' },
      { kind: 'StatefulSet', name: 'db' },
      { kind: 'DaemonSet', name: 'gone' },
    ];
    restarter.dataChanged(vaultSecret(targets), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second);
    expect(workloads.restarts('paused')).toBe(0);
    expect(workloads.restarts('db')).toBe(1);
    expect(await skipped('paused')).toBe(1);
    expect(await skipped('not-found')).toBe(1);
  });

  it('retries with backoff when the API server fails', async () => {
    workloads.failNext = 2;
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second); // fails
    await vi.advanceTimersByTimeAsync(5 * second); // fails
    expect(workloads.restarts('web')).toBe(0);
    expect(restarter.pendingCount).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * second);
    expect(workloads.restarts('web')).toBe(1);
    expect(restarter.pendingCount).toBe(0);
  });
});

/** The restarts-owed annotation on each VaultSecret's Secret, and every write to it. */
class FakeMarker implements PendingMarker {
  readonly marked = new Set<string>();
  readonly writes: string[] = [];
  set(vaultSecret: VaultSecret): Promise<void> {
    this.marked.add(vaultSecret.metadata.name);
    this.writes.push(`set ${vaultSecret.metadata.name}`);
    return Promise.resolve();
  }
  clear(vaultSecret: VaultSecret): Promise<void> {
    this.marked.delete(vaultSecret.metadata.name);
    this.writes.push(`clear ${vaultSecret.metadata.name}`);
    return Promise.resolve();
  }
}

/** The Secret as the informer shows it: the rotated data, marked while restarts are owed. */
function syncedSecret(value: string, marked: boolean): DigestedSecret {
  return digestSecret({
    metadata: {
      name: 'app',
      namespace: 'ns',
      ...(marked ? { annotations: { [RESTART_PENDING_ANNOTATION]: 'true' } } : {}),
    },
    data: rotation(value).data,
  });
}

describe('RolloutRestarter across a leader change', () => {
  let workloads: FakeWorkloads;
  let marker: FakeMarker;
  const web: RolloutTarget = { kind: 'Deployment', name: 'web' };
  const db: RolloutTarget = { kind: 'StatefulSet', name: 'db' };
  const restarters: RolloutRestarter[] = [];
  const leader = () => {
    const restarter = new RolloutRestarter({
      workloads,
      stampKey: () => Promise.resolve(key),
      minIntervalMs: 60 * second,
      settleMs: 10 * second,
      metrics: rolloutMetrics(new Registry()),
      log: pino({ level: 'silent' }),
      marker,
    });
    restarters.push(restarter);
    return restarter;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    workloads = new FakeWorkloads();
    workloads.add('web');
    workloads.add('db');
    marker = new FakeMarker();
  });

  afterEach(() => {
    for (const restarter of restarters.splice(0)) restarter.stop();
    vi.useRealTimers();
  });

  it('losing leadership aborts a restart in flight: not stamped, left owed to the next leader', async () => {
    const restarter = leader();
    let release = (): void => {};
    workloads.hold = new Promise((resolve) => (release = resolve));
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second);
    expect(workloads.stampSignals).toHaveLength(1);
    restarter.abort(new Error('lost the Lease'));
    expect(workloads.stampSignals[0]?.aborted).toBe(true);
    release();
    await vi.advanceTimersByTimeAsync(5 * 60 * second);
    expect(workloads.restarts('web')).toBe(0);
    expect(workloads.stampSignals).toHaveLength(1);
    await restarter.markersWritten();
    expect(marker.marked.has('app')).toBe(true);
  });

  it('marks the Secret while restarts are owed and clears it once every target is done', async () => {
    const restarter = leader();
    restarter.dataChanged(vaultSecret([web, db]), rotation('two'));
    await vi.advanceTimersByTimeAsync(0);
    expect(marker.marked.has('app')).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * second);
    expect([workloads.restarts('web'), workloads.restarts('db')]).toEqual([1, 1]);
    await restarter.markersWritten();
    expect(marker.writes).toEqual(['set app', 'clear app']);
  });

  it('a restart owed when the leader stops is done by the next one, once', async () => {
    const first = leader();
    first.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(5 * second);
    first.stop();
    await first.markersWritten();
    await vi.advanceTimersByTimeAsync(60 * second);
    expect(workloads.restarts('web')).toBe(0);
    expect(marker.marked.has('app'), 'the mark outlives the leader').toBe(true);

    const next = leader();
    next.resume(vaultSecret([web]), syncedSecret('two', true));
    next.resume(vaultSecret([web]), syncedSecret('two', true)); // every sync looks again
    await vi.advanceTimersByTimeAsync(10 * second);
    expect(workloads.restarts('web')).toBe(1);
    expect(workloads.workloads.get('web')?.stamp).toBe(
      restartStamp(key, 'ns/app', dataDigest(rotation('two').data)),
    );
    await next.markersWritten();
    expect(marker.marked.has('app')).toBe(false);
  });

  it('resuming after a leader that restarted but did not clear restarts nothing', async () => {
    const first = leader();
    first.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second);
    expect(workloads.restarts('web')).toBe(1);
    marker.marked.add('app'); // its clear never happened

    const next = leader();
    next.resume(vaultSecret([web]), syncedSecret('two', true));
    await vi.advanceTimersByTimeAsync(10 * second);
    expect(workloads.restarts('web')).toBe(1);
    await next.markersWritten();
    expect(marker.marked.has('app')).toBe(false);
  });

  it('an unmarked Secret owes nothing', async () => {
    leader().resume(vaultSecret([web]), syncedSecret('two', false));
    await vi.advanceTimersByTimeAsync(120 * second);
    expect(workloads.restarts('web')).toBe(0);
    expect(marker.writes).toEqual([]);
  });

  it('a change while a restart is being made keeps the mark until the next restart', async () => {
    let release: () => void = () => {};
    const stamp = workloads.stamp.bind(workloads);
    vi.spyOn(workloads, 'stamp').mockImplementationOnce(async (...args) => {
      await new Promise<void>((resolve) => (release = resolve));
      return stamp(...args);
    });
    const restarter = leader();
    restarter.dataChanged(vaultSecret([web]), rotation('two'));
    await vi.advanceTimersByTimeAsync(10 * second); // the restart is being written...
    restarter.dataChanged(vaultSecret([web]), rotation('three')); // ...when more data changes
    release();
    await vi.advanceTimersByTimeAsync(0);
    await restarter.markersWritten();
    expect(workloads.restarts('web')).toBe(1);
    expect(marker.marked.has('app'), 'still owed: the second change').toBe(true);
    await vi.advanceTimersByTimeAsync(60 * second);
    expect(workloads.restarts('web')).toBe(2);
    await restarter.markersWritten();
    expect(marker.marked.has('app')).toBe(false);
  });
});

describe('restart stamps', () => {
  it('depend on the data, the VaultSecret and the key, and not on key order', () => {
    const digest = dataDigest({ a: 'MQ==', b: 'Mg==' });
    expect(dataDigest({ b: 'Mg==', a: 'MQ==' })).toEqual(digest);
    const stamp = restartStamp(key, 'ns/app', digest);
    expect(restartStamp(key, 'ns/app', dataDigest({ a: 'MQ==', b: 'Mw==' }))).not.toBe(stamp);
    expect(restartStamp(key, 'ns/other', digest)).not.toBe(stamp);
    expect(restartStamp(Buffer.alloc(32, 8), 'ns/app', digest)).not.toBe(stamp);
    // Length-prefixed: moving a character between key and value changes the digest.
    expect(dataDigest({ ab: 'c' })).not.toEqual(dataDigest({ a: 'bc' }));
  });
});
