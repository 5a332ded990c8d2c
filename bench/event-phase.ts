// The events phase: kvsync restarted with `--event-queue-url` on an Azurite queue (HTTPS, OAuth
// tokens from the fake Entra ID for kvsync's own identity), then the same 1% rotation as the
// sweep-only phase, each new version announced on the queue the way Event Grid writes it. Sweeps
// run at full rate until the first one after start, then stretch to --event-sweep-interval
// (30 min by default); the rotation starts only after that, so what it measures is the event path.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeVault } from '../test/support/azure/index.ts';
import { startAzurite, STORAGE_RESOURCE } from '../test/support/azurite.ts';
import { waitFor } from '../test/support/kube.ts';
import { eventMessage } from '../test/support/key-vault-events.ts';
import { parseMetrics, sumSamples, type KvsyncProcess } from '../test/support/kvsync-process.ts';
import { rotate, type RotationResult } from './rotation.ts';
import type { Stack } from './stack.ts';
import { round, seconds } from './stats.ts';
import type { SweepTracker } from './sweeps.ts';
import { subtract, type VaultCalls } from './vault-calls.ts';
import type { NamespaceWatch } from './watch.ts';

const QUEUE = 'kv-events';

export interface EventPhaseInput {
  readonly stack: Stack;
  readonly name: string;
  readonly namespace: string;
  readonly n: number;
  readonly vault: FakeVault;
  readonly names: readonly string[];
  readonly intervalMs: number;
  readonly fraction: number;
  readonly entry: 'dist' | 'source';
  readonly kvsyncArgs: readonly string[];
  readonly kvsyncEnv: Readonly<Record<string, string>>;
  readonly watch: NamespaceWatch;
  readonly sweeps: SweepTracker;
  readonly calls: () => VaultCalls;
  readonly log: (line: string) => void;
}

export interface EventPhaseResult {
  /** The restart with events on: to /readyz leader, and to every VaultSecret synced again. */
  readonly restart: {
    readonly readyzMs: number;
    readonly allSyncedMs: number;
    readonly vault: VaultCalls;
  };
  readonly sweepStretchS: number;
  readonly rotation: RotationResult;
  /** kvsync's own view: events received and acted on, and its event -> Secret histogram. */
  readonly events: {
    readonly received: number;
    readonly processed: number;
    readonly dropped: number;
    readonly reconciles: number;
    readonly eventToSecretMeanMs: number;
  };
  readonly kvsyncExit: string;
}

export async function runEventPhase(input: EventPhaseInput): Promise<EventPhaseResult> {
  const { stack, n, log } = input;
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-bench-events-'));
  stack.azure.entra.addResource(STORAGE_RESOURCE);
  const azurite = await startAzurite({ tenantId: stack.azure.tenantId });
  let kvsync: KvsyncProcess | undefined;
  try {
    const queue = azurite.queue(QUEUE);
    await queue.create();
    await azurite.queue(`${QUEUE}-poison`).create();
    // kvsync trusts the doubles' CA and Azurite's, as a pod trusts a corporate CA bundle.
    const caBundle = path.join(dir, 'ca-bundle.pem');
    const pems = await Promise.all([stack.azure.caFile, azurite.caFile].map((f) => readFile(f)));
    await writeFile(caBundle, Buffer.concat(pems));

    log('restarting kvsync with events from the queue');
    const before = { vault: input.calls(), sweeps: input.sweeps.completed };
    const started = performance.now();
    const events = await stack.startKvsync({
      name: input.name,
      namespaces: [input.namespace],
      entry: input.entry,
      args: [...input.kvsyncArgs, `--event-queue-url=${azurite.queueUrl(QUEUE)}`],
      env: { ...input.kvsyncEnv, NODE_EXTRA_CA_CERTS: caBundle },
    });
    kvsync = events;
    await events.waitForReadyz(/leader/);
    const readyzMs = performance.now() - started;
    await waitFor(
      async () => (await events.metric('kvsync_vaultsecret_ready')) === n || undefined,
      {
        description: `kvsync to have synced all ${n} VaultSecrets again`,
        timeoutMs: Math.max(120_000, n * 100),
        intervalMs: 200,
      },
    );
    const allSyncedMs = performance.now() - started;
    const restartVault = subtract(input.calls(), before.vault);
    log(`all ${n} synced ${seconds(allSyncedMs)} after the restart; waiting for sweeps to stretch`);
    // The first sweep after a start runs at full rate; after it, sweeps stretch while events flow.
    const sweepStretchS = await waitFor(
      async () => {
        if (input.sweeps.completed <= before.sweeps) return undefined;
        const { samples } = parseMetrics(await events.scrape());
        const up = sumSamples(samples, 'kvsync_event_source_up') === 1;
        return (up && sumSamples(samples, 'kvsync_sweep_stretch_seconds')) || undefined;
      },
      {
        description: 'a sweep after the restart, with the event source up',
        timeoutMs: input.intervalMs * 2 + 60_000,
        intervalMs: 200,
      },
    );
    const eventsBefore = await eventCounters(events);

    const rotation = await rotate({
      vault: input.vault,
      names: input.names,
      n,
      fraction: input.fraction,
      intervalMs: input.intervalMs,
      // Other secrets than the sweep-only phase rotated.
      shift: 0.5,
      watch: input.watch,
      sweeps: input.sweeps,
      kvsync: events,
      calls: input.calls,
      announce: async (name, version) => {
        await queue.sendMessage(eventMessage({ vaultUrl: input.vault.url, name, version }));
      },
      log,
    });
    const eventsAfter = await eventCounters(events);
    const delta = (key: keyof EventCounters) => eventsAfter[key] - eventsBefore[key];
    const observed = delta('secondsCount');
    const result = {
      restart: {
        readyzMs: Math.round(readyzMs),
        allSyncedMs: Math.round(allSyncedMs),
        vault: restartVault,
      },
      sweepStretchS,
      rotation,
      events: {
        received: delta('received'),
        processed: delta('processed'),
        dropped: delta('dropped'),
        reconciles: delta('reconciles'),
        eventToSecretMeanMs: observed > 0 ? round((delta('secondsSum') / observed) * 1000, 0) : NaN,
      },
    };
    const exit = await events.stop();
    kvsync = undefined;
    return { ...result, kvsyncExit: exit.signal ?? `exit code ${exit.code}` };
  } finally {
    await kvsync?.close();
    await azurite.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface EventCounters {
  readonly received: number;
  readonly processed: number;
  readonly dropped: number;
  readonly reconciles: number;
  readonly secondsSum: number;
  readonly secondsCount: number;
}

async function eventCounters(kvsync: KvsyncProcess): Promise<EventCounters> {
  const { samples } = parseMetrics(await kvsync.scrape());
  const sum = (name: string) => sumSamples(samples, name);
  return {
    received: sum('kvsync_events_received_total'),
    processed: sum('kvsync_events_processed_total'),
    dropped: sum('kvsync_events_dropped_total'),
    reconciles: sum('kvsync_event_reconciles_total'),
    secondsSum: sum('kvsync_event_to_secret_seconds_sum'),
    secondsCount: sum('kvsync_event_to_secret_seconds_count'),
  };
}
