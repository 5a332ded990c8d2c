// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: a candidate takes
// the lease when it is free or has not been renewed for a lease duration *as measured by the
// candidate's own clock since it last saw the lease change* (so clock skew between pods does not
// matter); the leader renews every retry period and gives up leading when it could not renew
// within the renew deadline, which is shorter than the lease duration, so it stops before anyone
// else may start. Releasing empties the holder so a standby takes over at once.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isConflict, microTime, type Lease, type LeaseClient } from './lease-client.ts';
import { sleep, systemTimers, type Timers } from './timers.ts';

export type StoppedLeadingReason = 'lost' | 'released';

export interface LeaderElectionOptions {
  leases: LeaseClient;
  /** Unique per process; see `leaderIdentity()`. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called once this candidate leads; `signal` aborts when it stops leading. */
  onStartedLeading?: (signal: AbortSignal) => void;
  onStoppedLeading?: (reason: StoppedLeadingReason) => void;
  /** Called whenever a different holder (or none: '') is observed. */
  onNewLeader?: (identity: string) => void;
  /** Failed lease reads and writes, for logs. */
  onError?: (error: unknown) => void;
  timers?: Timers;
  random?: () => number;
}

/** `<pod name>_<random>`: unique even when a restarted pod keeps its name. */
export function leaderIdentity(podName = process.env.POD_NAME || hostname()): string {
  return `${podName}_${randomBytes(4).toString('hex')}`;
}

// client-go waits retryPeriod × (1 + 1.2 × random) between attempts to acquire.
const JITTER_FACTOR = 1.2;

export class LeaderElector {
  readonly identity: string;
  readonly #leases: LeaseClient;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #hooks: Required<
    Pick<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader' | 'onError'>
  >;
  readonly #stop = new AbortController();
  #run: Promise<void> | undefined;
  #leading: AbortController | undefined;
  /** The lease as last read or written, and when (by our clock) it last changed. */
  #observed: { lease: Lease; record: string; at: number } | undefined;

  constructor(options: LeaderElectionOptions) {
    this.identity = options.identity;
    this.#leases = options.leases;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs)) {
      throw new RangeError('leaseDuration must be greater than renewDeadline');
    }
    if (!(this.#renewDeadlineMs > this.#retryPeriodMs * JITTER_FACTOR)) {
      throw new RangeError('renewDeadline must be greater than retryPeriod × 1.2');
    }
    if (!this.identity) throw new RangeError('identity must not be empty');
    this.#timers = options.timers ?? systemTimers;
    this.#random = options.random ?? Math.random;
    this.#hooks = {
      onStartedLeading: options.onStartedLeading ?? (() => {}),
      onStoppedLeading: options.onStoppedLeading ?? (() => {}),
      onNewLeader: options.onNewLeader ?? (() => {}),
      onError: options.onError ?? (() => {}),
    };
  }

  isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** The holder last observed; '' when the lease is free, undefined before the first read. */
  get leader(): string | undefined {
    return this.#observed?.lease.spec?.holderIdentity ?? (this.#observed ? '' : undefined);
  }

  /**
   * Campaigns until this candidate leads, then renews until leadership is lost or released.
   * Resolves when it no longer leads (or was released before it ever did).
   */
  run(): Promise<void> {
    this.#run ??= this.#campaign();
    return this.#run;
  }

  /** Stops campaigning or renewing and, if leading, frees the lease for a standby. */
  async release(): Promise<void> {
    this.#stop.abort(new Error('leader election released'));
    await this.#run;
  }

  async #campaign(): Promise<void> {
    const stop = this.#stop.signal;
    while (!(await this.#attempt(stop))) {
      const wait = this.#retryPeriodMs * (1 + JITTER_FACTOR * this.#random());
      if (!(await this.#pause(wait, stop))) return;
    }
    const leading = new AbortController();
    this.#leading = leading;
    this.#hooks.onStartedLeading(leading.signal);
    let reason: StoppedLeadingReason = 'released';
    while (await this.#pause(this.#retryPeriodMs, stop)) {
      if (!(await this.#renew(stop))) {
        if (!stop.aborted) reason = 'lost';
        break;
      }
    }
    this.#leading = undefined;
    leading.abort(new Error(`leadership ${reason}`));
    if (reason === 'released') await this.#writeRelease();
    this.#hooks.onStoppedLeading(reason);
  }

  /** Retries renewal until it succeeds, another holder appears, or the renew deadline passes. */
  async #renew(stop: AbortSignal): Promise<boolean> {
    const deadline = new AbortController();
    const onStop = (): void => deadline.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    const timer = this.#timers.setTimeout(
      () => deadline.abort(new Error('renew deadline exceeded')),
      this.#renewDeadlineMs,
    );
    try {
      for (;;) {
        if (await this.#attempt(deadline.signal)) return true;
        if (this.leader !== this.identity) return false; // taken over: stop leading at once
        if (!(await this.#pause(this.#retryPeriodMs, deadline.signal))) return false;
      }
    } finally {
      this.#timers.clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
  }

  /**
   * One tryAcquireOrRenew: true when this candidate holds the lease afterwards. It has half the
   * renew deadline (client-go's per-request timeout is alike): a request the API server holds
   * (etcd down) is given up and tried again, so one hung request does not use up the deadline
   * when etcd is back sooner.
   */
  async #attempt(signal: AbortSignal): Promise<boolean> {
    const timeoutMs = this.#renewDeadlineMs / 2;
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = this.#timers.setTimeout(
      () => attempt.abort(new Error(`Lease request took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      if (signal.aborted) return false;
      return await this.#tryAcquireOrRenew(attempt.signal);
    } catch (error) {
      if (signal.aborted || isConflict(error)) return false;
      this.#hooks.onError(attempt.signal.aborted ? attempt.signal.reason : error);
      return false;
    } finally {
      this.#timers.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.#timers.now();
    const durationSeconds = Math.ceil(this.#leaseDurationMs / 1000);
    const current = await this.#leases.get(signal);
    if (!current) {
      const created = await this.#leases.create(
        {
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
        signal,
      );
      this.#observe(created);
      return true;
    }
    this.#observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.identity && !this.#expired(spec)) return false;
    const renewing = holder === this.identity;
    const updated = await this.#leases.update(
      {
        ...current,
        spec: {
          ...spec,
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: renewing && spec.acquireTime ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: renewing
            ? (spec.leaseTransitions ?? 0)
            : (spec.leaseTransitions ?? 0) + 1,
        },
      },
      signal,
    );
    this.#observe(updated);
    return true;
  }

  /** Expired by our clock: no change seen for the holder's lease duration. */
  #expired(spec: { leaseDurationSeconds?: number }): boolean {
    const observedAt = this.#observed?.at ?? this.#timers.now();
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    return observedAt + durationMs <= this.#timers.now();
  }

  #observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const record = JSON.stringify([
      spec.holderIdentity ?? '',
      spec.leaseDurationSeconds,
      spec.acquireTime,
      spec.renewTime,
      spec.leaseTransitions,
    ]);
    const previousHolder = this.leader;
    if (this.#observed?.record !== record) {
      this.#observed = { lease, record, at: this.#timers.now() };
    } else {
      this.#observed = { ...this.#observed, lease };
    }
    const holder = spec.holderIdentity ?? '';
    if (holder !== previousHolder) this.#hooks.onNewLeader(holder);
  }

  /** Frees the lease if we still hold it (client-go: empty holder, 1 s duration). */
  async #writeRelease(): Promise<void> {
    const observed = this.#observed;
    if (!observed || observed.lease.spec?.holderIdentity !== this.identity) return;
    const deadline = new AbortController();
    const timer = this.#timers.setTimeout(() => deadline.abort(), this.#renewDeadlineMs);
    try {
      const now = microTime(this.#timers.now());
      const released = await this.#leases.update(
        {
          ...observed.lease,
          spec: {
            ...observed.lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
          },
        },
        deadline.signal,
      );
      this.#observe(released);
    } catch (error) {
      // Not fatal: the lease then expires after its duration and a standby takes it.
      this.#hooks.onError(error);
    } finally {
      this.#timers.clearTimeout(timer);
    }
  }

  /** Sleeps; false when `signal` aborted first. */
  async #pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.#timers, ms, signal);
      return true;
    } catch {
      return false;
    }
  }
}
