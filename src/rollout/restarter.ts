// Restarts the workloads a VaultSecret names when its synced data really changed, without the
// storms other tools cause (VSO #582, #644): per workload, a restart waits a short settle window
// after the first change and at least the minimum interval after the previous restart, and then
// stamps the data of the latest change. Several rotations in a row -> one restart. The stamp is a
// keyed hash of the data, so stamping the same data twice changes nothing. A restart that is owed
// is marked on the VaultSecret's Secret until every target has been dealt with, so a leader that
// dies inside the settle window leaves the restart to the next one (resume).
import type { Logger } from 'pino';
import type { RolloutTarget, VaultSecret } from '../api/vault-secret.ts';
import { apiVersion, kind as vaultSecretKind } from '../api/vault-secret.ts';
import type { DataChange } from '../controllers/vault-secret/reconciler.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { DigestedSecret } from '../kube/secret-digest.ts';
import { dataDigest } from '../kube/secret-digest.ts';
import { errorMessage } from '../observability/logger.ts';
import type { TimerHandle, Timers } from '../runtime/timers.ts';
import { systemTimers } from '../runtime/timers.ts';
import type { RolloutMetrics } from './metrics.ts';
import { RESTART_PENDING_ANNOTATION, restartStamp } from './restart-stamp.ts';
import type { WorkloadClient } from './workloads.ts';

export interface RestarterOptions {
  readonly workloads: WorkloadClient;
  /** The per-installation HMAC key. */
  readonly stampKey: () => Promise<Buffer>;
  /** Between two restarts of one workload. */
  readonly minIntervalMs: number;
  /** After the first change, wait this long for more before restarting. */
  readonly settleMs: number;
  readonly metrics: RolloutMetrics;
  readonly log: Logger;
  readonly events?: EventRecorder;
  /** Where an owed restart is recorded; without it a restart pending at a crash is lost. */
  readonly marker?: PendingMarker;
  readonly timers?: Timers;
}

/** Records "restarts owed" on the VaultSecret's Secret (an annotation; no pod ever sees it). */
export interface PendingMarker {
  set(vaultSecret: VaultSecret, signal?: AbortSignal): Promise<void>;
  clear(vaultSecret: VaultSecret, signal?: AbortSignal): Promise<void>;
}

/** A VaultSecret whose Secret carries the marker, and the workloads still owed a restart. */
interface Owed {
  readonly vaultSecret: VaultSecret;
  readonly targets: Set<string>;
}

interface Request {
  readonly vaultSecret: VaultSecret;
  readonly target: RolloutTarget;
  readonly digest: string;
}

interface TargetState {
  pending: Request | undefined;
  /** VaultSecrets whose changes the pending request covers. */
  covers: Set<string>;
  timer: TimerHandle;
  armed: boolean;
  inflight: boolean;
  lastRestartAt: number | undefined;
  failures: number;
}

const retryCapMs = 5 * 60_000;

export class RolloutRestarter {
  private readonly options: RestarterOptions;
  private readonly timers: Timers;
  private readonly targets = new Map<string, TargetState>();
  private readonly owed = new Map<string, Owed>();
  /** Marker writes per VaultSecret, one after another so a clear never overtakes a later set. */
  private readonly marks = new Map<string, Promise<void>>();
  /** Aborts every Kubernetes request in flight when leadership is lost. */
  private readonly aborted = new AbortController();
  private stopped = false;

  constructor(options: RestarterOptions) {
    this.options = options;
    this.timers = options.timers ?? systemTimers;
  }

  /** The reconciler's onDataChanged. */
  dataChanged(vaultSecret: VaultSecret, change: DataChange): void {
    const targets = vaultSecret.spec.rolloutRestart?.targets ?? [];
    if (targets.length === 0 || this.stopped) return;
    if (change.firstSync || change.driftRepair) {
      const reason = change.firstSync ? 'first-sync' : 'drift-repair';
      for (const target of targets) this.options.metrics.skipped.inc({ kind: target.kind, reason });
      return;
    }
    this.owe(vaultSecret, dataDigest(change.data), targets);
  }

  /**
   * After a sync: a Secret still marked with restarts owed that this process knows nothing about
   * was left by a previous leader (or a crash); owe them again, for the data it holds now.
   */
  resume(vaultSecret: VaultSecret, secret: DigestedSecret | undefined): void {
    if (this.stopped || !secret?.metadata?.annotations?.[RESTART_PENDING_ANNOTATION]) return;
    if (this.owed.has(vaultSecretKey(vaultSecret))) return;
    const targets = vaultSecret.spec.rolloutRestart?.targets ?? [];
    this.options.log.info(
      { vaultsecret: vaultSecretKey(vaultSecret), targets: targets.length },
      'resuming workload restarts owed since an earlier change',
    );
    this.owe(vaultSecret, secret.dataDigest, targets);
  }

  private owe(vaultSecret: VaultSecret, digest: string, targets: readonly RolloutTarget[]): void {
    const key = vaultSecretKey(vaultSecret);
    let owed = this.owed.get(key);
    if (!owed) {
      owed = { vaultSecret, targets: new Set() };
      this.owed.set(key, owed);
      this.mark(vaultSecret, 'set');
    }
    for (const target of targets)
      owed.targets.add(targetKey(vaultSecret.metadata.namespace, target));
    if (targets.length === 0) this.settle(key, owed);
    for (const target of targets) this.request({ vaultSecret, target, digest });
  }

  /** A target restarted (or found nothing to do) for these VaultSecrets' changes. */
  private done(target: string, covers: ReadonlySet<string>, stillCovered: ReadonlySet<string>) {
    for (const key of covers) {
      const owed = this.owed.get(key);
      if (!owed || stillCovered.has(key)) continue;
      owed.targets.delete(target);
      this.settle(key, owed);
    }
  }

  private settle(key: string, owed: Owed): void {
    if (owed.targets.size > 0) return;
    this.owed.delete(key);
    this.mark(owed.vaultSecret, 'clear');
  }

  private mark(vaultSecret: VaultSecret, how: 'set' | 'clear'): void {
    const { marker, log } = this.options;
    if (!marker) return;
    const key = vaultSecretKey(vaultSecret);
    const write = async (): Promise<void> => {
      try {
        await marker[how](vaultSecret, this.aborted.signal);
      } catch (error) {
        log.warn(
          { vaultsecret: key, err: errorMessage(error) },
          how === 'set'
            ? 'could not record the restarts owed; a leader change before they happen loses them'
            : 'could not clear the restarts-owed mark; the next leader will check the workloads again',
        );
      }
    };
    const next = (this.marks.get(key) ?? Promise.resolve()).then(write);
    this.marks.set(key, next);
    void next.then(() => {
      if (this.marks.get(key) === next) this.marks.delete(key);
    });
  }

  /** Resolves when every marker write started so far has finished (for tests and shutdown). */
  async markersWritten(): Promise<void> {
    await Promise.all(this.marks.values());
  }

  /** Workloads waiting for a restart or being restarted. */
  get pendingCount(): number {
    let count = 0;
    for (const state of this.targets.values()) if (state.pending || state.inflight) count += 1;
    return count;
  }

  stop(): void {
    this.stopped = true;
    for (const state of this.targets.values()) {
      if (state.armed) this.timers.clearTimeout(state.timer);
      state.armed = false;
      state.pending = undefined;
    }
    this.updatePending();
  }

  /** Leadership is lost: stop, and abort the workload, marker and Event writes in flight. */
  abort(reason: Error): void {
    this.stop();
    this.aborted.abort(reason);
  }

  private request(request: Request): void {
    this.forgetIdle();
    const key = targetKey(request.vaultSecret.metadata.namespace, request.target);
    let state = this.targets.get(key);
    if (!state) {
      state = {
        pending: undefined,
        covers: new Set(),
        timer: undefined,
        armed: false,
        inflight: false,
        lastRestartAt: undefined,
        failures: 0,
      };
      this.targets.set(key, state);
    }
    state.pending = request;
    state.covers.add(vaultSecretKey(request.vaultSecret));
    this.updatePending();
    if (!state.armed && !state.inflight) this.arm(key, state, this.dueAt(state));
  }

  private dueAt(state: TargetState): number {
    const now = this.timers.now();
    const spaced =
      state.lastRestartAt === undefined ? now : state.lastRestartAt + this.options.minIntervalMs;
    return Math.max(now + this.options.settleMs, spaced);
  }

  private arm(key: string, state: TargetState, dueAt: number): void {
    state.armed = true;
    state.timer = this.timers.setTimeout(
      () => {
        state.armed = false;
        void this.fire(key, state);
      },
      Math.max(0, dueAt - this.timers.now()),
    );
  }

  private async fire(key: string, state: TargetState): Promise<void> {
    const request = state.pending;
    if (!request || this.stopped) return;
    state.pending = undefined;
    const covers = state.covers;
    state.covers = new Set();
    state.inflight = true;
    try {
      await this.restart(request, state);
      state.failures = 0;
      this.done(key, covers, state.covers);
    } catch (error) {
      for (const covered of covers) state.covers.add(covered);
      state.failures += 1;
      this.options.metrics.failures.inc({ kind: request.target.kind });
      const retryMs = Math.min(5_000 * 2 ** (state.failures - 1), retryCapMs);
      this.options.log.warn(
        {
          vaultsecret: vaultSecretKey(request.vaultSecret),
          workload: key,
          retryInMs: retryMs,
          err: errorMessage(error),
        },
        'could not restart a workload; retrying',
      );
      // A newer change waiting meanwhile supersedes this one.
      state.pending ??= request;
      state.inflight = false;
      this.updatePending();
      if (!this.stopped) this.arm(key, state, this.timers.now() + retryMs);
      return;
    }
    state.inflight = false;
    this.updatePending();
    if (state.pending && !this.stopped) this.arm(key, state, this.dueAt(state));
  }

  /** Workloads with nothing pending whose minimum interval has passed need no state. */
  private forgetIdle(): void {
    const now = this.timers.now();
    for (const [key, state] of this.targets) {
      if (state.pending || state.inflight || state.armed) continue;
      if (
        state.lastRestartAt === undefined ||
        now - state.lastRestartAt >= this.options.minIntervalMs
      ) {
        this.targets.delete(key);
      }
    }
  }

  private async restart(request: Request, state: TargetState): Promise<void> {
    const { metrics, log, workloads } = this.options;
    const { vaultSecret, target } = request;
    const namespace = vaultSecret.metadata.namespace;
    const about = {
      vaultsecret: vaultSecretKey(vaultSecret),
      kind: target.kind,
      workload: target.name,
    };
    const skip = (
      reason: 'paused' | 'not-found' | 'unchanged' | 'unsupported',
      message: string,
    ): void => {
      metrics.skipped.inc({ kind: target.kind, reason });
      log.info({ ...about, reason }, message);
    };

    const { signal } = this.aborted;
    const workload = await workloads.read(namespace, target, signal);
    if (!workload) {
      skip('not-found', 'workload to restart not found');
      this.emit(
        vaultSecret,
        'Warning',
        'RolloutTargetNotFound',
        `${target.kind} ${target.name} not found; not restarted`,
      );
      return;
    }
    if (workload.unsupported !== undefined) {
      skip('unsupported', `cannot restart: ${workload.unsupported}`);
      return;
    }
    if (workload.paused) {
      skip('paused', 'workload paused; not restarted');
      this.emit(
        vaultSecret,
        'Normal',
        'RolloutSkipped',
        `${target.kind} ${target.name} is paused; not restarted`,
      );
      return;
    }
    const stamp = restartStamp(
      await this.options.stampKey(),
      vaultSecretKey(vaultSecret),
      request.digest,
    );
    if (workload.stamp === stamp) {
      skip('unchanged', 'workload already runs this data');
      return;
    }
    await workloads.stamp(namespace, target, stamp, signal);
    state.lastRestartAt = this.timers.now();
    metrics.restarts.inc({ kind: target.kind });
    log.info(about, 'restarted workload: synced data changed');
    this.emit(
      vaultSecret,
      'Normal',
      'RolloutRestarted',
      `${target.kind} ${target.name} restarted: synced data changed`,
    );
  }

  private emit(
    vaultSecret: VaultSecret,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    this.options.events?.emit(
      { apiVersion, kind: vaultSecretKind, metadata: vaultSecret.metadata },
      type,
      reason,
      message,
      this.aborted.signal,
    );
  }

  private updatePending(): void {
    this.options.metrics.pending.set(this.pendingCount);
  }
}

function targetKey(namespace: string, target: RolloutTarget): string {
  return `${namespace}/${target.kind}/${target.name}`;
}

function vaultSecretKey(vaultSecret: VaultSecret): string {
  return `${vaultSecret.metadata.namespace}/${vaultSecret.metadata.name}`;
}
