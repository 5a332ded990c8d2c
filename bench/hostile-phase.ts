// Hostile certificate content (issue 16 §1): a PFX with as many encrypted bags at 600,000 PBKDF2
// iterations as fit in Key Vault's 25 KB, and "M" + 25,000 spaces + "!", both stored as PKCS#12
// secrets and referenced as certificates. While kvsync reads them, /healthz is probed back to
// back: the result is the longest event-loop delay kvsync itself reports (the /healthz detail,
// the max of its last 10 s) and the slowest probe answer, beside the same over the 10 s before
// (the machine's own noise).
import type { KubeConfig } from '@kubernetes/client-node';
import type { FakeVault } from '../test/support/azure/index.ts';
import { makeChain, toPfxBase64 } from '../test/support/certs.ts';
import { waitFor } from '../test/support/kube.ts';
import {
  applyVaultSecret,
  deleteVaultSecret,
  getVaultSecret,
  readyOf,
} from '../test/support/kvsync.ts';
import type { KvsyncProcess } from '../test/support/kvsync-process.ts';

export interface ProbeStats {
  readonly maxLoopDelayMs: number;
  readonly slowestProbeMs: number;
  readonly probes: number;
}

export interface HostilePhaseResult extends ProbeStats {
  /** From creating the two VaultSecrets until both reported an outcome. */
  readonly reportedMs: number;
  /** Ready reason of each (CertificateError expected). */
  readonly reasons: readonly string[];
  /** The 10 s before, without hostile content. */
  readonly baseline: ProbeStats;
}

const names = ['hostile-bags', 'hostile-spaces'];

export async function runHostilePhase(input: {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly vault: FakeVault;
  readonly url: string;
  readonly kvsync: KvsyncProcess;
}): Promise<HostilePhaseResult> {
  const { kc, namespace, vault, url, kvsync } = input;
  const chain = await makeChain({ keyType: 'ec-p256', length: 1 });
  const pfx = await toPfxBase64(chain, { iterations: 600_000, keyCopies: 55, prf: 'SHA-1' });
  vault.setSecret(names[0]!, pfx, { contentType: 'application/x-pkcs12' });
  vault.setSecret(names[1]!, `M${' '.repeat(25_000)}!`, { contentType: 'application/x-pkcs12' });

  const baseline = probeWhile(kvsync);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const quiet = await baseline.stop();

  const during = probeWhile(kvsync);
  const started = performance.now();
  for (const name of names) {
    await applyVaultSecret(kc, namespace, name, {
      vault: { url },
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name } }],
    });
  }
  const reasons: string[] = [];
  for (const name of names) reasons.push(await outcome(kc, namespace, name));
  const reportedMs = performance.now() - started;
  const stats = await during.stop();
  for (const name of names) await deleteVaultSecret(kc, namespace, name);
  return { reportedMs: Math.round(reportedMs), reasons, ...stats, baseline: quiet };
}

/** The Ready reason once the VaultSecret's first sync ended, whichever way. */
async function outcome(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  return waitFor(
    async () => {
      const vs = await getVaultSecret(kc, namespace, name);
      const ready = readyOf(vs);
      const done = vs.status?.observedGeneration === vs.metadata.generation;
      return done && ready.status !== 'Unknown' && ready.reason;
    },
    { description: `${namespace}/${name} synced or failed`, timeoutMs: 300_000 },
  );
}

/** Probes /healthz back to back until stopped; the last probe comes after the loop is free. */
function probeWhile(kvsync: KvsyncProcess): { stop(): Promise<ProbeStats> } {
  let maxLoopDelayMs = 0;
  let slowestProbeMs = 0;
  let probes = 0;
  let probing = true;
  const probe = async (): Promise<void> => {
    const started = performance.now();
    const { body } = await kvsync.probe('/healthz');
    slowestProbeMs = Math.max(slowestProbeMs, performance.now() - started);
    const delay = Number(/event loop delay (\d+) ms/.exec(body)?.[1] ?? 0);
    maxLoopDelayMs = Math.max(maxLoopDelayMs, delay);
    probes += 1;
  };
  const loop = (async () => {
    while (probing) await probe().catch(() => undefined);
  })();
  return {
    async stop() {
      probing = false;
      await loop;
      await probe().catch(() => undefined);
      return { maxLoopDelayMs, slowestProbeMs: Math.round(slowestProbeMs), probes };
    },
  };
}
