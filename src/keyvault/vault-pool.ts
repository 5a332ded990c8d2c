// One mirror per (vault, identity), shared by every VaultSecret that reads that vault with that
// identity, and the timers that sweep each mirror as often as its most demanding user asks.
import type { TimerHandle, Timers } from '../runtime/timers.ts';
import { MAX_TIMER_MS, systemTimers } from '../runtime/timers.ts';
import { VaultError } from './errors.ts';
import type { VaultIdentity, VaultReader } from './types.ts';
import { ValueCache } from './value-cache.ts';
import type { Interest, SweepResult } from './vault-mirror.ts';
import { VaultMirror } from './vault-mirror.ts';

export interface VaultPoolOptions {
  readerFor(vaultUrl: string, identity: VaultIdentity): VaultReader;
  /** Called with VaultSecret keys that must be reconciled because their objects changed. */
  enqueue(vaultSecretKey: string): void;
  onSweep?(mirrorKey: string, result: SweepResult | Error): void;
  cache?: ValueCache;
  timers?: Timers;
  random?: () => number;
}

interface Entry {
  readonly mirror: VaultMirror;
  /** `host[:port]` of the vault, as events name it. */
  readonly vaultHost: string;
  timer: TimerHandle;
  dueAt: number;
  failures: number;
  /** When the last sweep that ended under a stretch started; the stretch runs from there. */
  stretchedFrom: number | undefined;
  /**
   * This mirror's spread of its interval (1-1.1: never more often than users asked), drawn once
   * so re-scheduling cannot shrink it.
   */
  readonly spread: number;
}

const sweepRetryCapMs = 5 * 60_000;
const failuresBeforeStale = 2;

export class VaultPool {
  private readonly options: VaultPoolOptions;
  private readonly cache: ValueCache;
  private readonly clock: Timers;
  private readonly random: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly mirrorOf = new Map<string, string>();
  private stopped = false;
  private stretchMs: number | undefined;

  constructor(options: VaultPoolOptions) {
    this.options = options;
    this.cache = options.cache ?? new ValueCache();
    this.clock = options.timers ?? systemTimers;
    this.random = options.random ?? Math.random;
  }

  /** The mirror for this vault and identity, created on first use. */
  mirror(vaultUrl: string, identity: VaultIdentity): VaultMirror {
    const key = `${identity.key}|${vaultUrl}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const reader = this.options.readerFor(vaultUrl, identity);
      const mirror = new VaultMirror({
        key,
        reader,
        cache: this.cache,
        now: () => this.clock.now(),
      });
      const vaultHost = new URL(vaultUrl).host;
      entry = {
        mirror,
        vaultHost,
        timer: undefined,
        dueAt: Infinity,
        failures: 0,
        stretchedFrom: undefined,
        // Spread sweeps by up to 10% so many vaults (or restarts) do not sweep in lockstep.
        spread: 1 + 0.1 * this.random(),
      };
      this.entries.set(key, entry);
    }
    return entry.mirror;
  }

  /** Records what a VaultSecret reads from a mirror, dropping its interest anywhere else. */
  register(vaultSecretKey: string, mirror: VaultMirror, interest: Interest): void {
    const previous = this.mirrorOf.get(vaultSecretKey);
    if (previous !== undefined && previous !== mirror.key) this.release(vaultSecretKey);
    mirror.register(vaultSecretKey, interest);
    this.mirrorOf.set(vaultSecretKey, mirror.key);
    const entry = this.entries.get(mirror.key);
    if (entry) this.schedule(entry);
  }

  /** The VaultSecret is gone or reads nothing any more. */
  release(vaultSecretKey: string): void {
    const key = this.mirrorOf.get(vaultSecretKey);
    this.mirrorOf.delete(vaultSecretKey);
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry) return;
    entry.mirror.unregister(vaultSecretKey);
    if (entry.mirror.userCount === 0) {
      this.cancel(entry);
      this.entries.delete(entry.mirror.key);
    } else {
      this.schedule(entry);
    }
  }

  /**
   * force-sync of one VaultSecret: reads `names` from Key Vault now, past the sweep and the value
   * cache (through the vault's budget like every call); every other VaultSecret that reads a name
   * whose version changed is enqueued, so it gets the new version too.
   */
  async reread(vaultSecretKey: string, mirror: VaultMirror, names: ReadonlySet<string>) {
    for (const key of await mirror.reread(names)) {
      if (key !== vaultSecretKey) this.options.enqueue(key);
    }
  }

  /**
   * An event announced a new version of `name` in the vault at `vaultHost` (`host[:port]`): every
   * identity's mirror of that vault reads it again. Returns how many mirrors were told.
   */
  invalidate(vaultHost: string, name: string): number {
    let told = 0;
    for (const entry of this.entries.values()) {
      if (entry.vaultHost !== vaultHost.toLowerCase()) continue;
      entry.mirror.invalidate(name);
      told += 1;
    }
    return told;
  }

  /**
   * While events announce rotations, sweeps after the next one come at most every `ms` (never
   * more often than users asked). The sweep already due still runs at full rate, so a sweep
   * follows every start and every return to full rate. `undefined`: full rate again, at once.
   */
  setSweepStretch(ms: number | undefined): void {
    const unstretched = this.stretchMs !== undefined && ms === undefined;
    this.stretchMs = ms;
    if (!unstretched) return;
    for (const entry of this.entries.values()) {
      entry.stretchedFrom = undefined;
      if (entry.timer !== undefined) this.schedule(entry);
    }
  }

  get sweepStretchMs(): number | undefined {
    return this.stretchMs;
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) this.cancel(entry);
  }

  get mirrorCount(): number {
    return this.entries.size;
  }

  /** Estimated bytes of the shared value cache. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** Milliseconds until the mirror's next sweep, when one is scheduled (not while one runs). */
  nextSweepInMs(mirrorKey: string): number | undefined {
    const dueAt = this.entries.get(mirrorKey)?.dueAt;
    if (dueAt === undefined || !Number.isFinite(dueAt)) return undefined;
    return Math.max(0, dueAt - this.clock.now());
  }

  /**
   * Arms the next sweep: after a sweep (`sweptFrom`: when it started, so long sweeps do not
   * stretch the cycle), or earlier when a user now asks for a shorter interval. A registration
   * (every reconcile) must not undo a stretch, so under one the interval still counts from the
   * sweep it followed.
   */
  private schedule(entry: Entry, afterSweep = false, sweptFrom = this.clock.now()): void {
    const wanted = entry.mirror.sweepIntervalMs();
    if (wanted === undefined || this.stopped) {
      this.cancel(entry);
      return;
    }
    if (afterSweep) entry.stretchedFrom = this.stretchMs === undefined ? undefined : sweptFrom;
    const from = entry.stretchedFrom;
    const dueAt =
      from !== undefined && this.stretchMs !== undefined
        ? from + Math.max(wanted, this.stretchMs) * entry.spread
        : sweptFrom + wanted * entry.spread;
    // After a sweep this is the schedule (a registration during the sweep may have armed an
    // earlier one; `wanted` already counts its user). Otherwise only ever move a sweep earlier.
    if (!afterSweep && entry.timer !== undefined && entry.dueAt <= dueAt) return;
    this.arm(entry, dueAt);
  }

  private arm(entry: Entry, dueAt: number): void {
    this.cancel(entry);
    entry.dueAt = dueAt;
    entry.timer = this.clock.setTimeout(
      () => void this.sweep(entry),
      Math.min(Math.max(0, dueAt - this.clock.now()), MAX_TIMER_MS),
    );
  }

  private cancel(entry: Entry): void {
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.dueAt = Infinity;
  }

  private async sweep(entry: Entry): Promise<void> {
    entry.timer = undefined;
    entry.dueAt = Infinity;
    const startedAt = this.clock.now();
    try {
      const result = await entry.mirror.sweep();
      entry.failures = 0;
      this.options.onSweep?.(entry.mirror.key, result);
      // Back to healthy: every user's status must say so again, not only the changed ones'.
      const affected = entry.mirror.recordSweep(undefined)
        ? entry.mirror.userKeys
        : result.affected;
      for (const key of affected) this.options.enqueue(key);
      if (this.entries.get(entry.mirror.key) === entry) this.schedule(entry, true, startedAt);
    } catch (error) {
      entry.failures += 1;
      this.options.onSweep?.(entry.mirror.key, error as Error);
      const failure =
        error instanceof VaultError
          ? error
          : new VaultError('Transient', String(error), { cause: error });
      // One failed sweep may be a blip that its retry fixes; only a second one in a row is news.
      if (entry.failures >= failuresBeforeStale && entry.mirror.recordSweep(failure)) {
        for (const key of entry.mirror.userKeys) this.options.enqueue(key);
      }
      if (this.stopped || this.entries.get(entry.mirror.key) !== entry) return;
      const interval = entry.mirror.sweepIntervalMs() ?? sweepRetryCapMs;
      const backoff = Math.min(interval, sweepRetryCapMs, 5_000 * 2 ** (entry.failures - 1));
      this.arm(entry, this.clock.now() + backoff * (0.5 + 0.5 * this.random()));
    }
  }
}
