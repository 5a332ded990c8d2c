// A burst of events for one VaultSecret (several versions, a certificate and its backing secret,
// redeliveries) becomes one enqueue: the first event opens a short window and the key is enqueued
// when it closes. The window does not extend, so latency stays bounded under a steady stream.
import type { TimerHandle, Timers } from '../runtime/timers.ts';
import { systemTimers } from '../runtime/timers.ts';

export class Debouncer {
  private readonly delayMs: number;
  private readonly fire: (key: string) => void;
  private readonly timers: Timers;
  private readonly pending = new Map<string, TimerHandle>();

  constructor(options: { delayMs: number; fire: (key: string) => void; timers?: Timers }) {
    this.delayMs = options.delayMs;
    this.fire = options.fire;
    this.timers = options.timers ?? systemTimers;
  }

  add(key: string): void {
    if (this.pending.has(key)) return;
    const handle = this.timers.setTimeout(() => {
      this.pending.delete(key);
      this.fire(key);
    }, this.delayMs);
    this.pending.set(key, handle);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Drops pending keys without firing them. */
  stop(): void {
    for (const handle of this.pending.values()) this.timers.clearTimeout(handle);
    this.pending.clear();
  }
}
