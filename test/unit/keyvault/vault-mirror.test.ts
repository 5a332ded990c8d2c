import { describe, expect, it } from 'vitest';
import { ValueCache } from '../../../src/keyvault/value-cache.ts';
import type { Interest } from '../../../src/keyvault/vault-mirror.ts';
import { VaultMirror } from '../../../src/keyvault/vault-mirror.ts';
import { MemoryReader } from './memory-reader.ts';

const hour = 3_600_000;

function setup(cache = new ValueCache()) {
  const reader = new MemoryReader();
  const mirror = new VaultMirror({ key: 'default|vault', reader, cache });
  return { reader, mirror, cache };
}

function interest(latest: string[], extra: Partial<Interest> = {}): Interest {
  return { latest: new Set(latest), finds: [], refreshIntervalMs: hour, ...extra };
}

describe('VaultMirror', () => {
  it('shares one GET among concurrent readers of the same object', async () => {
    const { reader, mirror } = setup();
    reader.set('db-password', 'one');
    const values = await Promise.all(
      Array.from({ length: 10 }, () => mirror.latest('db-password')),
    );
    expect(new Set(values.map((v) => v.properties.version)).size).toBe(1);
    expect(reader.calls.get).toBe(1);
  });

  it('serves a known current version from the cache without calling the vault', async () => {
    const { reader, mirror } = setup();
    reader.set('db-password', 'one');
    await mirror.latest('db-password');
    await mirror.latest('db-password');
    expect(reader.totalCalls).toBe(1);
  });

  it('fetches a pinned version once and never again', async () => {
    const { reader, mirror } = setup();
    const first = reader.set('api-key', 'one');
    reader.set('api-key', 'two');
    const pinned = await mirror.version('api-key', first);
    await mirror.version('api-key', first);
    expect(pinned.value).toBe('one');
    expect(reader.calls.getVersion).toBe(1);
  });

  it('never serves a value cached for one identity to another', async () => {
    const cache = new ValueCache();
    const reader = new MemoryReader();
    reader.set('shared', 'value');
    const a = new VaultMirror({ key: 'sa:team-a/app|vault', reader, cache });
    const b = new VaultMirror({ key: 'sa:team-b/app|vault', reader, cache });
    await a.latest('shared');
    await b.latest('shared');
    expect(reader.calls.get).toBe(2);
  });

  it('sweeps with one list page instead of a GET per object, and reports rotated objects', async () => {
    const { reader, mirror } = setup();
    for (let i = 0; i < 20; i++) reader.set(`s${i}`, `v${i}`);
    const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
    await Promise.all(names.map((name) => mirror.latest(name)));
    mirror.register('ns/a', interest(names.slice(0, 10)));
    mirror.register('ns/b', interest(names.slice(10)));
    reader.calls.get = 0;

    const quiet = await mirror.sweep();
    expect(quiet).toEqual({ mode: 'list', calls: 1, affected: [] });

    reader.set('s15', 'rotated');
    const rotated = await mirror.sweep();
    expect(rotated.affected).toEqual(['ns/b']);
    expect(reader.calls.get).toBe(0);
    expect((await mirror.latest('s15')).value).toBe('rotated');
    expect(reader.calls.get).toBe(1);
  });

  it('force-sync re-reads past the cache and names the other users of a changed object', async () => {
    const { reader, mirror } = setup();
    reader.set('shared', 'one');
    reader.set('own', 'a');
    await mirror.latest('shared');
    await mirror.latest('own');
    mirror.register('ns/forcer', interest(['shared', 'own']));
    mirror.register('ns/other', interest(['shared']));
    mirror.register('ns/unrelated', interest(['own-elsewhere']));
    reader.set('shared', 'two');
    reader.calls.get = 0;

    const affected = await mirror.reread(new Set(['shared', 'own']));
    expect(reader.calls.get).toBe(2);
    expect(affected.sort()).toEqual(['ns/forcer', 'ns/other']);
    expect((await mirror.latest('shared')).value).toBe('two');
    expect(reader.calls.get).toBe(2);
  });

  it('says when Key Vault last confirmed names: the oldest read, then the sweep that found nothing new', async () => {
    let now = 1_000_000;
    const reader = new MemoryReader();
    const mirror = new VaultMirror({ key: 'k', reader, cache: new ValueCache(), now: () => now });
    reader.set('a', 'one');
    reader.set('b', 'two');
    await mirror.latest('a');
    now += 60_000;
    await mirror.latest('b');
    expect(mirror.confirmedAt(['a', 'b'], false)).toBe(1_000_000);
    expect(mirror.confirmedAt(['pinned-only'], false)).toBeUndefined();

    mirror.register('ns/x', interest(['a', 'b']));
    now += hour;
    await mirror.sweep();
    expect(mirror.confirmedAt(['a', 'b'], false)).toBe(now);
    expect(mirror.confirmedAt(['a'], true)).toBe(now);
  });

  it('uses one GET per object when that is fewer calls than listing', async () => {
    const { reader, mirror } = setup();
    for (let i = 0; i < 60; i++) reader.set(`s${i}`, 'x');
    await mirror.latest('s1');
    await mirror.latest('s2');
    mirror.register('ns/a', interest(['s1', 's2']));
    await mirror.sweep(); // learns that a listing takes 3 pages
    reader.calls.listPages = 0;
    reader.calls.get = 0;
    const result = await mirror.sweep();
    expect(result).toEqual({ mode: 'get', calls: 2, affected: [] });
    expect(reader.calls.listPages).toBe(0);
    reader.set('s2', 'rotated');
    expect((await mirror.sweep()).affected).toEqual(['ns/a']);
  });

  it('reports objects that were deleted or disabled, and ones that reappeared', async () => {
    const { reader, mirror } = setup();
    reader.set('a', '1');
    reader.set('b', '2');
    await mirror.latest('a');
    await mirror.latest('b');
    mirror.register('ns/x', interest(['a']));
    mirror.register('ns/y', interest(['b']));
    reader.delete('a');
    reader.disable('b');
    expect([...(await mirror.sweep()).affected].sort()).toEqual(['ns/x', 'ns/y']);
    expect((await mirror.sweep()).affected).toEqual(['ns/y']); // still disabled, but never refetched
    reader.set('a', 'back');
    expect((await mirror.sweep()).affected).toContain('ns/x');
  });

  it('tells find users when matching objects appear, change or disappear', async () => {
    const { reader, mirror } = setup();
    reader.set('payments-a', '1', { team: 'payments' });
    reader.set('payments-b', '2', { team: 'other' });
    const selector = { nameRegex: /^payments-/, tags: { team: 'payments' } };
    expect((await mirror.find(selector, Infinity)).map((p) => p.name)).toEqual(['payments-a']);
    mirror.register('ns/find', interest([], { finds: [selector] }));
    expect((await mirror.sweep()).affected).toEqual([]);
    reader.set('payments-c', '3', { team: 'payments' });
    expect((await mirror.sweep()).affected).toEqual(['ns/find']);
    expect((await mirror.sweep()).affected).toEqual([]);
  });

  it('confirms with one more GET a read made in the same second as the update', async () => {
    const reader = new MemoryReader();
    let now = 0;
    const mirror = new VaultMirror({ key: 'k', reader, cache: new ValueCache(), now: () => now });
    reader.set('a', '1'); // updatedOn = 1 s
    reader.set('b', '2'); // updatedOn = 2 s
    now = 2_500; // read right after the update: a newer version could share its second
    await mirror.latest('a');
    await mirror.latest('b');
    mirror.register('ns/x', interest(['a', 'b']));
    expect((await mirror.sweep()).affected).toEqual(['ns/x']);
    now = 60_000;
    await mirror.latest('a');
    await mirror.latest('b');
    expect((await mirror.sweep()).affected).toEqual([]);
  });

  it('does not sweep for users that sync once', async () => {
    const { reader, mirror } = setup();
    reader.set('a', '1');
    mirror.register('ns/once', interest(['a'], { refreshIntervalMs: 0 }));
    expect(mirror.sweepIntervalMs()).toBeUndefined();
    expect(await mirror.sweep()).toEqual({ mode: 'idle', calls: 0, affected: [] });
    expect(reader.totalCalls).toBe(0);
  });

  it('sweeps as often as its most demanding user asks', () => {
    const { mirror } = setup();
    mirror.register('ns/a', interest(['a'], { refreshIntervalMs: hour }));
    mirror.register('ns/b', interest(['a'], { refreshIntervalMs: 60_000 }));
    expect(mirror.sweepIntervalMs()).toBe(60_000);
    mirror.unregister('ns/b');
    expect(mirror.sweepIntervalMs()).toBe(hour);
  });
});
