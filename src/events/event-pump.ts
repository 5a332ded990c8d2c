// The receive loop: take a batch, decode each message, hand its events to the router, complete
// it. Nothing a message contains can stop the loop: malformed messages and messages handed out
// too often go to the poison queue; transport failures back off and mark the source down, which
// brings the sweeps back to full rate. Logs name messages by id, never by content.
import type { Logger } from 'pino';
import { errorMessage } from '../observability/logger.ts';
import type { Timers } from '../runtime/timers.ts';
import { jittered, sleep, systemTimers } from '../runtime/timers.ts';
import type { Decoded } from './decode.ts';
import { decodeMessage } from './decode.ts';
import type { EventSource, ReceivedMessage } from './event-source.ts';
import type { EventTypeLabel, KeyVaultEvent } from './key-vault-event.ts';
import type { EventMetrics } from './metrics.ts';
import { RecentIds } from './recent-ids.ts';

export interface EventPumpOptions {
  readonly source: EventSource;
  /** Acts on one new event; must not throw for anything an event contains. */
  readonly route: (event: KeyVaultEvent, insertedOn: Date | undefined) => void;
  /**
   * Called when the source starts or stops answering; `error` (never message content) says why
   * it stopped, and is absent for the 'not yet up' at start.
   */
  readonly onHealth: (up: boolean, error?: string) => void;
  readonly metrics: EventMetrics;
  readonly log: Logger;
  /** A message handed out more often than this goes to the poison queue. Default 5. */
  readonly maxDequeueCount?: number;
  /** Waits after an empty receive, doubling from min to max. Default 1 s to 4 s. */
  readonly idlePollMs?: { readonly min: number; readonly max: number };
  /** Consecutive failed receives before the source counts as down. Default 2. */
  readonly failuresBeforeDown?: number;
  readonly recentIds?: number;
  readonly timers?: Timers;
  readonly random?: () => number;
}

const retryCapMs = 30_000;

export class EventPump {
  private readonly options: EventPumpOptions;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly recent: RecentIds;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private health: 'starting' | 'up' | 'down' | undefined;

  constructor(options: EventPumpOptions) {
    this.options = options;
    this.timers = options.timers ?? systemTimers;
    this.random = options.random ?? Math.random;
    this.recent = new RecentIds(options.recentIds);
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('event pump stopped'));
    await this.running;
  }

  private async loop(): Promise<void> {
    const { log, metrics, source } = this.options;
    const idle = this.options.idlePollMs ?? { min: 1_000, max: 4_000 };
    const failuresBeforeDown = this.options.failuresBeforeDown ?? 2;
    const signal = this.stopping.signal;
    let failures = 0;
    let idleMs = idle.min;
    this.setHealth('starting');
    log.info({ source: source.kind, queue: source.description }, 'receiving Key Vault events');
    while (!signal.aborted) {
      let batch: readonly ReceivedMessage[];
      try {
        batch = await source.receive(signal);
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        metrics.receiveErrors.inc();
        if (failures >= failuresBeforeDown) this.setHealth('down', errorMessage(error));
        const delay = jittered(Math.min(1_000 * 2 ** (failures - 1), retryCapMs), 0.2, this.random);
        log.warn(
          { source: source.kind, failures, retryInMs: Math.round(delay), err: errorMessage(error) },
          'could not receive Key Vault events; sweeps run at full rate until it recovers',
        );
        await this.pause(delay, signal);
        continue;
      }
      failures = 0;
      this.setHealth('up');
      const now = this.timers.now();
      metrics.lastReceive.set(now / 1000);
      metrics.lag.set(oldestAgeSeconds(batch, now));
      for (const message of batch) {
        if (signal.aborted) break;
        try {
          await this.handle(message);
        } catch (error) {
          // Left in the queue: it comes back after its visibility timeout, up to the dequeue limit.
          log.error(
            { source: source.kind, messageId: message.messageId, err: errorMessage(error) },
            'could not handle an event message; it will be retried',
          );
        }
      }
      if (batch.length > 0) {
        idleMs = idle.min;
        continue;
      }
      await this.pause(idleMs, signal);
      idleMs = Math.min(idleMs * 2, idle.max);
    }
  }

  private async handle(message: ReceivedMessage): Promise<void> {
    const { log, metrics, source } = this.options;
    const maxDequeueCount = this.options.maxDequeueCount ?? 5;
    const about = { source: source.kind, messageId: message.messageId };
    const decoded = decodeMessage(message.text);
    if (message.dequeueCount > maxDequeueCount) {
      metrics.dropped.inc({ type: typeOf(decoded[0]), reason: 'dequeue-limit' });
      log.warn(
        { ...about, dequeueCount: message.dequeueCount },
        'message handed out too often; moving it to the poison queue',
      );
      await this.settle(message, 'deadLetter');
      return;
    }
    let malformed = false;
    for (const item of decoded) malformed = this.act(item, message, about) || malformed;
    await this.settle(message, malformed ? 'deadLetter' : 'complete');
  }

  /** Returns true when the item was malformed. */
  private act(item: Decoded, message: ReceivedMessage, about: Record<string, string>): boolean {
    const { log, metrics } = this.options;
    switch (item.outcome) {
      case 'malformed':
        metrics.received.inc({ type: 'malformed' });
        metrics.dropped.inc({ type: 'malformed', reason: 'malformed' });
        log.warn(
          { ...about, reason: item.reason },
          'malformed event message; moving it to the poison queue',
        );
        return true;
      case 'ignored':
        metrics.received.inc({ type: item.type });
        metrics.dropped.inc({ type: item.type, reason: 'unsupported' });
        log.debug({ ...about, eventId: item.id, type: item.type }, 'event kvsync does not act on');
        return false;
      case 'event': {
        const { event } = item;
        metrics.received.inc({ type: event.type });
        if (this.recent.has(event.id)) {
          metrics.dropped.inc({ type: event.type, reason: 'duplicate' });
          log.debug({ ...about, eventId: event.id }, 'duplicate event');
          return false;
        }
        this.options.route(event, message.insertedOn);
        this.recent.add(event.id);
        metrics.processed.inc({ type: event.type });
        log.debug(
          {
            ...about,
            eventId: event.id,
            type: event.type,
            vault: event.vaultHost,
            object: event.name,
          },
          'Key Vault event',
        );
        return false;
      }
    }
  }

  /**
   * A failure here leaves the message to come back after its visibility timeout, where the
   * event-id window or the dequeue limit deals with it. A poison queue that refuses it is logged
   * and the message completed: the sweep is the safety net for whatever it announced.
   */
  private async settle(message: ReceivedMessage, how: 'complete' | 'deadLetter'): Promise<void> {
    const { log, source } = this.options;
    const about = { source: source.kind, messageId: message.messageId };
    try {
      await source[how](message);
      return;
    } catch (error) {
      if (how === 'complete') {
        log.warn(
          { ...about, err: errorMessage(error) },
          'could not delete a handled message; it will be seen again',
        );
        return;
      }
      log.warn(
        { ...about, err: errorMessage(error) },
        'could not move a message to the poison queue; deleting it',
      );
    }
    try {
      await source.complete(message);
    } catch (error) {
      log.warn({ ...about, err: errorMessage(error) }, 'could not delete a poison message');
    }
  }

  private setHealth(health: 'starting' | 'up' | 'down', error?: string): void {
    if (this.health === health) return;
    this.health = health;
    const { log, metrics, source } = this.options;
    metrics.sourceUp.set(health === 'up' ? 1 : 0);
    if (health === 'up') log.info({ source: source.kind }, 'event source up');
    if (health === 'down') log.warn({ source: source.kind, err: error }, 'event source down');
    this.options.onHealth(health === 'up', error);
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(this.timers, ms, signal);
    } catch {
      // Stopped.
    }
  }
}

function typeOf(item: Decoded | undefined): EventTypeLabel {
  if (item?.outcome === 'event') return item.event.type;
  return item?.outcome === 'ignored' ? item.type : 'malformed';
}

function oldestAgeSeconds(batch: readonly ReceivedMessage[], now: number): number {
  let oldest = now;
  for (const message of batch) {
    const at = message.insertedOn?.getTime();
    if (at !== undefined && at < oldest) oldest = at;
  }
  return Math.max(0, (now - oldest) / 1000);
}
