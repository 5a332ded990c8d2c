// The benchmark's outputs: a JSON record of everything measured (bench/results/, gitignored) and
// a Markdown table for people, with External Secrets Operator's call pattern as a modelled row.
import { cpus, totalmem } from 'node:os';
import { esoPattern } from './eso-model.ts';
import type { ScenarioResult } from './scenario.ts';

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
  'Rotation 1%: p50 / p95',
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
      `${secs(r.create.ms)} (${count(Math.round(r.create.perSecond))}/s)`,
      secs(r.coldStart.allReadyMs),
      `${count(cold.total)} (${count(cold.get)} get, ${count(cold.list)} list)`,
      `${count(steady.total)} (${count(steady.list)} list, ${count(steady.get)} get)`,
      count(cold.throttled + steady.throttled + r.rotation.vault.throttled),
      `${r.coldStart.entraTokenRequests} / ${r.steadyCycle.entraTokenRequests}`,
      count(r.steadyCycle.kvsync.kubeWrites),
      `${secs(r.rotation.latencyMs.p50)} / ${secs(r.rotation.latencyMs.p95)}`,
      `${mib(Math.max(r.memory.rssBytes, r.memory.rssHighWaterBytes))} / ${mib(r.memory.heapUsedBytes)}`,
    ]);
    const eso = esoPattern(r.n, r.references);
    rows.push([
      'ESO call pattern (model, not a run)',
      count(r.n),
      '—',
      `≥ ${secs((eso.vaultCallsColdStart / 400) * 1000)} at Key Vault's limit`,
      count(eso.vaultCallsColdStart),
      count(eso.vaultCallsPerCycle),
      '—',
      `${count(eso.entraExchangesColdStart)} / ${count(eso.entraExchangesPerCycle)}`,
      '—',
      `≤ refresh interval`,
      '—',
    ]);
  }
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function notes(results: readonly ScenarioResult[]): string {
  const lines = results.map((r) => {
    const cycle = r.steadyCycle;
    return `- N = ${count(r.n)}: readyz (leader) after ${secs(r.coldStart.readyzMs)}, first Ready after ${secs(r.coldStart.firstReadyMs)}; ${r.coldStart.kvsync.reconciles} reconciles and ${count(r.coldStart.kvsync.kubeWrites)} Kubernetes writes to get there, ${r.coldStart.kvsync.cpuSeconds.toFixed(1)} s of kvsync CPU. Steady cycle ${secs(cycle.ms)} long, sweep itself ${secs(cycle.sweepMs)}, ${cycle.kvsync.reconciles} reconciles, ${cycle.kvsync.cpuSeconds.toFixed(1)} s CPU. Rotation: ${r.rotation.rotated} secrets -> ${r.rotation.secretsChanged} Secrets, Secret written ${secs(r.rotation.afterSweepMs.p50)} (p50) / ${secs(r.rotation.afterSweepMs.p95)} (p95) after the sweep that found it, ${r.rotation.vault.get} GETs, ${r.rotation.kvsync.kubeWrites} Kubernetes writes, ${r.rotation.unexpectedChanges} other Secrets changed. Reconcile errors ${r.reconcileErrors}; kvsync stopped with ${r.kvsyncExit}.`;
  });
  return [
    `Fake Key Vault: ${results[0]?.latencyMs ?? 0} ms added latency, throttle ${results[0]?.throttle.limit ?? 0} requests per ${(results[0]?.throttle.windowMs ?? 0) / 1000} s per vault. ` +
      'Key Vault requests count authenticated calls as the vault saw them (challenge 401s apart). ' +
      'The ESO rows apply its pattern (one GET per reference per refresh, one token exchange per reconcile with serviceAccountRef) to the same N; they are a model, not a run.',
    ...lines,
  ].join('\n');
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function secs(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a';
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
