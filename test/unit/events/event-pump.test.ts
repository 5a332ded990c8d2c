import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventSource, ReceivedMessage } from '../../../src/events/event-source.ts';
import { EventPump } from '../../../src/events/event-pump.ts';
import type { KeyVaultEvent } from '../../../src/events/key-vault-event.ts';
import { eventMetrics } from '../../../src/events/metrics.ts';

/** An in-memory queue with visibility: a received message comes back unless completed. */
class MemoryQueue implements EventSource {
  readonly kind = 'memory';
  readonly description = 'memory://queue';
  readonly poison: string[] = [];
  failing = false;
  poisonRefuses = false;
  receives = 0;
  private readonly messages: { id: string; text: string; dequeueCount: number }[] = [];
  private next = 0;

  send(text: string): void {
    this.messages.push({ id: `m${++this.next}`, text, dequeueCount: 0 });
  }

  get depth(): number {
    return this.messages.length;
  }

  receive(): Promise<readonly ReceivedMessage[]> {
    this.receives += 1;
    if (this.failing) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1'));
    return Promise.resolve(
      this.messages.splice(0, 32).map((m) => {
        m.dequeueCount += 1;
        // Not completed -> visible again (no visibility timeout to wait for here).
        this.messages.push(m);
        return {
          messageId: m.id,
          text: m.text,
          dequeueCount: m.dequeueCount,
          insertedOn: undefined,
        };
      }),
    );
  }

  complete(message: ReceivedMessage): Promise<void> {
    const at = this.messages.findIndex((m) => m.id === message.messageId);
    if (at >= 0) this.messages.splice(at, 1);
    return Promise.resolve();
  }

  deadLetter(message: ReceivedMessage): Promise<void> {
    if (this.poisonRefuses) return Promise.reject(new Error('QueueNotFound'));
    this.poison.push(message.text);
    return this.complete(message);
  }
}

const event = (id: string, name = 'api-key') =>
  JSON.stringify({
    id,
    eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
    data: { Id: `https://kv.vault.azure.net/secrets/${name}/${id}` },
  });

describe('EventPump', () => {
  let queue: MemoryQueue;
  let routed: KeyVaultEvent[];
  let health: string[];
  let pump: EventPump;
  let registry: Registry;
  let logged: string;
  let route: (event: KeyVaultEvent) => void;

  beforeEach(() => {
    vi.useFakeTimers();
    queue = new MemoryQueue();
    routed = [];
    health = [];
    registry = new Registry();
    logged = '';
    route = (e) => routed.push(e);
    const log = pino({ level: 'debug' }, { write: (line: string) => void (logged += line) });
    pump = new EventPump({
      source: queue,
      route: (e) => route(e),
      onHealth: (up, error) => health.push(up ? 'up' : error === undefined ? 'starting' : 'down'),
      metrics: eventMetrics(registry),
      log,
      maxDequeueCount: 3,
      random: () => 0.5,
    });
  });

  afterEach(async () => {
    await pump.stop();
    vi.useRealTimers();
  });

  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
      .reduce((sum, v) => sum + v.value, 0);
  };

  it('routes each event once, however often it is delivered, and empties the queue', async () => {
    queue.send(event('e1'));
    queue.send(event('e1'));
    queue.send(event('e2'));
    pump.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(routed.map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(queue.depth).toBe(0);
    expect(await metric('kvsync_events_dropped_total', { reason: 'duplicate' })).toBe(1);
    expect(await metric('kvsync_events_processed_total')).toBe(2);
  });

  it('moves a malformed message aside without its content in the logs, and carries on', async () => {
    queue.send('password=hunter2');
    queue.send(event('e1'));
    pump.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.poison).toEqual(['password=hunter2']);
    expect(routed.map((e) => e.id)).toEqual(['e1']);
    expect(
      await metric('kvsync_events_dropped_total', { type: 'malformed', reason: 'malformed' }),
    ).toBe(1);
    expect(logged).toContain('malformed event message');
    expect(logged).not.toContain('hunter2');
  });

  it('moves a message that keeps failing to the poison queue after the dequeue limit', async () => {
    route = () => {
      throw new Error('boom');
    };
    queue.send(event('e1'));
    pump.start();
    // Each failed handling leaves the message in the queue; the loop keeps polling.
    for (let i = 0; i < 6 && queue.poison.length === 0; i++)
      await vi.advanceTimersByTimeAsync(5_000);
    expect(queue.poison).toEqual([event('e1')]);
    expect(queue.depth).toBe(0);
    expect(await metric('kvsync_events_dropped_total', { reason: 'dequeue-limit' })).toBe(1);
  });

  it('deletes a poison message the poison queue refuses: the sweep is the safety net', async () => {
    queue.poisonRefuses = true;
    queue.send('{}');
    pump.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.depth).toBe(0);
    expect(logged).toContain('could not move a message to the poison queue');
  });

  it('reports the source down after failed receives and up again when it answers', async () => {
    queue.failing = true;
    pump.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(health).toEqual(['starting']);
    expect(await metric('kvsync_event_source_up')).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await metric('kvsync_event_source_errors_total')).toBeGreaterThanOrEqual(2);
    // Down even though it was never up: the error is reported once, without message content.
    expect(health).toEqual(['starting', 'down']);
    queue.failing = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(health).toEqual(['starting', 'down', 'up']);
    expect(await metric('kvsync_event_source_up')).toBe(1);
    expect(logged).toContain('could not receive Key Vault events');
  });

  it('polls an empty queue less often, up to the idle maximum, and at once after a batch', async () => {
    pump.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = queue.receives;
    await vi.advanceTimersByTimeAsync(60_000);
    // 1 s, 2 s, then every 4 s.
    expect(queue.receives - first).toBeLessThanOrEqual(2 + 60 / 4);
    expect(queue.receives - first).toBeGreaterThanOrEqual(60 / 4);
  });
});
