// One benchmark run: N VaultSecrets with two references each over a vault of N secrets (secret i
// is read by VaultSecrets i and i-1, so each is referenced twice), against the fake Key Vault with
// latency and Key Vault's throttle. Phases: create, cold start, one steady-state sweep cycle,
// rotation of 1% of the secrets spread over one refresh interval.
import { randomBytes } from 'node:crypto';
import type { VaultSecretSpec } from '../src/api/vault-secret.ts';
import { parseDuration } from '../src/api/vault-secret.ts';
import type { FakeVault } from '../test/support/azure/index.ts';
import { createTestNamespace, deleteTestNamespace, waitFor } from '../test/support/kube.ts';
import type { KvsyncProcess } from '../test/support/kvsync-process.ts';
import { createVaultSecrets } from './create.ts';
import {
  difference,
  readCounters,
  sampleMemory,
  zeroCounters,
  type KvsyncCounters,
  type MemoryPeaks,
} from './sampler.ts';
import type { Stack } from './stack.ts';
import { percentile, round } from './stats.ts';
import { trackSweeps, type SweepTracker } from './sweeps.ts';
import { watchNamespace, type NamespaceWatch } from './watch.ts';

export interface ScenarioOptions {
  readonly n: number;
  /** How this run differs from kvsync's defaults (flags, preloaded experiments); '' for none. */
  readonly variant: string;
  readonly refreshInterval: string;
  readonly latencyMs: number;
  readonly throttle: { readonly limit: number; readonly windowMs: number };
  readonly createConcurrency: number;
  readonly rotateFraction: number;
  readonly entry: 'dist' | 'source';
  readonly kvsyncArgs: readonly string[];
  readonly kvsyncEnv: Readonly<Record<string, string>>;
  readonly memorySampleMs: number;
  /** Called with kvsync right before it is stopped (e.g. to take a heap snapshot). */
  readonly beforeStop?: (kvsync: KvsyncProcess) => Promise<void>;
  readonly log: (line: string) => void;
}

export interface VaultCalls {
  /** Authenticated requests (what Key Vault bills and throttles). */
  readonly total: number;
  readonly get: number;
  readonly list: number;
  readonly throttled: number;
  /** Token-less first requests answered with the authentication challenge. */
  readonly challenges: number;
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
    readonly kvsync: KvsyncCounters;
    readonly sweepsDuring: number;
  };
  readonly steadyCycle: {
    readonly ms: number;
    readonly sweepMs: number;
    readonly vault: VaultCalls;
    readonly entraTokenRequests: number;
    readonly kvsync: KvsyncCounters;
  };
  readonly rotation: {
    readonly rotated: number;
    readonly secretsChanged: number;
    readonly unexpectedChanges: number;
    readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
    readonly afterSweepMs: { readonly p50: number; readonly p95: number; readonly max: number };
    readonly vault: VaultCalls;
    readonly kvsync: KvsyncCounters;
  };
  readonly memory: MemoryPeaks;
  /** Every sweep seen, in seconds since kvsync was started. */
  readonly sweeps: readonly { readonly startS: number; readonly endS: number | null }[];
  readonly reconcileErrors: number;
  readonly kvsyncExit: string;
}

const REFERENCES = 2;

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
    const pages = Math.ceil(n / 25);
    const beforeStart = { vault: calls(), entra: entra() };
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
      watch,
      sweeps: tracker,
      kvsync,
      calls,
      log,
    });

    const peaks = await memory.stop();
    await options.beforeStop?.(kvsync);
    const final = await readCounters(kvsync);
    const exit = await kvsync.stop();
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
        entraTokenRequests: entra() - beforeStart.entra,
        kvsync: difference(zeroCounters(started), coldCounters),
        sweepsDuring,
      },
      steadyCycle: {
        ms: Math.round(second.endAt! - first.endAt!),
        sweepMs: Math.round(second.endAt! - second.startAt),
        vault: steadyVault,
        entraTokenRequests: cycleEnd.entra - cycleStart.entra,
        kvsync: steadyKvsync,
      },
      rotation,
      memory: peaks,
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

interface RotationInput {
  vault: FakeVault;
  names: readonly string[];
  n: number;
  fraction: number;
  intervalMs: number;
  watch: NamespaceWatch;
  sweeps: SweepTracker;
  kvsync: KvsyncProcess;
  calls: () => VaultCalls;
  log: (line: string) => void;
}

/**
 * Rotates `fraction` of the secrets (at least 2), spaced through the vault so no VaultSecret sees
 * two rotations, at even times over one refresh interval: with sweeps only, a rotation waits for
 * the next sweep, so the latency is spread over the interval as it would be in real life.
 */
async function rotate(input: RotationInput): Promise<ScenarioResult['rotation']> {
  const { vault, names, n, watch, sweeps, kvsync, log } = input;
  const count = Math.max(2, Math.round(n * input.fraction));
  const stride = Math.floor(n / count);
  const rotated = Array.from({ length: count }, (_, j) => j * stride);
  // Secret j is read by VaultSecrets j (key a) and j-1 (key b).
  const expected = new Map<string, number>();
  const setAt = new Map<number, number>();
  for (const j of rotated) {
    expected.set(vaultSecretName(j, n), j);
    expected.set(vaultSecretName((j - 1 + n) % n, n), j);
  }
  log(`rotating ${count} secrets over ${seconds(input.intervalMs)}`);
  const before = { vault: input.calls(), kvsync: await readCounters(kvsync) };
  watch.markSecrets();
  const spacing = input.intervalMs / count;
  const started = performance.now();
  for (const [k, j] of rotated.entries()) {
    const due = started + k * spacing - performance.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    vault.setSecret(names[j]!, newValue());
    setAt.set(j, performance.now());
  }
  await waitFor(
    () => [...expected.keys()].every((name) => watch.changedAt.has(name)) || undefined,
    {
      description: `the ${expected.size} Secrets of ${count} rotated secrets to change`,
      timeoutMs: input.intervalMs * 3 + 60_000,
      intervalMs: 50,
    },
  );
  // The sweep that reported the change ended last before the Secret changed.
  const latencies: number[] = [];
  const afterSweep: number[] = [];
  for (const [name, j] of expected) {
    const changed = watch.changedAt.get(name)!;
    latencies.push(changed - setAt.get(j)!);
    const sweepEnd = sweeps.sweeps
      .map((s) => s.endAt)
      .filter((end): end is number => end !== undefined && end <= changed)
      .at(-1);
    if (sweepEnd !== undefined) afterSweep.push(changed - sweepEnd);
  }
  // Let the reconciles that follow settle before counting what the rotation cost.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const unexpected = [...watch.changedAt.keys()].filter((name) => !expected.has(name)).length;
  const summary = (values: number[]) => ({
    p50: Math.round(percentile(values, 50) ?? NaN),
    p95: Math.round(percentile(values, 95) ?? NaN),
    max: Math.round(Math.max(...values)),
  });
  const result = {
    rotated: count,
    secretsChanged: expected.size,
    unexpectedChanges: unexpected,
    latencyMs: summary(latencies),
    afterSweepMs: summary(afterSweep),
    vault: subtract(input.calls(), before.vault),
    kvsync: difference(before.kvsync, await readCounters(kvsync)),
  };
  log(
    `rotation: ${result.secretsChanged} Secrets followed; vault set -> Secret changed p50 ${seconds(result.latencyMs.p50)}, p95 ${seconds(result.latencyMs.p95)}`,
  );
  return result;
}

function seedVault(vault: FakeVault, n: number): string[] {
  const names = Array.from({ length: n }, (_, i) => `s-${pad(i, n)}`);
  for (const name of names) vault.setSecret(name, newValue());
  return names;
}

function specFor(url: string, refreshInterval: string, a: string, b: string): VaultSecretSpec {
  return {
    vault: { url },
    refreshInterval,
    data: [
      { key: 'a', secret: { name: a } },
      { key: 'b', secret: { name: b } },
    ],
  };
}

function vaultSecretName(i: number, n: number): string {
  return `vs-${pad(i, n)}`;
}

function pad(i: number, n: number): string {
  return String(i).padStart(String(n - 1).length, '0');
}

/** Random, never printed: the benchmark only needs values to differ. */
function newValue(): string {
  return randomBytes(24).toString('base64url');
}

function vaultCalls(stack: Stack, vaultName: string): () => VaultCalls {
  const counters = stack.azure.keyVault.counters;
  return () => ({
    total: counters.calls({ vault: vaultName }),
    get: counters.calls({ vault: vaultName, operation: 'getSecret' }),
    list: counters.calls({ vault: vaultName, operation: 'listSecrets' }),
    throttled: counters.calls({ vault: vaultName, status: 429 }),
    challenges: counters.challenges({ vault: vaultName }),
  });
}

function subtract(a: VaultCalls, b: VaultCalls): VaultCalls {
  return {
    total: a.total - b.total,
    get: a.get - b.get,
    list: a.list - b.list,
    throttled: a.throttled - b.throttled,
    challenges: a.challenges - b.challenges,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
