import type { V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Informer,
  kubeInformer,
  type InformerOptions,
  type InformerStatus,
} from '../../../src/runtime/informer.ts';
import { KubeApiError } from '../../../src/runtime/kube-http.ts';
import type { ListWatchSource } from '../../../src/runtime/list-watch.ts';
import { FakeWatchServer } from './fake-watch-server.ts';

const poll = { timeout: 10_000, interval: 5 };

describe('Informer against a loopback watch server', () => {
  let server: FakeWatchServer;
  let informer: Informer<V1Secret> | undefined;
  let changes: string[];
  let statuses: InformerStatus[];

  beforeEach(() => {
    server = new FakeWatchServer();
    changes = [];
    statuses = [];
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await server.close();
  });

  async function startInformer(
    options: Omit<InformerOptions<V1Secret>, 'source'> = {},
  ): Promise<Informer<V1Secret>> {
    const kubeConfig = await server.start();
    informer = kubeInformer<V1Secret>(
      kubeConfig,
      { apiVersion: 'v1', plural: 'secrets' },
      {
        initialBackoffMs: 5,
        maxBackoffMs: 50,
        onStatus: (status) => statuses.push(status),
        ...options,
      },
    );
    informer.onChange((key) => changes.push(key));
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(10_000));
    return informer;
  }

  const restarts = (reason: string): number =>
    statuses.filter((s) => s.phase === 'restarting' && s.reason === reason).length;

  it('lists, then watches from the list resourceVersion with bookmarks, storing no managedFields', async () => {
    server.put('apps', 'db', { 'app.kubernetes.io/managed-by': 'kvsync' });
    server.put('apps', 'other', {});
    const cache = await startInformer({ labelSelector: 'app.kubernetes.io/managed-by=kvsync' });
    expect(cache.hasSynced()).toBe(true);
    expect(cache.store.keys()).toEqual(['apps/db']);
    expect(cache.store.get('apps/db')?.metadata?.managedFields).toBeUndefined();
    expect(changes).toEqual(['apps/db']);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1), poll);
    expect(server.watches[0]).toMatchObject({
      resourceVersion: server.resourceVersion,
      labelSelector: 'app.kubernetes.io/managed-by=kvsync',
      allowWatchBookmarks: 'true',
    });
    expect(server.lists[0]?.labelSelector).toBe('app.kubernetes.io/managed-by=kvsync');
  });

  it('applies added, modified and deleted events and hands out keys only', async () => {
    const cache = await startInformer();
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    server.emit('ADDED', server.put('apps', 'a'));
    await vi.waitFor(() => expect(cache.store.get('apps/a')).toBeDefined(), poll);
    const modified = server.put('apps', 'a', { changed: 'yes' });
    server.emit('MODIFIED', modified);
    await vi.waitFor(
      () => expect(cache.store.get('apps/a')?.metadata?.labels).toEqual({ changed: 'yes' }),
      poll,
    );
    server.emit('DELETED', server.remove('apps', 'a')!);
    await vi.waitFor(() => expect(cache.store.get('apps/a')).toBeUndefined(), poll);
    expect(changes).toEqual(['apps/a', 'apps/a', 'apps/a']);
  });

  it('freezes cached objects so a reader cannot corrupt the cache', async () => {
    server.put('apps', 'a');
    const cache = await startInformer();
    const cached = cache.store.get('apps/a')!;
    expect(() => {
      cached.data!.key = 'changed';
    }).toThrow(TypeError);
  });

  it('relists on 410 Gone and reports objects deleted while it was away', async () => {
    server.put('apps', 'kept');
    server.put('apps', 'gone');
    const cache = await startInformer();
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    server.remove('apps', 'gone'); // the DELETED event is never sent
    server.watchAnswers.push('http-410');
    server.endWatches();
    await vi.waitFor(() => expect(server.lists).toHaveLength(2), poll);
    await vi.waitFor(() => expect(cache.store.keys()).toEqual(['apps/kept']), poll);
    expect(changes.filter((key) => key === 'apps/gone')).toHaveLength(2); // listed, then deleted
    expect(restarts('gone')).toBe(1);
  });

  it('relists when the watch stream carries a 410 ERROR event', async () => {
    await startInformer();
    server.watchAnswers.push('error-event-410');
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    server.endWatches();
    await vi.waitFor(() => expect(server.lists).toHaveLength(2), poll);
  });

  it('reconnects from the last seen resourceVersion when the stream ends, without relisting', async () => {
    const cache = await startInformer();
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    server.emit('ADDED', server.put('apps', 'a'));
    await vi.waitFor(() => expect(cache.store.get('apps/a')).toBeDefined(), poll);
    server.bookmark();
    const bookmarked = server.resourceVersion;
    server.endWatches(); // after the bookmark on the same stream, so it is read first
    await vi.waitFor(() => expect(server.watches).toHaveLength(2), poll);
    expect(server.watches[1]?.resourceVersion).toBe(bookmarked);
    expect(server.lists).toHaveLength(1);
    expect(restarts('closed')).toBe(1);
  });

  it('keeps retrying with backoff after errors, then recovers', async () => {
    server.listAnswers.push(500, 500);
    server.put('apps', 'a');
    const cache = await startInformer();
    expect(server.lists).toHaveLength(3);
    expect(cache.store.keys()).toEqual(['apps/a']);
    const delays = statuses.flatMap((s) => (s.phase === 'restarting' ? [s.delayMs] : []));
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThan(delays[0]!); // the delay grows per consecutive failure
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    server.watchAnswers.push('http-500', 'http-500');
    server.endWatches();
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    expect(server.watches).toHaveLength(4);
    expect(restarts('error')).toBe(4); // two failed lists, two failed watches
    expect(restarts('closed')).toBe(1);
    expect(server.lists).toHaveLength(3); // errors other than 410 keep the resourceVersion
  });

  it('restarts a watch that has gone silent', async () => {
    await startInformer({ stallTimeoutMs: 200 });
    await vi.waitFor(() => expect(server.watches.length).toBeGreaterThanOrEqual(2), poll);
    expect(restarts('stalled')).toBeGreaterThanOrEqual(1);
    expect(server.lists).toHaveLength(1);
  });

  it('relists periodically', async () => {
    await startInformer({ relistIntervalMs: 100 });
    await vi.waitFor(() => expect(server.lists.length).toBeGreaterThanOrEqual(3), poll);
    expect(restarts('relist')).toBeGreaterThanOrEqual(2);
  });

  it('watches each listed namespace separately and keeps them apart on relist', async () => {
    server.put('team-a', 'x');
    server.put('team-b', 'y');
    server.put('team-c', 'z');
    const cache = await startInformer({ namespaces: ['team-a', 'team-b'] });
    expect(cache.store.keys().sort()).toEqual(['team-a/x', 'team-b/y']);
    expect(server.lists.map((l) => l.namespace).sort()).toEqual(['team-a', 'team-b']);
    await vi.waitFor(() => expect(server.openWatches).toBe(2), poll);
    // A relist of one namespace must not drop the other namespace's objects.
    server.watchAnswers.push('http-410');
    server.endWatches();
    await vi.waitFor(() => expect(server.openWatches).toBe(2), poll);
    await vi.waitFor(() => expect(server.lists.length).toBeGreaterThanOrEqual(3), poll);
    expect(cache.store.keys().sort()).toEqual(['team-a/x', 'team-b/y']);
  });

  it('stop ends the watch and rejects later waits for sync', async () => {
    const cache = await startInformer();
    await vi.waitFor(() => expect(server.openWatches).toBe(1), poll);
    await cache.stop();
    await vi.waitFor(() => expect(server.openWatches).toBe(0), poll);
    informer = undefined;
  });

  it('waitForSync rejects when stopped before it synced', async () => {
    server.listAnswers.push(...Array<number>(1000).fill(500));
    const kubeConfig = await server.start();
    const cache = kubeInformer<V1Secret>(kubeConfig, { apiVersion: 'v1', plural: 'secrets' }, {});
    cache.start();
    const waiting = cache.waitForSync();
    await cache.stop();
    await expect(waiting).rejects.toThrow(/stopped before it synced/);
  });
});

describe('Informer restart backoff', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function failingInformer(statuses: InformerStatus[]): Informer<V1Secret> {
    const source: ListWatchSource<V1Secret> = {
      list: () => Promise.reject(new KubeApiError(503, 'apiserver unavailable')),
      watch: () => Promise.reject(new Error('unreachable')),
    };
    return new Informer<V1Secret>({
      source,
      random: () => 0.5, // no jitter
      onStatus: (status) => statuses.push(status),
    });
  }

  const delays = (statuses: InformerStatus[]): number[] =>
    statuses.flatMap((s) => (s.phase === 'restarting' ? [s.delayMs] : []));

  it('doubles from 0.8 s and caps at 30 s while the API server keeps failing', async () => {
    const statuses: InformerStatus[] = [];
    const informer = failingInformer(statuses);
    informer.start();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(delays(statuses).slice(0, 8)).toEqual([
      800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000,
    ]);
    expect(informer.hasSynced()).toBe(false);
    await informer.stop();
  });

  it('jitters each delay by at most 20 %', async () => {
    const statuses: InformerStatus[] = [];
    let dice = 0;
    const informer = new Informer<V1Secret>({
      source: {
        list: () => Promise.reject(new Error('down')),
        watch: () => Promise.reject(new Error('down')),
      },
      random: () => [0, 0.999][dice++ % 2]!,
      onStatus: (status) => statuses.push(status),
    });
    informer.start();
    await vi.advanceTimersByTimeAsync(10_000);
    const [low, high] = delays(statuses);
    expect(low).toBe(640); // 800 × 0.8
    expect(high).toBeCloseTo(1_600 * 1.2, -1);
    await informer.stop();
  });
});
