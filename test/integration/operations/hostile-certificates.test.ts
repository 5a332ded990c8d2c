// A tenant's certificate content cannot stall kvsync for everyone (issue 16 §1): a PFX of many
// encrypted bags at the highest iteration count, and text built to make a base64 check
// backtrack, both stored as PKCS#12 secrets and referenced as certificates. While kvsync reads
// them, a kvsync process keeps answering /healthz, another VaultSecret syncs, and each bad one
// reports CertificateError with what to do.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeVault } from '../../support/azure/index.ts';
import { makeChain, toPfxBase64 } from '../../support/certs.ts';
import { applyVaultSecret, readyOf, waitForReady } from '../../support/kvsync.ts';
import type { KvsyncProcess } from '../../support/kvsync-process.ts';
import { startOperationsEnvironment, type OperationsEnvironment } from './environment.ts';

const PKCS12 = 'application/x-pkcs12';
const goodValue = 'ops-hostile-good-value-5e7f';

/** Probes /healthz one after another until stopped; counts answers by status. */
function probeContinuously(kvsync: KvsyncProcess) {
  const answers: number[] = [];
  const failures: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        answers.push((await kvsync.probe('/healthz')).status);
      } catch (error) {
        failures.push(error instanceof Error ? error.name : String(error));
      }
    }
  })();
  return {
    answers,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('hostile certificate content', () => {
  let env: OperationsEnvironment;
  let vault: FakeVault;
  let kvsync: KvsyncProcess;
  let url: string;

  beforeAll(async () => {
    env = await startOperationsEnvironment(inject('controlPlane'), 'ops-hostile');
    vault = env.azure.keyVault.createVault('ops-hostile');
    vault.grant(env.clientId);
    url = env.azure.vaultUrl('ops-hostile');
    const chain = await makeChain({ keyType: 'ec-p256', length: 1 });
    // As many shrouded key bags at 600,000 PBKDF2 iterations as fit in Key Vault's 25 KB: read
    // bag by bag on the event loop, several seconds per reconcile.
    const manyBags = await toPfxBase64(chain, {
      iterations: 600_000,
      keyCopies: 55,
      prf: 'SHA-1',
    });
    expect(manyBags.length).toBeLessThanOrEqual(25 * 1024);
    vault.setSecret('many-bags', manyBags, { contentType: PKCS12 });
    vault.setSecret('spaces', `M${' '.repeat(25_000)}!`, { contentType: PKCS12 });
    vault.setSecret('good', goodValue);
    kvsync = await env.start('solo', { args: ['--leader-elect=false'] });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('keeps /healthz answering and other VaultSecrets syncing while the bad ones report why', async () => {
    const probes = probeContinuously(kvsync);
    try {
      for (const name of ['many-bags', 'spaces']) {
        await applyVaultSecret(env.kc, env.namespace, name, {
          vault: { url },
          refreshInterval: '10s',
          target: { type: 'kubernetes.io/tls' },
          data: [{ certificate: { name } }],
        });
      }
      await applyVaultSecret(env.kc, env.namespace, 'good', {
        vault: { url },
        data: [{ key: 'value', secret: { name: 'good' } }],
      });
      await waitForReady(env.kc, env.namespace, 'good', { status: 'True' });
      const manyBags = await waitForReady(env.kc, env.namespace, 'many-bags', {
        status: 'False',
        reason: 'CertificateError',
      });
      const spaces = await waitForReady(env.kc, env.namespace, 'spaces', {
        status: 'False',
        reason: 'CertificateError',
      });
      expect(readyOf(manyBags).message).toMatch(
        /certificate many-bags: .*more key-derivation work than kvsync spends on one certificate/,
      );
      expect(readyOf(spaces).message).toMatch(
        /certificate spaces: .*neither PEM nor base64 PKCS#12/,
      );
    } finally {
      await probes.stop();
    }
    // Every probe was answered, healthy, while kvsync read the hostile content.
    expect(probes.failures).toEqual([]);
    expect(probes.answers.length).toBeGreaterThanOrEqual(3);
    expect(new Set(probes.answers)).toEqual(new Set([200]));
  });
});
