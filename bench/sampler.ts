// What the benchmark reads from kvsync: its counters (from /metrics, as Prometheus would) and its
// memory, sampled from /metrics (process and V8 heap gauges) and from /proc (VmHWM is the kernel's
// own record of peak RSS, so a peak between two samples is not missed).
import { readFile } from 'node:fs/promises';
import {
  parseMetrics,
  sumSamples,
  type KvsyncProcess,
  type MetricSample,
} from '../test/support/kvsync-process.ts';

export interface KvsyncCounters {
  readonly at: number;
  readonly reconciles: number;
  readonly reconcileErrors: number;
  readonly kubeWrites: number;
  /** `resource verb` -> writes, e.g. `secrets create`, `vaultsecrets/status apply`. */
  readonly kubeWritesBy: Readonly<Record<string, number>>;
  readonly vaultRequests: number;
  readonly throttled: number;
  readonly rotations: number;
  readonly sweeps: number;
  readonly tokenRequests: number;
  readonly cpuSeconds: number;
  /** Sums of the duration histograms: wall time spent in reconciles and in Key Vault calls. */
  readonly reconcileSeconds: number;
  readonly vaultRequestSeconds: number;
  /** A gauge: the value cache's estimated size when read (differences keep the later one). */
  readonly valueCacheBytes: number;
}

export function countersFrom(samples: readonly MetricSample[]): KvsyncCounters {
  const sum = (name: string, labels?: Record<string, string>) => sumSamples(samples, name, labels);
  return {
    at: performance.now(),
    reconciles: sum('kvsync_reconcile_total'),
    reconcileErrors: sum('kvsync_reconcile_total', { result: 'error' }),
    kubeWrites: sum('kvsync_kube_writes_total'),
    kubeWritesBy: Object.fromEntries(
      samples
        .filter((s) => s.name === 'kvsync_kube_writes_total')
        .map((s) => [`${s.labels.resource} ${s.labels.verb}`, s.value]),
    ),
    vaultRequests: sum('kvsync_vault_requests_total'),
    throttled: sum('kvsync_vault_throttled_total'),
    rotations: sum('kvsync_secret_rotations_total'),
    sweeps: sum('kvsync_vault_sweeps_total'),
    tokenRequests: sum('kvsync_identity_token_requests_total'),
    cpuSeconds: sum('process_cpu_seconds_total'),
    reconcileSeconds: sum('kvsync_reconcile_duration_seconds_sum'),
    vaultRequestSeconds: sum('kvsync_vault_request_duration_seconds_sum'),
    valueCacheBytes: sum('kvsync_value_cache_bytes'),
  };
}

/** A fresh process's counters, taken at `at`. */
export function zeroCounters(at: number): KvsyncCounters {
  return {
    at,
    reconciles: 0,
    reconcileErrors: 0,
    kubeWrites: 0,
    kubeWritesBy: {},
    vaultRequests: 0,
    throttled: 0,
    rotations: 0,
    sweeps: 0,
    tokenRequests: 0,
    cpuSeconds: 0,
    reconcileSeconds: 0,
    vaultRequestSeconds: 0,
    valueCacheBytes: 0,
  };
}

export async function readCounters(kvsync: KvsyncProcess): Promise<KvsyncCounters> {
  return countersFrom(parseMetrics(await kvsync.scrape()).samples);
}

/** b - a, field by field (`at` becomes the elapsed ms). */
export function difference(a: KvsyncCounters, b: KvsyncCounters): KvsyncCounters {
  const kubeWritesBy: Record<string, number> = {};
  for (const [key, value] of Object.entries(b.kubeWritesBy)) {
    const delta = value - (a.kubeWritesBy[key] ?? 0);
    if (delta !== 0) kubeWritesBy[key] = delta;
  }
  return {
    at: b.at - a.at,
    reconciles: b.reconciles - a.reconciles,
    reconcileErrors: b.reconcileErrors - a.reconcileErrors,
    kubeWrites: b.kubeWrites - a.kubeWrites,
    kubeWritesBy,
    vaultRequests: b.vaultRequests - a.vaultRequests,
    throttled: b.throttled - a.throttled,
    rotations: b.rotations - a.rotations,
    sweeps: b.sweeps - a.sweeps,
    tokenRequests: b.tokenRequests - a.tokenRequests,
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    reconcileSeconds: b.reconcileSeconds - a.reconcileSeconds,
    vaultRequestSeconds: b.vaultRequestSeconds - a.vaultRequestSeconds,
    valueCacheBytes: b.valueCacheBytes,
  };
}

export interface MemoryPeaks {
  /** Highest process_resident_memory_bytes sampled. */
  readonly rssBytes: number;
  /** The kernel's peak RSS (VmHWM) when last read. */
  readonly rssHighWaterBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly samples: number;
}

export interface MemorySampler {
  peaks(): MemoryPeaks;
  /** Samples once more now, e.g. right after a phase ends. */
  sample(): Promise<void>;
  stop(): Promise<MemoryPeaks>;
}

export function sampleMemory(kvsync: KvsyncProcess, intervalMs: number): MemorySampler {
  let rssBytes = 0;
  let rssHighWaterBytes = 0;
  let heapUsedBytes = 0;
  let heapTotalBytes = 0;
  let samples = 0;
  const sample = async (): Promise<void> => {
    try {
      const metrics = parseMetrics(await kvsync.scrape()).samples;
      rssBytes = Math.max(rssBytes, sumSamples(metrics, 'process_resident_memory_bytes'));
      heapUsedBytes = Math.max(heapUsedBytes, sumSamples(metrics, 'nodejs_heap_size_used_bytes'));
      heapTotalBytes = Math.max(
        heapTotalBytes,
        sumSamples(metrics, 'nodejs_heap_size_total_bytes'),
      );
      samples += 1;
    } catch {
      // The process is busy or gone; the next sample will tell.
    }
    rssHighWaterBytes = Math.max(rssHighWaterBytes, await highWaterMark(kvsync.pid));
  };
  let pending: Promise<void> = sample();
  const timer = setInterval(() => {
    pending = pending.then(sample);
  }, intervalMs);
  const peaks = (): MemoryPeaks => ({
    rssBytes,
    rssHighWaterBytes,
    heapUsedBytes,
    heapTotalBytes,
    samples,
  });
  return {
    peaks,
    sample: () => (pending = pending.then(sample)),
    async stop() {
      clearInterval(timer);
      await pending;
      return peaks();
    },
  };
}

/** VmHWM of a process in bytes; 0 when /proc cannot tell (not Linux, or the process is gone). */
async function highWaterMark(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}
