// No write after the Lease is lost, and the shutdown deadline holds, proven with the API server's
// audit log. A slow vault keeps a reconcile in flight: its Key Vault read answers long after the
// moment the test acts (the Lease handed to another holder, or SIGTERM with a short
// --shutdown-timeout), so a reconcile that is not aborted writes its Secret and status afterwards,
// and one that is aborted writes nothing.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeLeaseClient, microTime } from '../../../src/runtime/lease-client.ts';
import { auditBarrier, auditWrites, describeWrites } from '../../support/audit-log.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import { waitFor } from '../../support/kube.ts';
import { applyVaultSecret } from '../../support/kvsync.ts';
import {
  report,
  seconds,
  startOperationsEnvironment,
  type OperationsEnvironment,
} from './environment.ts';

/**
 * Added to every Key Vault answer. Far longer than the 2 s a leader takes to notice a lost Lease
 * and than the shutdown timeout below, so the read is still in flight when kvsync must stop.
 */
const VAULT_LATENCY_MS = 10_000;

describe('a kvsync whose work is cut short', () => {
  let env: OperationsEnvironment;
  let auditLogPath: string;

  beforeAll(async () => {
    const info = inject('controlPlane');
    if (!info.auditLogPath) throw new Error('the shared control plane runs without an audit log');
    auditLogPath = info.auditLogPath;
    env = await startOperationsEnvironment(info, 'ops-cut');
  });

  afterAll(async () => {
    await env?.close();
  });

  /** A VaultSecret whose first reconcile is now waiting for the slow vault's answer. */
  const slowReconcile = async (name: string): Promise<FakeVault> => {
    const vault = env.azure.keyVault.createVault(name);
    vault.grant(env.clientId);
    vault.setSecret(name, `${name}-value-5c1e`);
    vault.faults.setLatency(VAULT_LATENCY_MS);
    await applyVaultSecret(env.kc, env.namespace, name, {
      vault: { url: env.azure.vaultUrl(name) },
      data: [{ key: 'value', secret: { name } }],
    });
    // The challenge is the reconcile's first request; the authenticated read follows at once.
    await waitFor(() => env.azure.keyVault.counters.challenges({ vault: name }) > 0, {
      description: `kvsync to start reading vault ${name}`,
      timeoutMs: 60_000,
    });
    return vault;
  };

  /** kvsync's writes to the Secret, the status and Events of `name` since `since`. */
  const writesSince = async (name: string, since: number) => {
    await auditBarrier(env.kc, auditLogPath, env.namespace);
    return (await auditWrites(auditLogPath, env.namespace)).filter(
      (w) => w.at >= since && w.name.startsWith(name) && w.resource !== 'leases',
    );
  };

  it('a leader whose Lease is taken during a reconcile writes nothing more and exits non-zero', async () => {
    const leaseName = 'kvsync-taken';
    const leader = await env.start('taken', { args: [`--lease-name=${leaseName}`] });
    await leader.waitForReadyz(/^ok: leader/);
    await slowReconcile('taken');

    const leases = kubeLeaseClient(env.kc, { namespace: env.namespace, name: leaseName });
    const takeover = await waitFor(
      async () => {
        const lease = (await leases.get())!;
        const at = Date.now();
        const now = microTime(at);
        await leases.update({
          ...lease,
          spec: { ...lease.spec, holderIdentity: 'new-leader', acquireTime: now, renewTime: now },
        });
        return at;
      },
      { description: 'the Lease to be handed to another holder (retried on conflict)' },
    );
    const exit = await leader.exited;
    const exitedAfter = Date.now() - takeover;

    const late = await writesSince('taken', takeover);
    report(
      `writes after takeover: ${late.length} (process exited ${seconds(exitedAfter)} after the ` +
        `takeover, during a Key Vault read answering in ${seconds(VAULT_LATENCY_MS)})`,
    );
    expect(late, describeWrites(late)).toEqual([]);
    expect(exit.code).toBe(1);
    expect((await leader.logs()).some((r) => r.msg?.startsWith('lost the Lease'))).toBe(true);
  });

  it('SIGTERM: a reconcile still running at --shutdown-timeout is aborted, the Lease released, exit 0', async () => {
    const leaseName = 'kvsync-term';
    const leader = await env.start('term', {
      args: [`--lease-name=${leaseName}`, '--shutdown-timeout=1s'],
    });
    await leader.waitForReadyz(/^ok: leader/);
    await slowReconcile('term');

    const signalledAt = Date.now();
    const exit = await leader.stop();
    const exitedAfter = Date.now() - signalledAt;

    const late = await writesSince('term', signalledAt);
    report(
      `SIGTERM with --shutdown-timeout=1s during a ${seconds(VAULT_LATENCY_MS)} Key Vault read: ` +
        `exited ${seconds(exitedAfter)} after the signal, writes after the signal: ${late.length}`,
    );
    expect(late, describeWrites(late)).toEqual([]);
    expect(exit.code).toBe(0);
    expect((await env.lease(leaseName))?.spec?.holderIdentity ?? '').toBe('');
    const messages = (await leader.logs()).map((r) => r.msg);
    expect(messages).toContain('Lease released');
  });
});
