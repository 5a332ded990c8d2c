import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VaultError } from '../../../src/keyvault/errors.ts';
import { minute, poolWithMirror } from './pool-fixture.ts';

describe('VaultPool', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sweeps as often as the shortest refresh interval and enqueues the users of rotated objects', async () => {
    const { reader, pool, mirror, enqueued } = poolWithMirror();
    reader.set('a', '1');
    reader.set('b', '2');
    await mirror.latest('a');
    await mirror.latest('b');
    pool.register('ns/slow', mirror, {
      latest: new Set(['a']),
      finds: [],
      refreshIntervalMs: 60 * minute,
    });
    pool.register('ns/fast', mirror, {
      latest: new Set(['b']),
      finds: [],
      refreshIntervalMs: minute,
    });
    reader.set('a', 'rotated');
    await vi.advanceTimersByTimeAsync(minute);
    expect(enqueued).toEqual(['ns/slow']);
    expect(reader.calls.listPages).toBe(1);
  });

  it('force-sync enqueues the other users of a re-read object that changed, not the caller', async () => {
    const { reader, pool, mirror, enqueued } = poolWithMirror();
    reader.set('shared', '1');
    await mirror.latest('shared');
    for (const key of ['ns/forcer', 'ns/follower']) {
      pool.register(key, mirror, { latest: new Set(['shared']), finds: [], refreshIntervalMs: 0 });
    }
    await pool.reread('ns/forcer', mirror, new Set(['shared']));
    expect(enqueued).toEqual([]);
    reader.set('shared', '2');
    await pool.reread('ns/forcer', mirror, new Set(['shared']));
    expect(enqueued).toEqual(['ns/follower']);
    expect(reader.calls.get).toBe(3);
  });

  it('tells every user when sweeps start failing and when they recover, calling nothing extra', async () => {
    const { reader, pool, mirror, enqueued } = poolWithMirror();
    reader.set('a', '1');
    reader.set('b', '2');
    await mirror.latest('a');
    await mirror.latest('b');
    pool.register('ns/x', mirror, { latest: new Set(['a']), finds: [], refreshIntervalMs: minute });
    pool.register('ns/y', mirror, { latest: new Set(['b']), finds: [], refreshIntervalMs: minute });
    const list = vi.spyOn(reader, 'listSecretPages').mockImplementation(() => {
      throw new VaultError('Transient', 'HTTP 503');
    });
    await vi.advanceTimersByTimeAsync(minute);
    expect(enqueued, 'one failed sweep is retried before anyone is told').toEqual([]);
    expect(mirror.sweepFailure).toBeUndefined();
    await vi.advanceTimersByTimeAsync(minute);
    expect(enqueued.sort()).toEqual(['ns/x', 'ns/y']);
    expect(mirror.sweepFailure?.error.kind).toBe('Transient');

    enqueued.length = 0;
    await vi.advanceTimersByTimeAsync(minute); // still failing: nobody is told twice
    expect(enqueued).toEqual([]);

    list.mockRestore();
    await vi.advanceTimersByTimeAsync(minute);
    expect(enqueued.sort()).toEqual(['ns/x', 'ns/y']);
    expect(mirror.sweepFailure).toBeUndefined();
    expect(reader.calls.get).toBe(2);
  });

  it('forgets a mirror and its timer when the last user goes away', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', '1');
    pool.register('ns/x', mirror, { latest: new Set(['a']), finds: [], refreshIntervalMs: minute });
    pool.release('ns/x');
    expect(pool.mirrorCount).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * minute);
    expect(reader.totalCalls).toBe(0);
  });

  it.each([0, 0.5, 0.999])(
    'spreads sweeps over 1-1.1 intervals, never sooner than asked (random %s)',
    async (draw) => {
      const { reader, pool, mirror } = poolWithMirror(() => draw);
      const started = Date.now();
      const at: number[] = [];
      const sweep = mirror.sweep.bind(mirror);
      vi.spyOn(mirror, 'sweep').mockImplementation(() => {
        at.push(Date.now() - started);
        return sweep();
      });
      reader.set('a', '1');
      await mirror.latest('a');
      pool.register('ns/x', mirror, {
        latest: new Set(['a']),
        finds: [],
        refreshIntervalMs: minute,
      });
      await vi.advanceTimersByTimeAsync(3.5 * minute);
      expect(at.length).toBeGreaterThanOrEqual(3);
      const gaps = at.map((t, i) => t - (at[i - 1] ?? 0));
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(minute);
        expect(gap).toBeLessThanOrEqual(1.1 * minute);
      }
      pool.stop();
    },
  );
});
