// `npm run bench`: kvsync against the real control plane and the fake Key Vault with latency and
// Key Vault's throttle, for N = 1,000 and 10,000 VaultSecrets (see scenario.ts for the phases).
// Progress goes to stderr; the Markdown table to stdout; everything measured to
// bench/results/<run>.json. Exit code 0 only when every run completed.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '../test/support/kube.ts';
import type { KvsyncProcess } from '../test/support/kvsync-process.ts';
import { parseBenchArgs, usage, type BenchOptions } from './options.ts';
import { fanOutTable, runFanOut, type FanOutResult } from './fan-out.ts';
import { describeMachine, markdownTable, notes } from './report.ts';
import { runScenario, type ScenarioResult } from './scenario.ts';
import { startStack } from './stack.ts';

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

async function main(): Promise<number> {
  const options = parseBenchArgs(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const startedAt = new Date();
  const runName = `${options.quick ? 'quick' : 'bench'}-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const results: ScenarioResult[] = [];
  const profiles: string[] = [];
  for (const n of options.sizes) {
    // A fresh control plane per size, so the larger run does not inherit the smaller one's objects.
    log(`N = ${n}: starting the stack`);
    const stack = await startStack({
      kubeconfigPath: options.kubeconfigPath,
      log: (line) => log(`  ${line}`),
    });
    try {
      const profileDir = options.profile ? path.join(outDir, `${runName}-profile-${n}`) : undefined;
      if (profileDir) await mkdir(profileDir, { recursive: true });
      const result = await runScenario(stack, {
        n,
        variant: [
          ...options.kvsyncArgs,
          ...options.kvsyncNodeOptions,
          ...options.kvsyncImports.map((file) => `+${path.basename(file, '.ts')}`),
        ].join(' '),
        refreshInterval: options.refreshInterval,
        latencyMs: options.latencyMs,
        throttle: options.throttle,
        createConcurrency: options.createConcurrency,
        rotateFraction: options.rotateFraction,
        entry: options.entry,
        kvsyncArgs: options.kvsyncArgs,
        kvsyncEnv: nodeOptions(options, profileDir),
        memorySampleMs: options.memorySampleMs,
        events: options.events,
        ...(profileDir
          ? { beforeStop: (kvsync: KvsyncProcess) => heapSnapshot(kvsync, profileDir) }
          : {}),
        log,
      });
      results.push(result);
      if (profileDir) profiles.push(profileDir);
    } finally {
      await stack.close();
    }
  }

  const fanOut = options.fanOut > 0 ? await fanOutRun(options) : undefined;

  const file = path.join(outDir, `${runName}.json`);
  const record = {
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    options: { ...options, kubeconfigPath: options.kubeconfigPath ? '(given)' : undefined },
    results,
    ...(fanOut ? { fanOut } : {}),
    profiles,
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  if (results.length > 0)
    process.stdout.write(`${markdownTable(results)}\n\n${notes(results)}\n\n`);
  if (fanOut) process.stdout.write(`${fanOutTable(fanOut)}\n`);
  log(`results: ${path.relative(process.cwd(), file)}`);
  for (const dir of profiles) log(`profile: ${path.relative(process.cwd(), dir)}`);
  return 0;
}

async function fanOutRun(options: BenchOptions): Promise<FanOutResult> {
  log(`fan-out to ${options.fanOut} namespaces: starting the stack`);
  const stack = await startStack({
    kubeconfigPath: options.kubeconfigPath,
    log: (line) => log(`  ${line}`),
  });
  try {
    return await runFanOut(stack, {
      namespaces: options.fanOut,
      refreshInterval: options.refreshInterval,
      latencyMs: options.latencyMs,
      createConcurrency: options.createConcurrency,
      entry: options.entry,
      kvsyncArgs: options.kvsyncArgs,
      kvsyncEnv: nodeOptions(options, undefined),
      log,
    });
  } finally {
    await stack.close();
  }
}

/**
 * Preloaded experiments, and with a profile directory: a CPU profile written when kvsync exits
 * and a heap snapshot on SIGUSR2 (taken before stopping it).
 */
function nodeOptions(
  options: BenchOptions,
  profileDir: string | undefined,
): Record<string, string> {
  const flags = [
    ...options.kvsyncNodeOptions,
    ...options.kvsyncImports.map((file) => `--import=${file}`),
  ];
  if (profileDir) {
    flags.push(
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      `--diagnostic-dir=${profileDir}`,
      '--heapsnapshot-signal=SIGUSR2',
    );
  }
  return flags.length > 0 ? { NODE_OPTIONS: flags.join(' ') } : {};
}

async function heapSnapshot(kvsync: KvsyncProcess, dir: string): Promise<void> {
  log('taking a heap snapshot of kvsync');
  kvsync.signal('SIGUSR2');
  // V8 writes the snapshot synchronously: the file is complete once kvsync answers again.
  const file = await waitFor(
    async () => (await readdir(dir)).find((name) => name.endsWith('.heapsnapshot')),
    { description: 'the heap snapshot file', timeoutMs: 120_000, intervalMs: 500 },
  );
  await waitFor(async () => (await kvsync.probe('/healthz')).status === 200, {
    description: 'kvsync to answer after the snapshot',
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  log(
    `heap snapshot: ${file} (${Math.round((await stat(path.join(dir, file))).size / 2 ** 20)} MiB)`,
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
