// Fan-out: one ClusterVaultSecret with two objects into many namespaces, kvsync watching the whole
// cluster with its own identity allowed only in its namespace (the ClusterVaultSecret's trust lets
// the copies use it). Measures the time from the ClusterVaultSecret's creation until its status
// counts every namespace synced, Key Vault calls for that cold start, and for one steady sweep
// cycle — against External Secrets' pattern of one read per object per namespace per refresh.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseDuration } from '../src/api/vault-secret.ts';
import {
  applyClusterVaultSecret,
  getClusterVaultSecret,
} from '../test/support/cluster-vault-secrets.ts';
import { createTestNamespace, deleteTestNamespace, waitFor } from '../test/support/kube.ts';
import { esoPattern } from './eso-model.ts';
import type { BenchOptions } from './options.ts';
import { difference, readCounters, type KvsyncCounters } from './sampler.ts';
import type { Stack } from './stack.ts';
import { seconds } from './stats.ts';
import { trackSweeps } from './sweeps.ts';
import { subtract, vaultCalls, type VaultCalls } from './vault-calls.ts';

export const FAN_OUT_OBJECTS = 2;

export interface FanOutOptions extends Pick<
  BenchOptions,
  'refreshInterval' | 'latencyMs' | 'createConcurrency' | 'entry' | 'kvsyncArgs'
> {
  readonly namespaces: number;
  readonly kvsyncEnv: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
}

export interface FanOutResult {
  readonly namespaces: number;
  readonly objects: number;
  readonly refreshInterval: string;
  readonly createNamespacesMs: number;
  /** ClusterVaultSecret created → its status counts every namespace synced. */
  readonly allSyncedMs: number;
  readonly coldVault: VaultCalls;
  readonly coldKvsync: KvsyncCounters;
  readonly steadyCycle: { readonly vault: VaultCalls; readonly kvsync: KvsyncCounters };
}

export async function runFanOut(stack: Stack, options: FanOutOptions): Promise<FanOutResult> {
  const { log, namespaces: n } = options;
  const run = randomBytes(3).toString('hex');
  const vaultName = `fanout-${run}`;
  const vault = stack.azure.keyVault.createVault(vaultName);
  const seededAt = performance.now();
  vault.setSecret('registry-pull', `fan-out-pull-${run}`);
  vault.setSecret('shared-ca', `fan-out-ca-${run}`);
  vault.grant(stack.operatorClientId, { readOnly: true });
  vault.faults.setLatency(options.latencyMs);

  const home = await createTestNamespace(stack.kc, 'fanout-kvsync');
  log(`creating ${n} namespaces labelled fanout=${run}`);
  const names = Array.from({ length: n }, (_, i) => `fanout-${run}-${i}`);
  const createStart = performance.now();
  await inBatches(names, options.createConcurrency, (name) =>
    stack.kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name, labels: { fanout: run } } } })
      .then(() => undefined),
  );
  const createNamespacesMs = performance.now() - createStart;
  // Values read within 5 s of their update are confirmed once more on the next sweep; a real
  // vault was written long before, so the bench lets that window pass first (as scenario.ts).
  const settle = 6_000 - (performance.now() - seededAt);
  if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));

  const calls = vaultCalls(stack, vaultName);
  const sweeps = trackSweeps(stack.azure.keyVault, vaultName, 1);
  const kvsync = await stack.startKvsync({
    name: `fanout-${n}`,
    namespaces: [],
    leaseNamespace: home,
    entry: options.entry,
    args: [`--default-identity-namespaces=${home}`, ...options.kvsyncArgs],
    env: options.kvsyncEnv,
  });
  try {
    await kvsync.waitForReadyz(/leader/);
    const before = { vault: calls(), kvsync: await readCounters(kvsync) };
    const name = `fanout-${run}`;
    const started = performance.now();
    await applyClusterVaultSecret(stack.kc, name, {
      namespaceSelector: { matchLabels: { fanout: run } },
      template: {
        vault: { url: stack.azure.vaultUrl(vaultName) },
        refreshInterval: options.refreshInterval,
        data: [
          { key: '.dockerconfigjson', secret: { name: 'registry-pull' } },
          { key: 'ca.crt', secret: { name: 'shared-ca' } },
        ],
      },
    });
    await waitFor(
      async () => {
        const status = (await getClusterVaultSecret(stack.kc, name)).status;
        return status?.syncedNamespaces === n || undefined;
      },
      {
        description: `all ${n} namespaces synced`,
        timeoutMs: Math.max(180_000, n * 200),
        intervalMs: 100,
      },
    );
    const allSyncedMs = performance.now() - started;
    const cold = { vault: subtract(calls(), before.vault), kvsync: await readCounters(kvsync) };
    log(
      `all ${n} namespaces synced ${seconds(allSyncedMs)} after the ClusterVaultSecret; Key Vault calls ${cold.vault.total}`,
    );

    const intervalMs = parseDuration(options.refreshInterval);
    const sweepEnd = (after: number) =>
      waitFor(() => sweeps.completed > after || undefined, {
        description: 'a sweep',
        timeoutMs: intervalMs * 2 + 60_000,
        intervalMs: 20,
      });
    await sweepEnd(sweeps.completed);
    const cycleStart = { vault: calls(), kvsync: await readCounters(kvsync) };
    await sweepEnd(sweeps.completed);
    const steadyCycle = {
      vault: subtract(calls(), cycleStart.vault),
      kvsync: difference(cycleStart.kvsync, await readCounters(kvsync)),
    };
    log(`steady cycle: Key Vault calls ${steadyCycle.vault.total}`);
    return {
      namespaces: n,
      objects: FAN_OUT_OBJECTS,
      refreshInterval: options.refreshInterval,
      createNamespacesMs: Math.round(createNamespacesMs),
      allSyncedMs: Math.round(allSyncedMs),
      coldVault: cold.vault,
      coldKvsync: difference(before.kvsync, cold.kvsync),
      steadyCycle,
    };
  } finally {
    sweeps.stop();
    await kvsync.stop();
    if (!stack.ownsControlPlane) {
      await Promise.all([home, ...names].map((ns) => deleteTestNamespace(stack.kc, ns)));
    }
  }
}

export function fanOutTable(result: FanOutResult): string {
  const eso = esoPattern(result.namespaces, result.objects);
  const header = [
    'Fan-out',
    'Namespaces',
    'ClusterVaultSecret → all synced',
    'Key Vault requests, cold start',
    'Key Vault requests per steady cycle',
    'Kubernetes writes per steady cycle',
  ];
  const count = (value: number) => value.toLocaleString('en-US');
  const rows = [
    [
      `kvsync (measured, ${result.objects} objects, refresh ${result.refreshInterval})`,
      count(result.namespaces),
      seconds(result.allSyncedMs),
      `${count(result.coldVault.total)} (${count(result.coldVault.get)} get, ${count(result.coldVault.list)} list)`,
      `${count(result.steadyCycle.vault.total)} (${count(result.steadyCycle.vault.list)} list, ${count(result.steadyCycle.vault.get)} get)`,
      count(result.steadyCycle.kvsync.kubeWrites),
    ],
    [
      'ESO ClusterExternalSecret call pattern (model, not a run)',
      count(result.namespaces),
      `≥ ${seconds((eso.vaultCallsColdStart / 400) * 1000)} at Key Vault's limit`,
      count(eso.vaultCallsColdStart),
      count(eso.vaultCallsPerCycle),
      '—',
    ],
  ];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
