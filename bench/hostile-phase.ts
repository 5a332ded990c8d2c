// Hostile certificate content (issue 16 §1): a PFX with as many encrypted bags at 600,000 PBKDF2
// iterations as fit in Key Vault's 25 KB, and "M" + 25,000 spaces + "!", both stored as PKCS#12
// secrets and referenced as certificates. While kvsync reads them, /healthz is probed back to
// back: the result is the longest event-loop delay kvsync itself reports (the /healthz detail,
// the max of its last 10 s) and the slowest probe answer.
import type { KubeConfig } from '@kubernetes/client-node';
import type { FakeVault } from '../test/support/azure/index.ts';
import { makeChain, toPfxBase64 } from '../test/support/certs.ts';
import { applyVaultSecret, deleteVaultSecret, waitForReady } from '../test/support/kvsync.ts';
import type { KvsyncProcess } from '../test/support/kvsync-process.ts';

export interface HostilePhaseResult {
  /** From creating the two VaultSecrets until both reported CertificateError. */
  readonly reportedMs: number;
  readonly maxLoopDelayMs: number;
  readonly slowestProbeMs: number;
  readonly probes: number;
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

  const started = performance.now();
  for (const name of names) {
    await applyVaultSecret(kc, namespace, name, {
      vault: { url },
      target: { type: 'kubernetes.io/tls' },
      data: [{ certificate: { name } }],
    });
  }
  for (const name of names) {
    await waitForReady(
      kc,
      namespace,
      name,
      { status: 'False', reason: 'CertificateError' },
      120_000,
    );
  }
  const reportedMs = performance.now() - started;
  probing = false;
  await loop;
  await probe(); // the delay of the window that just ended, once the loop answers
  for (const name of names) await deleteVaultSecret(kc, namespace, name);
  return {
    reportedMs: Math.round(reportedMs),
    maxLoopDelayMs,
    slowestProbeMs: Math.round(slowestProbeMs),
    probes,
  };
}
