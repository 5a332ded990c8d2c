// `npm run bench -- --quick` on the test run's control plane, so the benchmark harness cannot rot:
// it completes, writes its JSON and table, and its numbers are sane. No timing is asserted.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ScenarioResult } from '../../../bench/scenario.ts';
import { runScript } from './run-script.ts';

describe('npm run bench -- --quick', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('completes with every VaultSecret Ready, no 429s, no Kubernetes writes in steady state, and rotation by events without sweeps', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'kvsync-bench-quick-'));
    dirs.push(out);
    const run = await runScript('bench/run.ts', [
      '--quick',
      '--entry=source',
      `--kubeconfig=${inject('controlPlane').kubeconfigPath}`,
      `--out=${out}`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('| kvsync (measured, refresh 10s) | 50 |');
    expect(run.stdout).toContain('ESO call pattern (model, not a run)');

    const files = (await readdir(out)).filter((name) => name.endsWith('.json'));
    expect(files).toHaveLength(1);
    const record = JSON.parse(await readFile(path.join(out, files[0]!), 'utf8')) as {
      results: ScenarioResult[];
    };
    const [result] = record.results;
    expect(result).toBeDefined();
    const r = result!;
    expect(r.n).toBe(50);
    // The harness only gets past cold start once all 50 are Ready; each secret was read once.
    expect(r.coldStart.allReadyMs).toBeGreaterThan(0);
    expect(r.coldStart.vault.get).toBe(50);
    // Sixteen workers start at once: their first token requests share one exchange with Entra ID.
    expect(r.coldStart.entraTokenRequests).toBe(1);
    // Behind HTTPS_PROXY, kept-alive connections: at most one per worker (16) and Entra ID's, not
    // one per GET.
    expect(r.coldStart.proxyTunnels).toBeGreaterThan(0);
    expect(r.coldStart.proxyTunnels).toBeLessThanOrEqual(20);
    // Every write necessary and no other: one reconcile, one Secret, one status apply and one
    // event per VaultSecret (their own writes' echoes reconcile nothing), plus a progress status
    // for any first sync that took over 2 s.
    const cold = r.coldStart.writes;
    expect(cold).toMatchObject({ reconciles: 50, secretWrites: 50, events: 50 });
    expect(cold.statusApplies).toBe(50 + cold.progressStatuses);
    expect(r.coldStart.vault.throttled + r.steadyCycle.vault.throttled).toBe(0);
    expect(r.rotation.vault.throttled).toBe(0);
    // One sweep of a 50-secret vault: two full list pages and the empty page Key Vault's nextLink
    // leads to after a full last page (test/conformance/recordings), no values read, nothing written.
    expect(r.steadyCycle.vault).toMatchObject({ list: 3, get: 0 });
    expect(r.steadyCycle.kvsync.kubeWrites).toBe(0);
    // Each rotated secret is referenced by two VaultSecrets; exactly their Secrets changed.
    expect(r.rotation.secretsChanged).toBe(2 * r.rotation.rotated);
    expect(r.rotation.unexpectedChanges).toBe(0);
    // One Secret update, one status apply and one Rotated event per rotated VaultSecret.
    const changed = r.rotation.secretsChanged;
    expect(r.rotation.kvsync.kubeWritesBy).toEqual({
      'secrets update': changed,
      'vaultsecrets/status apply': changed,
      'events create': changed,
    });
    // One GET per rotated secret, plus at most one more each: a read within 5 s of the update is
    // confirmed on the next sweep (Key Vault's `updated` has one-second resolution).
    expect(r.rotation.vault.get).toBeGreaterThanOrEqual(r.rotation.rotated);
    expect(r.rotation.vault.get).toBeLessThanOrEqual(2 * r.rotation.rotated);

    // Events: kvsync restarted with the queue; each rotation was announced there. After the first
    // sweep sweeps stretch to 30 minutes, so the Secrets followed the events alone: one GET per
    // rotated secret (plus at most one confirmation each) and no list call.
    const events = r.events;
    expect(events, 'the events phase ran').toBeDefined();
    expect(events!.sweepStretchS).toBe(1800);
    expect(events!.rotation.secretsChanged).toBe(2 * events!.rotation.rotated);
    expect(events!.rotation.unexpectedChanges).toBe(0);
    expect(events!.rotation.sweeps).toBe(0);
    expect(events!.rotation.vault.list).toBe(0);
    expect(events!.rotation.vault.get).toBeGreaterThanOrEqual(events!.rotation.rotated);
    expect(events!.rotation.vault.get).toBeLessThanOrEqual(2 * events!.rotation.rotated);
    expect(events!.events).toMatchObject({ processed: events!.rotation.rotated, dropped: 0 });
    expect(events!.kvsyncExit).toBe('exit code 0');
    expect(run.stdout).toContain('Rotation 1%, with events: p50 / p95');

    expect(r.memory.heapUsedBytes).toBeGreaterThan(0);
    expect(r.memory.rssHighWaterBytes).toBeGreaterThan(0);
    expect(r.reconcileErrors).toBe(0);
    expect(r.kvsyncExit).toBe('exit code 0');
  }, 240_000);
});
