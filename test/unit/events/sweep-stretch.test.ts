// What events change in the vault pool: an event makes the mirror read the announced object again
// (the cache would serve the version it knows), and while events flow sweeps are stretched.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { minute, poolWithMirror } from '../keyvault/pool-fixture.ts';

describe('events and the vault mirror', () => {
  it('an invalidated object is read again; others still come from the cache', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', 'one');
    reader.set('b', 'bee');
    await mirror.latest('a');
    await mirror.latest('b');
    reader.set('a', 'two');
    expect((await mirror.latest('a')).value).toBe('one');

    expect(pool.invalidate('UNIT.vault.azure.net', 'a')).toBe(1);
    expect((await mirror.latest('a')).value).toBe('two');
    expect((await mirror.latest('b')).value).toBe('bee');
    expect(reader.calls.get).toBe(3);
  });

  it('a read in flight when the event arrives does not pin the old version', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', 'one');
    const old = await reader.getSecret('a');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(reader, 'getSecret').mockImplementationOnce(async () => {
      await gate;
      return old;
    });
    const before = mirror.latest('a');
    reader.set('a', 'two');
    pool.invalidate('unit.vault.azure.net', 'a');
    // A caller after the event does not join the read that started before it...
    const after = mirror.latest('a');
    release();
    expect((await before).value).toBe('one');
    expect((await after).value).toBe('two');
    // ...and the older read, finishing last, does not make the mirror believe in 'one' again.
    expect((await mirror.latest('a')).value).toBe('two');
  });

  it('an event for another object during a read does not make the read count for nothing', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', 'one');
    reader.set('b', 'bee');
    const get = reader.getSecret.bind(reader);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(reader, 'getSecret').mockImplementationOnce(async (name) => {
      await gate;
      return get(name);
    });
    const read = mirror.latest('a');
    pool.invalidate('unit.vault.azure.net', 'b'); // events for other objects keep coming
    release();
    expect((await read).value).toBe('one');
    // The version read is known: the next reader of 'a' is served from the cache.
    expect((await mirror.latest('a')).value).toBe('one');
    expect(reader.calls.get).toBe(1);
  });

  it('a new secret a find may match makes the next find list again', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('payments-a', '1');
    pool.register('ns/finder', mirror, {
      latest: new Set(),
      finds: [{ nameRegex: /^payments-/ }],
      refreshIntervalMs: 60 * minute,
    });
    expect((await mirror.find({ nameRegex: /^payments-/ }, Infinity)).map((o) => o.name)).toEqual([
      'payments-a',
    ]);
    reader.set('payments-b', '2');
    pool.invalidate('unit.vault.azure.net', 'unrelated');
    expect(await mirror.find({ nameRegex: /^payments-/ }, Infinity)).toHaveLength(1);
    pool.invalidate('unit.vault.azure.net', 'payments-b');
    expect((await mirror.find({ nameRegex: /^payments-/ }, Infinity)).map((o) => o.name)).toEqual([
      'payments-a',
      'payments-b',
    ]);
    expect(reader.calls.listPages).toBe(2);
  });

  it('ignores other vaults', () => {
    const { pool } = poolWithMirror();
    expect(pool.invalidate('other.vault.azure.net', 'a')).toBe(0);
  });
});

describe('sweep stretch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps the sweep already due, stretches the ones after, and returns to full rate at once', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', '1');
    await mirror.latest('a');
    pool.register('ns/x', mirror, { latest: new Set(['a']), finds: [], refreshIntervalMs: minute });
    pool.setSweepStretch(30 * minute);

    await vi.advanceTimersByTimeAsync(minute); // the sweep due at start runs at full rate
    expect(reader.calls.get).toBe(2);
    await vi.advanceTimersByTimeAsync(10 * minute);
    expect(reader.calls.get).toBe(2);

    pool.setSweepStretch(undefined); // the event source went down
    await vi.advanceTimersByTimeAsync(minute);
    expect(reader.calls.get).toBe(3);
    await vi.advanceTimersByTimeAsync(minute);
    expect(reader.calls.get).toBe(4);
  });

  it('never sweeps more often than users asked', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', '1');
    await mirror.latest('a');
    pool.register('ns/x', mirror, {
      latest: new Set(['a']),
      finds: [],
      refreshIntervalMs: 60 * minute,
    });
    pool.setSweepStretch(minute);
    await vi.advanceTimersByTimeAsync(59 * minute);
    expect(reader.calls.get).toBe(1);
    await vi.advanceTimersByTimeAsync(minute);
    expect(reader.calls.get).toBe(2);
  });

  it('keeps sweeps stretched while events flow, even when reconciles register again', async () => {
    const { reader, pool, mirror } = poolWithMirror();
    reader.set('a', '1');
    await mirror.latest('a');
    const interest = { latest: new Set(['a']), finds: [], refreshIntervalMs: minute };
    // Periodic reconciles register again, also while a sweep is running.
    const sweep = mirror.sweep.bind(mirror);
    const sweeps = vi.spyOn(mirror, 'sweep').mockImplementation(() => {
      pool.register('ns/x', mirror, interest);
      return sweep();
    });
    pool.register('ns/x', mirror, interest);
    pool.setSweepStretch(30 * minute);
    await vi.advanceTimersByTimeAsync(minute);
    expect(sweeps, 'the sweep already due runs at full rate').toHaveBeenCalledTimes(1);

    // Event-driven reconciles register the VaultSecret again, every few seconds.
    for (let second = 0; second < 10 * 60; second += 5) {
      pool.register('ns/x', mirror, interest);
      await vi.advanceTimersByTimeAsync(5_000);
    }
    expect(sweeps, 'no sweep 10 minutes into a 30-minute stretch').toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(20 * minute);
    expect(sweeps).toHaveBeenCalledTimes(2);

    // The source fails: full rate again at once, and new registrations keep it there.
    pool.setSweepStretch(undefined);
    pool.register('ns/x', mirror, interest);
    await vi.advanceTimersByTimeAsync(minute);
    expect(sweeps).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(minute);
    expect(sweeps).toHaveBeenCalledTimes(4);
  });
});
