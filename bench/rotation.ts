// A rotation phase: `fraction` of the vault's secrets (at least 2) get a new version, spaced
// through the vault so no VaultSecret sees two, at even times over one refresh interval. With
// sweeps only a rotation waits for the next sweep, so the latency spreads over the interval as it
// would in real life; with events each new version is announced on the queue as Event Grid would.
import type { FakeVault } from '../test/support/azure/index.ts';
import { waitFor } from '../test/support/kube.ts';
import type { KvsyncProcess } from '../test/support/kvsync-process.ts';
import { newValue, vaultSecretName } from './population.ts';
import { difference, readCounters, type KvsyncCounters } from './sampler.ts';
import { percentile, seconds } from './stats.ts';
import type { SweepTracker } from './sweeps.ts';
import { subtract, type VaultCalls } from './vault-calls.ts';
import type { NamespaceWatch } from './watch.ts';

export interface RotationInput {
  readonly vault: FakeVault;
  readonly names: readonly string[];
  readonly n: number;
  readonly fraction: number;
  readonly intervalMs: number;
  /**
   * Where in the gap between two rotated secrets to start (0 <= shift < 1), so two phases can
   * rotate different secrets: 0 starts at the first secret, 0.5 halfway to the second.
   */
  readonly shift: number;
  readonly watch: NamespaceWatch;
  readonly sweeps: SweepTracker;
  readonly kvsync: KvsyncProcess;
  readonly calls: () => VaultCalls;
  /** Called right after each new version is written (the events phase puts it on the queue). */
  readonly announce?: (name: string, version: string) => Promise<void>;
  readonly log: (line: string) => void;
}

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface RotationResult {
  readonly rotated: number;
  readonly secretsChanged: number;
  readonly unexpectedChanges: number;
  /** From the vault write to the Secret's change, as a watch on the API server saw it. */
  readonly latencyMs: Percentiles;
  /** From the end of the last sweep before the change to the change. */
  readonly afterSweepMs: Percentiles;
  readonly sweeps: number;
  readonly vault: VaultCalls;
  readonly kvsync: KvsyncCounters;
}

export async function rotate(input: RotationInput): Promise<RotationResult> {
  const { vault, names, n, watch, sweeps, kvsync, log } = input;
  const count = Math.max(2, Math.round(n * input.fraction));
  const stride = Math.floor(n / count);
  const offset = Math.floor(stride * input.shift);
  const rotated = Array.from({ length: count }, (_, k) => (k * stride + offset) % n);
  // Secret j is read by VaultSecrets j (key a) and j-1 (key b).
  const expected = new Map<string, number>();
  const setAt = new Map<number, number>();
  for (const j of rotated) {
    expected.set(vaultSecretName(j, n), j);
    expected.set(vaultSecretName((j - 1 + n) % n, n), j);
  }
  log(`rotating ${count} secrets over ${seconds(input.intervalMs)}`);
  const before = {
    vault: input.calls(),
    kvsync: await readCounters(kvsync),
    sweeps: sweeps.completed,
  };
  watch.markSecrets();
  const spacing = input.intervalMs / count;
  const started = performance.now();
  for (const [k, j] of rotated.entries()) {
    const due = started + k * spacing - performance.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    const { version } = vault.setSecret(names[j]!, newValue());
    setAt.set(j, performance.now());
    await input.announce?.(names[j]!, version);
  }
  await waitFor(
    () => [...expected.keys()].every((name) => watch.changedAt.has(name)) || undefined,
    {
      description: `the ${expected.size} Secrets of ${count} rotated secrets to change`,
      timeoutMs: input.intervalMs * 3 + 60_000,
      intervalMs: 50,
    },
  );
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
  const result: RotationResult = {
    rotated: count,
    secretsChanged: expected.size,
    unexpectedChanges: unexpected,
    latencyMs: summary(latencies),
    afterSweepMs: summary(afterSweep),
    sweeps: sweeps.completed - before.sweeps,
    vault: subtract(input.calls(), before.vault),
    kvsync: difference(before.kvsync, await readCounters(kvsync)),
  };
  log(
    `rotation: ${result.secretsChanged} Secrets followed; vault set -> Secret changed p50 ${seconds(result.latencyMs.p50)}, p95 ${seconds(result.latencyMs.p95)}`,
  );
  return result;
}

function summary(values: readonly number[]): Percentiles {
  return {
    p50: Math.round(percentile(values, 50) ?? NaN),
    p95: Math.round(percentile(values, 95) ?? NaN),
    max: Math.round(values.length > 0 ? Math.max(...values) : NaN),
  };
}
