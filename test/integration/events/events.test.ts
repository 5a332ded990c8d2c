// Key Vault events through a real Storage Queue emulator (Azurite, HTTPS, OAuth), the real API
// server and the fake Key Vault: rotation reaches the Secret in seconds, without a sweep.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { makeChain, makeKey, toPemBundle } from '../../support/certs.ts';
import { waitFor } from '../../support/kube.ts';
import {
  applyVaultSecret,
  decoded,
  eventsFor,
  readSecret,
  waitForReady,
} from '../../support/kvsync.ts';
import type { Encoding, Schema } from '../../support/key-vault-events.ts';
import type { QueueEnvironment } from './queue-environment.ts';
import { eventMessage } from '../../support/key-vault-events.ts';
import { startQueueEnvironment } from './queue-environment.ts';

const values = {
  first: 'events-first-value-41d2',
  second: 'events-second-value-77ab',
  third: 'events-third-value-0c9e',
};

describe('Key Vault events from a Storage Queue', () => {
  let q: QueueEnvironment;
  let vault: FakeVault;
  const latencies: number[] = [];

  const sweeps = () => q.metric('kvsync_vault_sweeps_total');
  const secretValue = async (name: string, key = 'value') =>
    decoded(await readSecret(q.env.kc, q.env.namespace, name))[key];
  const waitForValue = (name: string, value: string, timeoutMs = 30_000) =>
    waitFor(async () => (await secretValue(name)) === value, {
      description: `Secret ${name} to hold the rotated value`,
      timeoutMs,
    });
  const sync = async (name: string, object: string, refreshInterval = '1h', url = vault.url) => {
    await applyVaultSecret(q.env.kc, q.env.namespace, name, {
      vault: { url },
      refreshInterval,
      data: [{ key: 'value', secret: { name: object } }],
    });
    await waitForReady(q.env.kc, q.env.namespace, name, { status: 'True' });
  };

  beforeAll(async () => {
    q = await startQueueEnvironment(inject('controlPlane'), 'events');
    vault = q.azure.keyVault.createVault('events');
    vault.grant(q.env.clientId);
    await waitFor(async () => (await q.metric('kvsync_event_source_up')) === 1, {
      description: 'kvsync receiving from the queue',
    });
  });

  afterAll(async () => {
    if (latencies.length > 0) {
      const sorted = [...latencies].sort((a, b) => a - b);
      const histogram = await q.histogram('kvsync_event_to_secret_seconds');
      process.stderr.write(
        `events: queue message -> Secret (test clock) ms: ${sorted.join(', ')}; ` +
          `kvsync_event_to_secret_seconds mean ${(histogram.sum / histogram.count).toFixed(2)} s over ${histogram.count}\n`,
      );
    }
    await q?.close();
  });

  it('a new version announced on the queue reaches the Secret without waiting for a sweep', async () => {
    vault.setSecret('api-key', values.first);
    await sync('rotating', 'api-key');
    const sweepsBefore = await sweeps();

    const { version } = vault.setSecret('api-key', values.second);
    const sent = Date.now();
    await q.queue.sendMessage(eventMessage({ vaultUrl: vault.url, name: 'api-key', version }));
    await waitForValue('rotating', values.second);
    latencies.push(Date.now() - sent);

    // refreshInterval 1h: only the event could have done it.
    expect(await sweeps()).toBe(sweepsBefore);
    expect(
      await q.metric('kvsync_events_processed_total', { type: 'SecretNewVersionCreated' }),
    ).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await q.histogram('kvsync_event_to_secret_seconds')).count >= 1, {
      description: 'the event -> Secret latency observed',
    });
  });

  it('duplicate and out-of-order deliveries cause one reconcile and leave the latest value', async () => {
    vault.setSecret('shuffled', values.first);
    await sync('shuffled', 'shuffled');
    const v2 = vault.setSecret('shuffled', values.second).version;
    const v3 = vault.setSecret('shuffled', values.third).version;
    const reconciles = await q.metric('kvsync_event_reconciles_total');
    const duplicates = await q.metric('kvsync_events_dropped_total', { reason: 'duplicate' });
    const reads = q.azure.keyVault.counters.calls({ vault: 'events', operation: 'getSecret' });
    const writes = await q.metric('kvsync_kube_writes_total', { resource: 'secrets' });

    // Newest first, each delivered twice; all become visible together, as a burst would.
    const message = (version: string, id: string) =>
      eventMessage({
        vaultUrl: vault.url,
        name: 'shuffled',
        version,
        id,
        schema: 'cloud-events',
        encoding: 'json',
      });
    for (const [version, id] of [
      [v3, 'evt-v3'],
      [v2, 'evt-v2'],
      [v3, 'evt-v3'],
      [v2, 'evt-v2'],
    ] as const) {
      await q.queue.sendMessage(message(version, id), { visibilityTimeout: 2 });
    }

    await waitForValue('shuffled', values.third);
    await waitFor(
      async () =>
        (await q.metric('kvsync_events_dropped_total', { reason: 'duplicate' })) === duplicates + 2,
      {
        description: 'both redeliveries recognised',
      },
    );
    expect(await q.metric('kvsync_event_reconciles_total')).toBe(reconciles + 1);
    expect(
      q.azure.keyVault.counters.calls({ vault: 'events', operation: 'getSecret' }) - reads,
    ).toBe(1);
    expect((await q.metric('kvsync_kube_writes_total', { resource: 'secrets' })) - writes).toBe(1);
    expect(await secretValue('shuffled')).toBe(values.third);
  });

  it.each<[Schema, Encoding]>([
    ['event-grid', 'json'],
    ['event-grid', 'base64'],
    ['cloud-events', 'json'],
    ['cloud-events', 'base64'],
  ])('reads %s events as %s', async (schema, encoding) => {
    const object = `${schema}-${encoding}`;
    vault.setSecret(object, values.first);
    await sync(object, object);
    const { version } = vault.setSecret(object, values.second);
    const sent = Date.now();
    await q.queue.sendMessage(
      eventMessage({ vaultUrl: vault.url, name: object, version, schema, encoding }),
    );
    await waitForValue(object, values.second);
    latencies.push(Date.now() - sent);
  });

  it('a certificate event re-reads the certificate', async () => {
    const first = await makeChain({ keyType: 'ec-p256', length: 2 });
    await vault.importCertificate('web-tls', { pem: toPemBundle(first) });
    await applyVaultSecret(q.env.kc, q.env.namespace, 'web-tls', {
      vault: { url: vault.url },
      refreshInterval: '1h',
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name: 'web-tls' } }],
    });
    await waitForReady(q.env.kc, q.env.namespace, 'web-tls', { status: 'True' });
    const second = await makeChain({
      keyType: 'ec-p256',
      length: 2,
      leafKey: await makeKey('ec-p256'),
    });
    const { version } = await vault.importCertificate('web-tls', { pem: toPemBundle(second) });
    await q.queue.sendMessage(
      eventMessage({
        vaultUrl: vault.url,
        name: 'web-tls',
        version,
        kind: 'certificate',
        schema: 'cloud-events',
      }),
    );
    await waitFor(async () => (await secretValue('web-tls', 'tls.crt')) === second.leaf.pem, {
      description: 'the new certificate in the Secret',
    });
  });

  it('a new secret matching a find selector reaches its VaultSecret', async () => {
    vault.setSecret('team-a-one', values.first);
    await applyVaultSecret(q.env.kc, q.env.namespace, 'finder', {
      vault: { url: vault.url },
      refreshInterval: '1h',
      dataFrom: [{ find: { nameRegex: '^team-a-' } }],
    });
    await waitForReady(q.env.kc, q.env.namespace, 'finder', { status: 'True' });
    const { version } = vault.setSecret('team-a-two', values.second);
    await q.queue.sendMessage(eventMessage({ vaultUrl: vault.url, name: 'team-a-two', version }));
    await waitFor(async () => (await secretValue('finder', 'team-a-two')) === values.second, {
      description: 'the new secret in the finder Secret',
    });
    expect(await secretValue('finder', 'team-a-one')).toBe(values.first);
  });

  it('ignores new versions of a pinned version', async () => {
    const { version: pinned } = vault.setSecret('pinned', values.first);
    await applyVaultSecret(q.env.kc, q.env.namespace, 'pinned', {
      vault: { url: vault.url },
      refreshInterval: '1h',
      data: [{ key: 'value', secret: { name: 'pinned', version: pinned } }],
    });
    await waitForReady(q.env.kc, q.env.namespace, 'pinned', { status: 'True' });
    const reconciles = await q.metric('kvsync_event_reconciles_total');
    const processed = await q.metric('kvsync_events_processed_total');
    const { version } = vault.setSecret('pinned', values.second);
    await q.queue.sendMessage(eventMessage({ vaultUrl: vault.url, name: 'pinned', version }));
    await waitFor(async () => (await q.metric('kvsync_events_processed_total')) > processed, {
      description: 'the event processed',
    });
    expect(await q.metric('kvsync_event_reconciles_total')).toBe(reconciles);
    expect(await secretValue('pinned')).toBe(values.first);
  });

  it('moves a poison message to the poison queue and keeps going', async () => {
    vault.setSecret('after-poison', values.first);
    await sync('after-poison', 'after-poison');
    await q.queue.sendMessage('{"this is": "not an event"}');
    const { version } = vault.setSecret('after-poison', values.second);
    await q.queue.sendMessage(eventMessage({ vaultUrl: vault.url, name: 'after-poison', version }));
    await waitForValue('after-poison', values.second);
    const poisoned = await waitFor(
      async () => {
        const peeked = await q.poison.peekMessages({ numberOfMessages: 32 });
        return peeked.peekedMessageItems.find((m) => m.messageText.includes('not an event'));
      },
      { description: 'the malformed message in the poison queue' },
    );
    expect(poisoned.messageText).toBe('{"this is": "not an event"}');
    expect(
      await q.metric('kvsync_events_dropped_total', { reason: 'malformed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(q.env.logs.text).toContain('malformed event message');
    expect(q.env.logs.text).not.toContain('not an event');
  });

  it('when the queue is unreachable, sweeps return to full rate, and the metrics and an Event on kvsync say so', async () => {
    const fallback = q.azure.keyVault.createVault('events-fallback');
    fallback.grant(q.env.clientId);
    fallback.setSecret('swept', values.first);
    const start = await sweeps();
    await sync('swept', 'swept', '10s', fallback.url);
    // The first sweep runs at full rate; after it, sweeps are 30 minutes apart while events flow.
    await waitFor(async () => (await sweeps()) > start, {
      description: 'a sweep',
      timeoutMs: 40_000,
    });
    expect(await q.metric('kvsync_sweep_stretch_seconds')).toBe(1800);

    await q.azurite.stop();
    await waitFor(async () => (await q.metric('kvsync_event_source_up')) === 0, {
      description: 'the event source reported down',
    });
    expect(await q.metric('kvsync_sweep_stretch_seconds')).toBe(0);
    const kvsyncEvents = () => eventsFor(q.env.kc, q.env.namespace, 'kvsync-events');
    const down = await waitFor(
      async () => (await kvsyncEvents()).find((e) => e.reason === 'EventSourceDown'),
      { description: "a Warning Event on kvsync's Pod" },
    );
    expect(down.type).toBe('Warning');
    expect(down.message).toContain(`from ${q.azurite.queueUrl('kv-events')}:`);
    expect(down.message).toContain('Rotation sweeps run at full rate until it recovers');
    fallback.setSecret('swept', values.second);
    await waitForValue('swept', values.second, 60_000);

    await q.azurite.restart();
    await waitFor(async () => (await q.metric('kvsync_event_source_up')) === 1, {
      description: 'the event source back up',
      timeoutMs: 60_000,
    });
    expect(await q.metric('kvsync_sweep_stretch_seconds')).toBe(1800);
    expect(q.env.logs.text).toContain('event source down');
    const up = await waitFor(
      async () => (await kvsyncEvents()).find((e) => e.reason === 'EventSourceUp'),
      { description: "a Normal Event on kvsync's Pod" },
    );
    expect(up).toMatchObject({ type: 'Normal' });
    expect(up.message).toContain('rotation sweeps stretched to 30 min');
  });

  it('never writes a secret value into logs', () => {
    for (const value of Object.values(values)) expect(q.env.logs.text).not.toContain(value);
  });
});
