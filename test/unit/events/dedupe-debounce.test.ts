import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VaultSecret } from '../../../src/api/vault-secret.ts';
import { Debouncer } from '../../../src/events/debouncer.ts';
import { EventRouter } from '../../../src/events/event-router.ts';
import type { KeyVaultEvent } from '../../../src/events/key-vault-event.ts';
import { eventMetrics } from '../../../src/events/metrics.ts';
import { RecentIds } from '../../../src/events/recent-ids.ts';
import { VaultSecretIndex } from '../../../src/events/vault-secret-index.ts';

describe('RecentIds', () => {
  it('remembers the newest ids up to its capacity, oldest out first', () => {
    const recent = new RecentIds(3);
    for (const id of ['a', 'b', 'c']) recent.add(id);
    recent.add('a'); // seen again: young again
    recent.add('d');
    expect(['a', 'b', 'c', 'd'].filter((id) => recent.has(id))).toEqual(['a', 'c', 'd']);
    expect(recent.size).toBe(3);
  });
});

describe('Debouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires once per key per window, and the window does not stretch under a stream', async () => {
    const fired: string[] = [];
    const debouncer = new Debouncer({ delayMs: 1_000, fire: (key) => fired.push(key) });
    debouncer.add('ns/a');
    await vi.advanceTimersByTimeAsync(600);
    debouncer.add('ns/a');
    debouncer.add('ns/b');
    await vi.advanceTimersByTimeAsync(400);
    expect(fired).toEqual(['ns/a']);
    await vi.advanceTimersByTimeAsync(600);
    expect(fired).toEqual(['ns/a', 'ns/b']);
    debouncer.add('ns/a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(['ns/a', 'ns/b', 'ns/a']);
  });

  it('drops what is pending when stopped', async () => {
    const fired: string[] = [];
    const debouncer = new Debouncer({ delayMs: 1_000, fire: (key) => fired.push(key) });
    debouncer.add('ns/a');
    debouncer.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired).toEqual([]);
  });
});

const vaultUrl = 'https://kv.vault.azure.net/';

function vaultSecret(name: string, spec: Partial<VaultSecret['spec']>): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name, namespace: 'ns' },
    spec: { vault: { url: vaultUrl }, ...spec },
  };
}

function event(overrides: Partial<KeyVaultEvent> = {}): KeyVaultEvent {
  return {
    id: 'e1',
    type: 'SecretNewVersionCreated',
    change: 'NewVersion',
    kind: 'secret',
    vaultHost: 'kv.vault.azure.net',
    name: 'api-key',
    version: 'v2',
    time: undefined,
    notBefore: undefined,
    expiresOn: undefined,
    ...overrides,
  };
}

describe('EventRouter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const index = new VaultSecretIndex();
    index.update(
      'ns/app',
      vaultSecret('app', { data: [{ key: 'k', secret: { name: 'api-key' } }] }),
    );
    const invalidated: string[] = [];
    const enqueued: string[] = [];
    const registry = new Registry();
    const metrics = eventMetrics(registry);
    const router = new EventRouter({
      index,
      invalidate: (host, name) => invalidated.push(`${host}/${name}`),
      enqueue: (key) => enqueued.push(key),
      debounceMs: 1_000,
      metrics,
    });
    return { router, invalidated, enqueued, metrics };
  }

  it('turns a burst of versions, out of order, into one enqueue, after forgetting the cached version', async () => {
    const { router, invalidated, enqueued } = setup();
    for (const version of ['v3', 'v1', 'v2'])
      router.route(event({ id: version, version }), undefined);
    expect(invalidated).toEqual(Array(3).fill('kv.vault.azure.net/api-key'));
    expect(enqueued).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(enqueued).toEqual(['ns/app']);
  });

  it('refreshes status on expiry events without making the vault be read again', async () => {
    const { router, invalidated, enqueued } = setup();
    router.route(event({ type: 'SecretNearExpiry', change: 'NearExpiry' }), undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(enqueued).toEqual(['ns/app']);
    expect(invalidated).toEqual([]);
  });

  it('does nothing for objects no VaultSecret reads', async () => {
    const { router, invalidated, enqueued } = setup();
    expect(router.route(event({ name: 'other' }), undefined)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect([...invalidated, ...enqueued]).toEqual([]);
  });

  it('times event -> Secret from the event time, only once the enqueue happened', async () => {
    const { router, metrics } = setup();
    const published = new Date(Date.now() - 2_000);
    router.route(event({ time: published }), undefined);
    router.dataChanged('ns/app'); // a sync that started before the event: not timed
    await vi.advanceTimersByTimeAsync(1_000);
    router.dataChanged('ns/app');
    router.dataChanged('ns/app');
    const histogram = (await metrics.eventToSecret.get()).values;
    expect(histogram.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(1);
    expect(histogram.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(3);
  });

  it('stops timing when the sync after the event changed nothing', async () => {
    const { router, metrics } = setup();
    router.route(event(), undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    router.synced('ns/app');
    router.dataChanged('ns/app');
    const histogram = (await metrics.eventToSecret.get()).values;
    expect(histogram.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(0);
  });
});
