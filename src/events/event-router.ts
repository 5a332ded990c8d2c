// What an event does: find the VaultSecrets it concerns, make the vault mirrors forget the
// announced object (the cache would otherwise serve the version it knows), and enqueue those
// VaultSecrets after a short debounce. Reconcile then reads the latest version, whatever order
// events came in. Also times event -> Secret for the latency histogram.
import type { Timers } from '../runtime/timers.ts';
import { systemTimers } from '../runtime/timers.ts';
import { Debouncer } from './debouncer.ts';
import type { KeyVaultEvent } from './key-vault-event.ts';
import type { EventMetrics } from './metrics.ts';
import type { VaultSecretIndex } from './vault-secret-index.ts';

export interface EventRouterOptions {
  readonly index: VaultSecretIndex;
  /** Forget the known version of `name` in every mirror of the vault. */
  readonly invalidate: (vaultHost: string, name: string) => void;
  readonly enqueue: (vaultSecretKey: string) => void;
  readonly debounceMs: number;
  readonly metrics: EventMetrics;
  readonly timers?: Timers;
}

interface Pending {
  /** When the earliest unsynced event was published (ms). */
  readonly since: number;
  /** Whether the debounce has fired: a sync finishing after this has seen the event. */
  enqueued: boolean;
}

export class EventRouter {
  private readonly options: EventRouterOptions;
  private readonly timers: Timers;
  private readonly debouncer: Debouncer;
  private readonly pending = new Map<string, Pending>();

  constructor(options: EventRouterOptions) {
    this.options = options;
    this.timers = options.timers ?? systemTimers;
    this.debouncer = new Debouncer({
      delayMs: options.debounceMs,
      timers: this.timers,
      fire: (key) => {
        const pending = this.pending.get(key);
        if (pending) pending.enqueued = true;
        options.metrics.enqueued.inc();
        options.enqueue(key);
      },
    });
  }

  /** Returns the keys of the VaultSecrets the event concerns. */
  route(event: KeyVaultEvent, insertedOn: Date | undefined): string[] {
    const keys = this.options.index.match(event);
    if (keys.length === 0) return keys;
    if (event.change === 'NewVersion') {
      this.options.invalidate(event.vaultHost, event.name);
      const now = this.timers.now();
      // Key Vault's clock may run ahead of ours; never report a negative latency.
      const since = Math.min(event.time?.getTime() ?? insertedOn?.getTime() ?? now, now);
      for (const key of keys) {
        const pending = this.pending.get(key);
        if (!pending || since < pending.since) {
          this.pending.set(key, { since, enqueued: pending?.enqueued ?? false });
        }
      }
    }
    for (const key of keys) this.debouncer.add(key);
    return keys;
  }

  /** The VaultSecret's Secret now holds new data. */
  dataChanged(key: string): void {
    const pending = this.pending.get(key);
    if (!pending?.enqueued) return;
    this.pending.delete(key);
    this.options.metrics.eventToSecret.observe((this.timers.now() - pending.since) / 1000);
  }

  /** A sync finished; if it ran after the event's enqueue and changed nothing, stop timing. */
  synced(key: string): void {
    if (this.pending.get(key)?.enqueued) this.pending.delete(key);
  }

  forget(key: string): void {
    this.pending.delete(key);
  }

  stop(): void {
    this.debouncer.stop();
    this.pending.clear();
  }
}
