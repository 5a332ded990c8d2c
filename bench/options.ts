// `npm run bench -- [flags]`: what to measure and how.
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly refreshInterval: string;
  readonly latencyMs: number;
  readonly throttle: { readonly limit: number; readonly windowMs: number };
  readonly createConcurrency: number;
  readonly rotateFraction: number;
  readonly entry: 'dist' | 'source';
  readonly kubeconfigPath: string | undefined;
  readonly outDir: string;
  readonly profile: boolean;
  readonly kvsyncArgs: readonly string[];
  /** Modules preloaded into kvsync (node --import), for experiments. */
  readonly kvsyncImports: readonly string[];
  /** Node and V8 options for kvsync (NODE_OPTIONS), e.g. heap sizes. */
  readonly kvsyncNodeOptions: readonly string[];
  readonly memorySampleMs: number;
  /** Also measure rotation with Key Vault events from a Storage Queue (Azurite). */
  readonly events: boolean;
  /** Namespaces of the ClusterVaultSecret fan-out run; 0 skips it. */
  readonly fanOut: number;
}

export const usage = `Usage: npm run bench -- [flags]
  --quick                 N = 50, refreshInterval 10s (what CI runs)
  --n=1000,10000          VaultSecret counts, one run each (default 1000,10000; 0: none)
  --refresh-interval=60s  refreshInterval of every VaultSecret
  --latency-ms=20         latency the fake Key Vault adds to every answer
  --concurrency=32        VaultSecret creations in flight
  --entry=dist|source     run dist/main.js (default, built by npm run bench) or src/main.ts
  --kubeconfig=<path>     use a running test control plane instead of starting one
  --out=<dir>             where the JSON goes (default bench/results)
  --profile               write kvsync's CPU profile and a heap snapshot next to the JSON
  --kvsync-arg=<flag>     pass a flag to kvsync (repeatable), e.g. --kvsync-arg=--workers=8
  --fan-out=1000          namespaces one ClusterVaultSecret (2 objects) fans out to
                          (default 1000; 0 skips; --quick: 0)
  --no-events             skip the events phase (kvsync restarted with --event-queue-url on
                          an Azurite queue, the same 1% rotation announced as Key Vault events)
  --kvsync-node-option=<flag>  a Node or V8 option for kvsync (NODE_OPTIONS, repeatable), e.g.
                          --kvsync-node-option=--max-semi-space-size=2
  --kvsync-import=<file>  preload a module into kvsync (node --import, repeatable), e.g. to
                          try a patch before changing src/`;

export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      n: { type: 'string' },
      'refresh-interval': { type: 'string' },
      'latency-ms': { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '32' },
      entry: { type: 'string', default: 'dist' },
      kubeconfig: { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      profile: { type: 'boolean', default: false },
      'kvsync-arg': { type: 'string', multiple: true, default: [] },
      'kvsync-import': { type: 'string', multiple: true, default: [] },
      'kvsync-node-option': { type: 'string', multiple: true, default: [] },
      events: { type: 'boolean', default: true },
      'fan-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowNegative: true,
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const entry = values.entry;
  if (entry !== 'dist' && entry !== 'source') throw new Error('--entry must be dist or source');
  return {
    quick,
    sizes: (values.n ?? (quick ? '50' : '1000,10000'))
      .split(',')
      .map((n) => positive(n, '--n', true))
      .filter((n) => n > 0),
    refreshInterval: values['refresh-interval'] ?? (quick ? '10s' : '60s'),
    latencyMs: positive(values['latency-ms'], '--latency-ms', true),
    // Key Vault's limit for secret GET and LIST: 4,000 per 10 s per vault.
    throttle: { limit: 4_000, windowMs: 10_000 },
    createConcurrency: positive(values.concurrency, '--concurrency'),
    rotateFraction: 0.01,
    entry,
    kubeconfigPath: values.kubeconfig,
    outDir: values.out,
    profile: values.profile,
    kvsyncArgs: values['kvsync-arg'],
    kvsyncImports: values['kvsync-import'].map((file) => path.resolve(file)),
    kvsyncNodeOptions: values['kvsync-node-option'],
    memorySampleMs: quick ? 1_000 : 5_000,
    events: values.events,
    fanOut: positive(values['fan-out'] ?? (quick ? '0' : '1000'), '--fan-out', true),
  };
}

function positive(text: string, flag: string, zeroAllowed = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1)) {
    throw new Error(
      `${flag}: ${JSON.stringify(text)} is not a ${zeroAllowed ? 'non-negative' : 'positive'} integer`,
    );
  }
  return value;
}
