// The benchmark's outputs: a JSON record of everything measured (bench/results/, gitignored) and
// a Markdown table for people, with External Secrets Operator's call pattern as a modelled row.
import { cpus, totalmem } from 'node:os';
import { esoPattern } from './eso-model.ts';
import type { EventPhaseResult } from './event-phase.ts';
import type { ScenarioResult } from './scenario.ts';
import type { MemoryPeaks } from './sampler.ts';
import { seconds } from './stats.ts';

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function describeMachine(): Machine {
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const header = [
  'Run',
  'N',
  'Create N VaultSecrets',
  'Start → all Ready',
  'Key Vault requests, cold start',
  'Key Vault requests per steady cycle',
  '429s',
  'Entra token requests (cold / cycle)',
  'Kubernetes writes per steady cycle',
  'Status applies / events: cold start (progress statuses); 1% rotation (VaultSecrets rotated)',
  'Rotation 1%, sweeps only: p50 / p95',
  'Rotation 1%, with events: p50 / p95',
  'Key Vault requests for the 1% rotation (sweeps only / with events)',
  'Peak RSS / heap used',
];

export function markdownTable(results: readonly ScenarioResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const cold = r.coldStart.vault;
    const steady = r.steadyCycle.vault;
    rows.push([
      `kvsync (measured, refresh ${r.refreshInterval}${r.variant ? `, ${r.variant}` : ''})`,
      count(r.n),
      `${seconds(r.create.ms)} (${count(Math.round(r.create.perSecond))}/s)`,
      seconds(r.coldStart.allReadyMs),
      `${count(cold.total)} (${count(cold.get)} get, ${count(cold.list)} list)`,
      `${count(steady.total)} (${count(steady.list)} list, ${count(steady.get)} get)`,
      count(cold.throttled + steady.throttled + r.rotation.vault.throttled),
      `${r.coldStart.entraTokenRequests} / ${r.steadyCycle.entraTokenRequests}`,
      count(r.steadyCycle.kvsync.kubeWrites),
      statusWrites(r),
      `${seconds(r.rotation.latencyMs.p50)} / ${seconds(r.rotation.latencyMs.p95)}`,
      r.events
        ? `${seconds(r.events.rotation.latencyMs.p50)} / ${seconds(r.events.rotation.latencyMs.p95)}`
        : 'not run (--no-events)',
      `${count(r.rotation.vault.total)} / ${r.events ? count(r.events.rotation.vault.total) : '—'}`,
      `${peakRss(r.memory)} / ${mib(r.memory.heapUsedBytes)}`,
    ]);
    const eso = esoPattern(r.n, r.references);
    rows.push([
      'ESO call pattern (model, not a run)',
      count(r.n),
      '—',
      `≥ ${seconds((eso.vaultCallsColdStart / 400) * 1000)} at Key Vault's limit`,
      count(eso.vaultCallsColdStart),
      count(eso.vaultCallsPerCycle),
      '—',
      `${count(eso.entraExchangesColdStart)} / ${count(eso.entraExchangesPerCycle)}`,
      '—',
      '—',
      `≤ refresh interval`,
      'needs a public webhook',
      '—',
      '—',
    ]);
  }
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function statusWrites(r: ScenarioResult): string {
  const cold = r.coldStart.writes;
  const rotation = r.rotation.kvsync.kubeWritesBy;
  return (
    `${count(cold.statusApplies)} / ${count(cold.events)} (${count(cold.progressStatuses)}); ` +
    `${count(rotation['vaultsecrets/status apply'] ?? 0)} / ${count(rotation['events create'] ?? 0)} ` +
    `(${count(r.rotation.secretsChanged)})`
  );
}

export function notes(results: readonly ScenarioResult[]): string {
  const lines = results.map((r) => {
    const cycle = r.steadyCycle;
    return `- N = ${count(r.n)}: readyz (leader) after ${seconds(r.coldStart.readyzMs)}, first Ready after ${seconds(r.coldStart.firstReadyMs)}; ${count(r.coldStart.proxyTunnels)} connections through the proxy; ${r.coldStart.kvsync.reconciles} reconciles and ${count(r.coldStart.kvsync.kubeWrites)} Kubernetes writes to get there, ${r.coldStart.kvsync.cpuSeconds.toFixed(1)} s of kvsync CPU. Steady cycle ${seconds(cycle.ms)} long, sweep itself ${seconds(cycle.sweepMs)}, ${cycle.kvsync.reconciles} reconciles, ${cycle.kvsync.cpuSeconds.toFixed(1)} s CPU. Rotation: ${r.rotation.rotated} secrets -> ${r.rotation.secretsChanged} Secrets, Secret written ${seconds(r.rotation.afterSweepMs.p50)} (p50) / ${seconds(r.rotation.afterSweepMs.p95)} (p95) after the sweep that found it, ${r.rotation.vault.get} GETs, ${r.rotation.kvsync.kubeWrites} Kubernetes writes, ${r.rotation.unexpectedChanges} other Secrets changed. Reconcile errors ${r.reconcileErrors}; kvsync stopped with ${r.kvsyncExit}. Value cache ${kib(r.valueCacheBytes)}. Hostile certificates (a PFX of many bags at 600,000 iterations, 25,000 spaces): ${r.hostile.reasons.join(' and ')} after ${seconds(r.hostile.reportedMs)}; event loop max delay ${r.hostile.maxLoopDelayMs} ms (${r.hostile.baseline.maxLoopDelayMs} ms in the 10 s before), slowest of ${r.hostile.probes} /healthz probes ${r.hostile.slowestProbeMs} ms (${r.hostile.baseline.slowestProbeMs} ms before). Peak RSS ${peakRss(r.memory)}, ${peakRss(r.memoryBeforeCertificates)} before the certificate phase.`;
  });
  lines.push(...results.flatMap((r) => (r.events ? [eventNote(r.n, r.events)] : [])));
  return [
    `Fake Key Vault: ${results[0]?.latencyMs ?? 0} ms added latency, throttle ${results[0]?.throttle.limit ?? 0} requests per ${(results[0]?.throttle.windowMs ?? 0) / 1000} s per vault. ` +
      'Key Vault requests count authenticated calls as the vault saw them (challenge 401s apart). ' +
      "Rotation latency runs from the vault write to the Secret change seen by a watch; with events it includes the queue message (sent right after the write) but not Event Grid's own delivery delay. " +
      'The ESO rows apply its pattern (one GET per reference per refresh, one token exchange per reconcile with serviceAccountRef) to the same N; they are a model, not a run.',
    ...lines,
  ].join('\n');
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function eventNote(n: number, e: EventPhaseResult): string {
  const rotation = e.rotation;
  return `- N = ${count(n)} with events: kvsync restarted with --event-queue-url, leader after ${seconds(e.restart.readyzMs)}, all ${count(n)} synced again after ${seconds(e.restart.allSyncedMs)} (${count(e.restart.vault.get)} GETs); sweeps then stretched to ${e.sweepStretchS / 60} min. Rotation: ${rotation.rotated} secrets announced on the queue -> ${rotation.secretsChanged} Secrets, vault write -> Secret p50 ${seconds(rotation.latencyMs.p50)}, p95 ${seconds(rotation.latencyMs.p95)}, max ${seconds(rotation.latencyMs.max)}; ${rotation.vault.get} GETs, ${rotation.vault.list} list calls, ${rotation.sweeps} sweeps, ${rotation.unexpectedChanges} other Secrets changed. kvsync: ${e.events.received} events received, ${e.events.processed} acted on, ${e.events.dropped} dropped, ${e.events.reconciles} reconciles requested, kvsync_event_to_secret_seconds mean ${seconds(e.events.eventToSecretMeanMs)}; stopped with ${e.kvsyncExit}.`;
}

function peakRss(memory: MemoryPeaks): string {
  return mib(Math.max(memory.rssBytes, memory.rssHighWaterBytes));
}

function kib(bytes: number): string {
  return `${count(Math.round(bytes / 1024))} KiB`;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
