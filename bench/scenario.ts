// One benchmark run: N VaultSecrets with two references each over a vault of N secrets
// (population.ts), against the fake Key Vault with latency and Key Vault's throttle. Phases:
// create, cold start, one steady-state sweep cycle, rotation of 1% of the secrets spread over one
// refresh interval with sweeps only (rotation.ts), then the same with Key Vault events from a
// Storage Queue (event-phase.ts).
import { randomBytes } from 'node:crypto';
import { parseDuration } from '../src/api/vault-secret.ts';
import { createTestNamespace, deleteTestNamespace, waitFor } from '../test/support/kube.ts';
import type { KvsyncProcess } from '../test/support/kvsync-process.ts';
import { createVaultSecrets } from './create.ts';
import type { BenchOptions } from './options.ts';
import { runEventPhase, type EventPhaseResult } from './event-phase.ts';
import { runHostilePhase, type HostilePhaseResult } from './hostile-phase.ts';
import { REFERENCES, seedVault, specFor, vaultSecretName } from './population.ts';
import { rotate, type RotationResult } from './rotation.ts';
import {
  difference,
  readCounters,
  sampleMemory,
  zeroCounters,
  type KvsyncCounters,
  type MemoryPeaks,
} from './sampler.ts';
import type { Stack } from './stack.ts';
import { round, seconds } from './stats.ts';
import { trackSweeps, type SweepTracker } from './sweeps.ts';
import { subtract, vaultCalls, type VaultCalls } from './vault-calls.ts';
import { watchNamespace, type NamespaceWatch } from './watch.ts';

export interface ScenarioOptions extends Pick<
  BenchOptions,
  | 'refreshInterval'
  | 'latencyMs'
  | 'throttle'
  | 'createConcurrency'
  | 'rotateFraction'
  | 'entry'
  | 'kvsyncArgs'
  | 'memorySampleMs'
  | 'events'
> {
  readonly n: number;
  /** How this run differs from kvsync's defaults (flags, preloaded experiments); '' for none. */
  readonly variant: string;
  readonly kvsyncEnv: Readonly<Record<string, string>>;
  /** Called with kvsync right before it is stopped (e.g. to take a heap snapshot). */
  readonly beforeStop?: (kvsync: KvsyncProcess) => Promise<void>;
  readonly log: (line: string) => void;
}

export interface ScenarioResult {
  readonly n: number;
  readonly variant: string;
  readonly references: number;
  readonly refreshInterval: string;
  readonly latencyMs: number;
  readonly throttle: { readonly limit: number; readonly windowMs: number };
  readonly create: { readonly ms: number; readonly perSecond: number; readonly retries: number };
  readonly coldStart: {
    readonly readyzMs: number;
    readonly firstReadyMs: number;
    readonly allReadyMs: number;
    readonly vault: VaultCalls;
    readonly entraTokenRequests: number;
    /** CONNECT tunnels through the proxy (Key Vault and Entra ID): TCP connections kvsync opened. */
    readonly proxyTunnels: number;
    readonly kvsync: KvsyncCounters;
    readonly sweepsDuring: number;
    /** From start until the first sweep after all were Ready: late echoes of the cold start too. */
    readonly writes: ColdStartWrites;
  };
  readonly steadyCycle: {
    readonly ms: number;
    readonly sweepMs: number;
    readonly vault: VaultCalls;
    readonly entraTokenRequests: number;
    readonly kvsync: KvsyncCounters;
  };
  /** Rotation with sweeps only (kvsync's default, no event source). */
  readonly rotation: RotationResult;
  /** Rotation with Key Vault events from a Storage Queue; absent with --no-events. */
  readonly events?: EventPhaseResult;
  /** Two hostile certificates read while /healthz is probed (issue 16 §1). */
  readonly hostile: HostilePhaseResult;
  /** kvsync_value_cache_bytes at the end of the sweeps-only phases. */
  readonly valueCacheBytes: number;
  readonly memory: MemoryPeaks;
  /** The peaks before the hostile-certificate phase started the certificate worker. */
  readonly memoryBeforeCertificates: MemoryPeaks;
  /** Every sweep seen, in seconds since kvsync was started. */
  readonly sweeps: readonly { readonly startS: number; readonly endS: number | null }[];
  readonly reconcileErrors: number;
  readonly kvsyncExit: string;
}

export interface ColdStartWrites {
  /** Each VaultSecret once: kvsync's own writes echoing back reconcile nothing. */
  readonly reconciles: number;
  readonly statusApplies: number;
  /** Of those, the Reconciling=True progress statuses of first syncs that took over 2 s. */
  readonly progressStatuses: number;
  readonly events: number;
  readonly secretWrites: number;
}

export async function runScenario(stack: Stack, options: ScenarioOptions): Promise<ScenarioResult> {
  const { n, log } = options;
  const intervalMs = parseDuration(options.refreshInterval);
  const namespace = await createTestNamespace(stack.kc, `bench-${n}`);
  const vaultName = `bench${n}-${randomBytes(3).toString('hex')}`;
  const vault = stack.azure.keyVault.createVault(vaultName);
  let watch: NamespaceWatch | undefined;
  let sweeps: SweepTracker | undefined;
  try {
    const seededAt = performance.now();
    const names = seedVault(vault, n);
    vault.grant(stack.operatorClientId, { readOnly: true });
    vault.faults.setLatency(options.latencyMs);
    vault.faults.throttle(options.throttle);

    log(`creating ${n} VaultSecrets in ${namespace} (${options.createConcurrency} in flight)`);
    const url = stack.azure.vaultUrl(vaultName);
    const items = names.map((_, i) => ({
      name: vaultSecretName(i, n),
      spec: specFor(url, options.refreshInterval, names[i]!, names[(i + 1) % n]!),
    }));
    const created = await createVaultSecrets(stack.kc, namespace, items, options.createConcurrency);
    log(`created ${n} in ${seconds(created.ms)} (${Math.round((n * 1000) / created.ms)}/s)`);
    watch = await watchNamespace(stack.kc, namespace);

    // Key Vault's `updated` has one-second resolution, so kvsync confirms a value it read within
    // 5 s of the update with one more GET on the next sweep. Real vaults were written long before;
    // letting that window pass keeps the confirmations out of the steady-state numbers.
    const settle = 6_000 - (performance.now() - seededAt);
    if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));

    const calls = vaultCalls(stack, vaultName);
    const entra = () => stack.azure.entra.tokenRequests(stack.operatorClientId);
    // A sweep lists pages of 25; Key Vault (and the double) link on from a full last page to an
    // empty one, so n secrets take floor(n / 25) + 1 list calls.
    const pages = Math.floor(n / 25) + 1;
    const tunnels = () => stack.azure.proxyStats.tunnelled;
    const beforeStart = { vault: calls(), entra: entra(), tunnels: tunnels() };
    log('starting kvsync');
    const started = performance.now();
    sweeps = trackSweeps(stack.azure.keyVault, vaultName, pages);
    const kvsync = await stack.startKvsync({
      name: `bench-${n}`,
      namespaces: [namespace],
      entry: options.entry,
      args: options.kvsyncArgs,
      env: options.kvsyncEnv,
    });
    const memory = sampleMemory(kvsync, options.memorySampleMs);
    await kvsync.waitForReadyz(/leader/);
    const readyzMs = performance.now() - started;

    const readyWatch = watch;
    const progress = setInterval(
      () =>
        log(`  ${readyWatch.readyCount}/${n} Ready after ${seconds(performance.now() - started)}`),
      10_000,
    );
    try {
      await waitFor(() => readyWatch.readyCount === n || undefined, {
        description: `all ${n} VaultSecrets Ready`,
        timeoutMs: Math.max(120_000, n * 100),
        intervalMs: 50,
      });
    } finally {
      clearInterval(progress);
    }
    const allReadyAt = performance.now();
    const firstReadyAt = Math.min(...watch.firstReadyAt.values());
    const coldVault = subtract(calls(), beforeStart.vault);
    const coldEntra = entra() - beforeStart.entra;
    const coldTunnels = tunnels() - beforeStart.tunnels;
    const coldCounters = await readCounters(kvsync);
    await memory.sample();
    const sweepsDuring = sweeps.completed;
    log(
      `all ${n} Ready ${seconds(allReadyAt - started)} after start; Key Vault calls ${coldVault.total}`,
    );

    log(`measuring one steady-state sweep cycle (refreshInterval ${options.refreshInterval})`);
    const tracker = sweeps;
    const sweepEnd = async (after: number, what: string) => {
      await waitFor(() => tracker.completed > after || undefined, {
        description: what,
        timeoutMs: intervalMs * 2 + 60_000,
        intervalMs: 20,
      });
      return tracker.sweeps[after]!;
    };
    const first = await sweepEnd(tracker.completed, 'a sweep after all were Ready');
    const cycleStart = { vault: calls(), entra: entra(), kvsync: await readCounters(kvsync) };
    const coldProgress = watch.progressCount;
    const second = await sweepEnd(tracker.completed, 'the next sweep');
    const cycleEnd = { vault: calls(), entra: entra(), kvsync: await readCounters(kvsync) };
    const steadyVault = subtract(cycleEnd.vault, cycleStart.vault);
    const steadyKvsync = difference(cycleStart.kvsync, cycleEnd.kvsync);
    log(
      `steady cycle: Key Vault calls ${steadyVault.total} (list ${steadyVault.list}, get ${steadyVault.get}), Kubernetes writes ${steadyKvsync.kubeWrites}`,
    );

    const rotation = await rotate({
      vault,
      names,
      n,
      fraction: options.rotateFraction,
      intervalMs,
      shift: 0,
      watch,
      sweeps: tracker,
      kvsync,
      calls,
      log,
    });

    await memory.sample();
    const memoryBeforeCertificates = memory.peaks();
    log('hostile certificates: reading them while probing /healthz');
    const hostile = await runHostilePhase({ kc: stack.kc, namespace, vault, url, kvsync });
    log(
      `hostile certificates: ${hostile.reasons.join(', ')} after ${seconds(hostile.reportedMs)}; event loop max delay ${hostile.maxLoopDelayMs} ms (${hostile.baseline.maxLoopDelayMs} ms before), slowest /healthz ${hostile.slowestProbeMs} ms (${hostile.baseline.slowestProbeMs} ms before)`,
    );

    const peaks = await memory.stop();
    await options.beforeStop?.(kvsync);
    const final = await readCounters(kvsync);
    const exit = await kvsync.stop();
    const events = options.events
      ? await runEventPhase({
          stack,
          name: `bench-${n}-events`,
          namespace,
          n,
          vault,
          names,
          intervalMs,
          fraction: options.rotateFraction,
          entry: options.entry,
          kvsyncArgs: options.kvsyncArgs,
          kvsyncEnv: options.kvsyncEnv,
          watch,
          sweeps: tracker,
          calls,
          log,
        })
      : undefined;
    return {
      n,
      variant: options.variant,
      references: REFERENCES,
      refreshInterval: options.refreshInterval,
      latencyMs: options.latencyMs,
      throttle: options.throttle,
      create: {
        ms: Math.round(created.ms),
        perSecond: round((n * 1000) / created.ms),
        retries: created.retries,
      },
      coldStart: {
        readyzMs: Math.round(readyzMs),
        firstReadyMs: Math.round(firstReadyAt - started),
        allReadyMs: Math.round(allReadyAt - started),
        vault: coldVault,
        entraTokenRequests: coldEntra,
        proxyTunnels: coldTunnels,
        kvsync: difference(zeroCounters(started), coldCounters),
        sweepsDuring,
        writes: coldStartWrites(cycleStart.kvsync, coldProgress),
      },
      steadyCycle: {
        ms: Math.round(second.endAt! - first.endAt!),
        sweepMs: Math.round(second.endAt! - second.startAt),
        vault: steadyVault,
        entraTokenRequests: cycleEnd.entra - cycleStart.entra,
        kvsync: steadyKvsync,
      },
      rotation,
      ...(events ? { events } : {}),
      hostile,
      valueCacheBytes: final.valueCacheBytes,
      memory: peaks,
      memoryBeforeCertificates,
      sweeps: tracker.sweeps.map((sweep) => ({
        startS: round((sweep.startAt - started) / 1000),
        endS: sweep.endAt === undefined ? null : round((sweep.endAt - started) / 1000),
      })),
      reconcileErrors: final.reconcileErrors,
      kvsyncExit: exit.signal ?? `exit code ${exit.code}`,
    };
  } finally {
    sweeps?.stop();
    await watch?.stop();
    // With our own control plane everything goes with it; a shared one keeps running.
    if (!stack.ownsControlPlane) await deleteTestNamespace(stack.kc, namespace);
  }
}

function coldStartWrites(counters: KvsyncCounters, progressStatuses: number): ColdStartWrites {
  const by = counters.kubeWritesBy;
  return {
    reconciles: counters.reconciles,
    statusApplies: by['vaultsecrets/status apply'] ?? 0,
    progressStatuses,
    events: by['events create'] ?? 0,
    secretWrites: (by['secrets create'] ?? 0) + (by['secrets update'] ?? 0),
  };
}
