// One replica's life: with leader election it campaigns for the Lease and runs the manager only
// while it leads; without, it runs the manager at once. A replica that loses the Lease aborts every
// in-flight Kubernetes write and Azure call at once and asks to exit non-zero (as
// controller-runtime does), so nothing is written after another replica took over and its pod
// restarts with clean caches and queues. `shutdown()` is the SIGTERM path: stop taking work, let
// in-flight reconciles finish up to the shutdown timeout (then abort them), then release the Lease
// so a standby takes over at once.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Manager, ManagerOptions } from './manager.ts';
import { startManager as startRealManager } from './manager.ts';
import { errorMessage } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import type { Probe } from './observability/servers.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import type { LeaseClient } from './runtime/lease-client.ts';
import { kubeLeaseClient } from './runtime/lease-client.ts';

export interface LeaderElectionSettings {
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** Unique per process; see `leaderIdentity()`. */
  readonly identity: string;
}

export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
  readonly manager: ManagerOptions;
  /** Absent: no leader election, this replica reconciles. */
  readonly leaderElection?: LeaderElectionSettings;
  readonly shutdownTimeoutMs: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** For tests. */
  readonly startManager?: (options: ManagerOptions) => Manager;
  readonly leases?: LeaseClient;
}

/** Why the operator ended by itself; a SIGTERM shutdown is not one of these. */
export type OperatorFailure = 'lost-lease' | 'manager-failed';

export interface Operator {
  /** 200 when this replica leads with synced caches, or is a standby that can read the Lease. */
  readiness(): Probe;
  /** Resolves if the operator can no longer run and the process should exit non-zero. */
  readonly failed: Promise<OperatorFailure>;
  /** Stop taking work, finish in-flight reconciles within the timeout, release the Lease. */
  shutdown(): Promise<void>;
}

export function runOperator(options: OperatorOptions): Operator {
  const { log, metrics } = options;
  const start = options.startManager ?? startRealManager;
  let manager: Manager | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  let fail: (failure: OperatorFailure) => void = () => {};
  const failed = new Promise<OperatorFailure>((resolve) => (fail = resolve));

  const runManager = (): void => {
    manager = start(options.manager);
    manager.started.then(
      () => {
        started = true;
        log.info('caches synced; workers running');
      },
      (error: unknown) => {
        log.error({ err: errorMessage(error) }, 'manager failed to start');
        fail('manager-failed');
      },
    );
  };

  const settings = options.leaderElection;
  let elector: LeaderElector | undefined;
  if (!settings) {
    metrics.leader.set(1);
    runManager();
  } else {
    metrics.leader.set(0);
    const leases =
      options.leases ??
      kubeLeaseClient(options.kubeConfig, {
        namespace: settings.leaseNamespace,
        name: settings.leaseName,
      });
    const lease = `${settings.leaseNamespace}/${settings.leaseName}`;
    elector = new LeaderElector({
      leases,
      identity: settings.identity,
      leaseDurationMs: settings.leaseDurationMs,
      renewDeadlineMs: settings.renewDeadlineMs,
      retryPeriodMs: settings.retryPeriodMs,
      onStartedLeading: () => {
        if (stopping) return;
        log.info({ lease, identity: settings.identity }, 'leading; starting the manager');
        metrics.leader.set(1);
        runManager();
      },
      onStoppedLeading: (reason) => {
        metrics.leader.set(0);
        if (reason === 'released') return;
        // Also during a SIGTERM shutdown: its in-flight reconciles must not write either.
        log.error(
          { lease },
          'lost the Lease; aborting all work and exiting so the pod restarts clean',
        );
        manager?.abort(new Error('lost the Lease'));
        stopping ??= Promise.resolve();
        fail('lost-lease');
      },
      onNewLeader: (holder) => {
        if (holder !== settings.identity)
          log.info({ lease, leader: holder || null }, 'leader observed');
      },
      onError: (error) =>
        log.warn({ lease, err: errorMessage(error) }, 'Lease read or write failed'),
    });
    log.info({ lease, identity: settings.identity }, 'campaigning for the Lease');
    void elector.run();
  }

  async function gracefulStop(): Promise<void> {
    log.info(
      { timeoutMs: options.shutdownTimeoutMs },
      'shutting down: finishing in-flight reconciles',
    );
    // The elector keeps renewing meanwhile, so no one else starts while our writes are in flight.
    if (manager) {
      try {
        await manager.stop(options.shutdownTimeoutMs);
      } catch (error) {
        log.warn({ err: errorMessage(error) }, 'stopping the manager failed');
      }
      log.info('manager stopped');
    }
    if (elector) {
      const leading = elector.isLeader();
      await elector.release();
      if (leading) log.info('Lease released');
    }
    metrics.leader.set(0);
  }

  return {
    failed,
    readiness() {
      if (stopping) return { ok: false, detail: 'shutting down' };
      if (!elector) {
        return started
          ? { ok: true, detail: 'caches synced (leader election disabled)' }
          : { ok: false, detail: 'caches not synced yet (leader election disabled)' };
      }
      if (elector.isLeader()) {
        return started
          ? { ok: true, detail: 'leader, caches synced' }
          : { ok: false, detail: 'leader, caches not synced yet' };
      }
      const holder = elector.leader;
      if (holder === undefined) return { ok: false, detail: 'standby, Lease not read yet' };
      return { ok: true, detail: `standby (leader: ${holder || 'none'})` };
    },
    shutdown() {
      stopping ??= gracefulStop();
      return stopping;
    },
  };
}
