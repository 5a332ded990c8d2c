// kvsync as a separate process, the way a pod runs it: its own flags and environment, a
// kubeconfig, the Azure doubles reached through HTTPS_PROXY and NODE_EXTRA_CA_CERTS, stdout and
// stderr captured to a file. Used by the operations tests, the demo and the benchmark.
//
//   const kvsync = await startKvsyncProcess({ name: 'a', kubeconfigPath, azure, env: identityEnv });
//   await kvsync.waitForReadyz(/leader/);
//   expect(await kvsync.metric('kvsync_reconcile_total')).toBeGreaterThan(0);
//   expect((await kvsync.stop()).code).toBe(0);   // SIGTERM, then the exit code
//
// Entry point: by default `node src/main.ts` (Node 24 strips the types; relative `.ts` imports
// resolve as written), so tests always run the code under test without a build step and without
// two test files racing to rebuild dist/. `entry: 'dist'` runs `node dist/main.js` as the
// container image does; it refuses a dist/ older than src/ (run `npm run build` first), which the
// demo and benchmark scripts do.
//
// The process runs under the supervisor of processes.ts, so it dies with the test process even on
// a crash or SIGKILL; `close()` in afterAll stops it and removes its temporary directory (kept,
// with its path printed, when KVSYNC_KEEP_LOGS is set).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AzureDoubles } from './azure/index.ts';
import { waitFor } from './kube.ts';
import {
  describeExit,
  killQuietly,
  startSupervised,
  type ProcessExit,
  type Supervised,
} from './processes.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface KvsyncProcessOptions {
  /** Short name: the log file's name and POD_NAME, so Lease holders read `<name>_<random>`. */
  readonly name: string;
  readonly kubeconfigPath: string;
  /** Doubles to reach: their processEnv() is merged in and their DNS suffix allowed. */
  readonly azure?: AzureDoubles;
  /** More environment, e.g. AZURE_CLIENT_ID / AZURE_CLIENT_SECRET for kvsync's own identity. */
  readonly env?: Readonly<Record<string, string>>;
  /** More flags; they come after the helper's, so they win. */
  readonly args?: readonly string[];
  /** Default 'source'. */
  readonly entry?: 'source' | 'dist';
  /** Directory for the log file. Default: a temporary directory removed by close(). */
  readonly dir?: string;
  /** Default 60 s: how long to wait for the endpoints to be served. */
  readonly startTimeoutMs?: number;
}

export interface LogRecord {
  readonly level?: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface ProbeResponse {
  readonly status: number;
  readonly body: string;
}

export interface KvsyncProcess {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr, interleaved as written. */
  readonly logPath: string;
  /** `http://127.0.0.1:<port>`. */
  readonly metricsUrl: string;
  readonly healthUrl: string;
  readonly exited: Promise<ProcessExit>;
  /** Everything the process wrote so far. */
  output(): Promise<string>;
  /**
   * The log lines written so far: JSON, or with --log-format=text the message and trailing bare
   * fields. Other lines (e.g. Node warnings) are skipped.
   */
  logs(): Promise<LogRecord[]>;
  waitForLog(
    match: (record: LogRecord) => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<LogRecord>;
  probe(path: '/healthz' | '/readyz'): Promise<ProbeResponse>;
  /** Waits for /readyz to answer 200 with a body matching `body` (e.g. /leader/ or /standby/). */
  waitForReadyz(body?: RegExp, timeoutMs?: number): Promise<string>;
  scrape(): Promise<string>;
  /** Sum of the samples of `name` whose labels include `labels`; 0 when there are none. */
  metric(name: string, labels?: Readonly<Record<string, string>>): Promise<number>;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL, as a node failure or OOM kill would; resolves with the exit. */
  kill(): Promise<ProcessExit>;
  /** SIGTERM, as the kubelet sends; resolves with the exit (SIGKILL after the supervisor's grace). */
  stop(): Promise<ProcessExit>;
  /** Stops the process (if running) and removes the temporary directory, if the helper made it. */
  close(): Promise<void>;
}

export async function startKvsyncProcess(options: KvsyncProcessOptions): Promise<KvsyncProcess> {
  const entry = entryPoint(options.entry ?? 'source');
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'kvsync-process-')));
  const logPath = path.join(dir, `kvsync-${options.name}.log`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KUBECONFIG: options.kubeconfigPath,
    POD_NAME: options.name,
    ...options.azure?.processEnv(),
    ...options.env,
  };
  const args = [
    '--metrics-address=127.0.0.1:0',
    '--health-address=127.0.0.1:0',
    ...(options.azure ? [`--vault-suffixes=${options.azure.vaultDnsSuffix}`] : []),
    ...(options.args ?? []),
  ];
  // `env -i`: exactly this environment, nothing inherited from the test process.
  const supervised = await startSupervised({
    name: `kvsync-${options.name}`,
    command: 'env',
    args: [
      '-i',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      ...entry,
      ...args,
    ],
    logPath,
    graceMs: 10_000,
  });

  const output = async (): Promise<string> => readFile(logPath, 'utf8').catch(() => '');
  const logs = async (): Promise<LogRecord[]> => parseLogLines(await output());
  const waitForLog = async (
    match: (record: LogRecord) => boolean,
    description: string,
    timeoutMs = 30_000,
  ): Promise<LogRecord> => {
    let exit: ProcessExit | undefined;
    void supervised.exited.then((e) => (exit = e));
    return waitFor(
      async () => {
        const found = (await logs()).find(match);
        if (found) return found;
        if (exit) {
          throw new Error(`kvsync-${options.name} exited (${describeExit(exit)}); see ${logPath}`);
        }
        return undefined;
      },
      { description: `kvsync-${options.name}: ${description}`, timeoutMs, intervalMs: 50 },
    );
  };

  let metricsUrl: string;
  let healthUrl: string;
  try {
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const served = (what: string) => (record: LogRecord) =>
      record.msg === what && typeof record.address === 'string';
    const metrics = await waitForLog(
      served('serving /metrics'),
      'serving /metrics',
      startTimeoutMs,
    );
    const health = await waitForLog(
      served('serving /healthz and /readyz'),
      'serving /healthz and /readyz',
      startTimeoutMs,
    );
    metricsUrl = `http://${metrics.address as string}`;
    healthUrl = `http://${health.address as string}`;
  } catch (error) {
    await supervised.stop();
    throw new Error(`${(error as Error).message}\n--- output ---\n${tail(await output())}`, {
      cause: error,
    });
  }

  const probe = async (probePath: '/healthz' | '/readyz'): Promise<ProbeResponse> => {
    const response = await fetch(healthUrl + probePath, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.text()).trim() };
  };
  const scrape = async (): Promise<string> => {
    const response = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    return response.text();
  };
  const stopWith = async (signal: NodeJS.Signals): Promise<ProcessExit> => {
    killQuietly(supervised.pid, signal);
    return supervised.exited;
  };

  return {
    name: options.name,
    pid: supervised.pid,
    logPath,
    metricsUrl,
    healthUrl,
    exited: supervised.exited,
    output,
    logs,
    waitForLog,
    probe,
    async waitForReadyz(body = /./, timeoutMs = 60_000) {
      return waitFor(
        async () => {
          const response = await probe('/readyz');
          return response.status === 200 && body.test(response.body) && response.body;
        },
        { description: `kvsync-${options.name} /readyz 200 matching ${body}`, timeoutMs },
      );
    },
    scrape,
    async metric(name, labels = {}) {
      return sumSamples(parseMetrics(await scrape()).samples, name, labels);
    },
    signal: (signal) => killQuietly(supervised.pid, signal),
    kill: () => stopWith('SIGKILL'),
    stop: () => stopWith('SIGTERM'),
    async close() {
      await stopOrKill(supervised);
      if (process.env.KVSYNC_KEEP_LOGS) {
        process.stderr.write(`kvsync-${options.name} output kept in ${logPath}\n`);
      } else if (ownDir) {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** SIGTERM; SIGKILL if it is still there after 30 s (a hung shutdown must not hang the suite). */
async function stopOrKill(supervised: Supervised): Promise<void> {
  // One SIGTERM only: the supervisor's own (on stop()) would be a second signal, which kvsync
  // takes as "exit now".
  killQuietly(supervised.pid, 'SIGTERM');
  const timer = setTimeout(() => killQuietly(supervised.pid, 'SIGKILL'), 30_000);
  await supervised.exited;
  clearTimeout(timer);
  await supervised.stop();
}

/**
 * Node's options in the image's ENTRYPOINT (Dockerfile), before the entry point: a young
 * generation of 1 MiB per semi-space and V8's memory-saving mode keep peak RSS near the live heap;
 * 30% room to grow the old generation spares a full collection per /metrics scrape at 10,000
 * VaultSecrets; without the Maglev compiler the same work takes the same CPU in less memory
 * (docs/benchmarks.md, "Where the memory goes"). The preload leaves client-node's generated API
 * modules unloaded (src/runtime/slim-client-node.ts).
 */
export const NODE_OPTIONS_OF_IMAGE = [
  '--max-semi-space-size=1',
  '--optimize-for-size',
  '--heap-growing-percent=30',
  '--no-maglev',
] as const;

/** Node's arguments before kvsync's, as the image's ENTRYPOINT gives them (see Dockerfile). */
function entryPoint(entry: 'source' | 'dist'): string[] {
  if (entry === 'source') {
    const src = path.join(repoRoot, 'src');
    return [
      ...NODE_OPTIONS_OF_IMAGE,
      `--import=${path.join(src, 'runtime', 'slim-client-node.ts')}`,
      path.join(src, 'main.ts'),
    ];
  }
  const dist = path.join(repoRoot, 'dist');
  const built = path.join(dist, 'main.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newestMtime(path.join(repoRoot, 'src'))) {
    throw new Error('dist/ is missing or older than src/: run `npm run build` first');
  }
  return [
    ...NODE_OPTIONS_OF_IMAGE,
    `--import=${path.join(dist, 'runtime', 'slim-client-node.js')}`,
    built,
  ];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export function parseLogLines(text: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) {
      const record = parseTextLine(line);
      if (record) records.push(record);
      continue;
    }
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // A partly written last line; the next read has it whole.
    }
  }
  return records;
}

/**
 * A --log-format=text line: time, level, message and the trailing bare `key=value` fields (a
 * quoted or JSON value, and everything before it, stays in the message).
 */
function parseTextLine(line: string): LogRecord | undefined {
  const head = /^(\d{4}-\d\d-\d\dT\S+Z) ([A-Z]+) +(.*)$/.exec(line);
  if (!head) return undefined;
  const words = head[3]!.split(' ');
  const fields: [string, string][] = [];
  while (words.length > 1 && /^[A-Za-z_]\w*=[^\s"{[]\S*$/.test(words.at(-1)!)) {
    const word = words.pop()!;
    const at = word.indexOf('=');
    fields.push([word.slice(0, at), word.slice(at + 1)]);
  }
  return {
    ...Object.fromEntries(fields),
    time: head[1],
    level: head[2]!.toLowerCase(),
    msg: words.join(' '),
  };
}

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format: `# TYPE` per family, and every sample. */
export function parseMetrics(text: string): {
  types: Map<string, string>;
  samples: MetricSample[];
} {
  const types = new Map<string, string>();
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[key!] = value!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

export function sumSamples(
  samples: readonly MetricSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
