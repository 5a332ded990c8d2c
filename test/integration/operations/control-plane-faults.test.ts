// The control plane fails under kvsync, as it does in real clusters: kube-apiserver restarted
// during a cold start of 200 VaultSecrets, etcd stopped for 30 s in steady state, every watch
// answered 410 Gone when it resumes, and Entra ID down for a minute while kvsync's tokens are
// about to expire. One kvsync process lives through all of them, against a private control plane
// (the shared one must stay up for the other test files). Throughout, a guard watches every Secret
// kvsync manages and records any deletion or blanking; after each fault every VaultSecret must be
// Ready again with the vault's current values, and each rotation must be announced exactly once.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { group, plural, version, type VaultSecret } from '../../../src/api/vault-secret.ts';
import type { FakeVault } from '../../support/azure/index.ts';
import {
  compactEtcd,
  startControlPlane,
  type ControlPlane,
  type ComponentName,
} from '../../support/control-plane.ts';
import { installCrds } from '../../support/crds.ts';
import { kubeConfigFrom, waitFor } from '../../support/kube.ts';
import { applyVaultSecret, decoded, eventsFor, readyOf } from '../../support/kvsync.ts';
import type { KvsyncProcess } from '../../support/kvsync-process.ts';
import { guardSecrets, type SecretGuard } from '../../support/secret-guard.ts';
import {
  report,
  seconds,
  startOperationsEnvironment,
  type OperationsEnvironment,
} from './environment.ts';

const COUNT = 200;
const NAMES = Array.from({ length: COUNT }, (_, i) => `s-${String(i).padStart(3, '0')}`);
/** Refreshed every 10 s (the minimum), so the vault is swept that often for all 200. */
const PACER = NAMES[0]!;
/** Slows the cold start enough that the API server restart lands in the middle of it. */
const COLD_START_LATENCY_MS = 250;
const ETCD_OUTAGE_MS = 30_000;
const ENTRA_OUTAGE_MS = 60_000;
/** Entra ID's tokens live an hour; here they are always within the SDK's 2-minute refresh window. */
const TOKEN_LIFETIME_SECONDS = 30;
/**
 * A lost Lease is lost-lease.test.ts's subject. Here one process must live through each fault, so
 * that what recovers is its informers, queue and caches, not a fresh start. A renewal sent while
 * etcd is down hangs in the API server until kvsync gives it up (after half the renew deadline)
 * and sends another, so the renew deadline must outlast the etcd outage with room for a retry.
 */
const LEASE_FLAGS = ['--lease-duration=180s', '--renew-deadline=120s', '--retry-period=2s'];
const RECOVERY_TIMEOUT_MS = 180_000;

interface Expected {
  value: string;
  version: string;
}

describe('kvsync when the control plane fails', () => {
  let cp: ControlPlane;
  let env: OperationsEnvironment;
  let vault: FakeVault;
  let guard: SecretGuard;
  let kvsync: KvsyncProcess;
  const expected = new Map<string, Expected>();
  let rotations = 0;

  const set = (name: string, generation: number): void => {
    const value = `${name}-value-${generation}-7d21`;
    expected.set(name, { value, version: vault.setSecret(name, value).version });
  };
  /** New versions in the vault; returns the names. */
  const rotate = (names: readonly string[]): readonly string[] => {
    for (const name of names) set(name, 2);
    rotations += names.length;
    return names;
  };

  beforeAll(async () => {
    cp = await startControlPlane({
      beforeControllers: async (info) => installCrds(kubeConfigFrom(info)),
    });
    env = await startOperationsEnvironment(cp, 'cp-faults');
    env.azure.entra.setTokenLifetime(TOKEN_LIFETIME_SECONDS);
    vault = env.azure.keyVault.createVault('cp-faults');
    vault.grant(env.clientId);
    for (const name of NAMES) set(name, 1);
    guard = guardSecrets(env.kc, env.namespace, 'app.kubernetes.io/managed-by=kvsync');
  });

  afterAll(async () => {
    guard?.stop();
    await env?.close();
    await cp?.stop();
  });

  /** Waits until every VaultSecret is Ready with the vault's current versions, then checks values. */
  const expectAllSynced = async (): Promise<void> => {
    const objects = env.kc.makeApiClient(CustomObjectsApi);
    await waitFor(
      async () => {
        const list = (await objects.listNamespacedCustomObject({
          group,
          version,
          namespace: env.namespace,
          plural,
        })) as { items: VaultSecret[] };
        const synced = list.items.filter(
          (vs) =>
            readyOf(vs).status === 'True' &&
            vs.status?.observedGeneration === vs.metadata.generation &&
            vs.status?.objects?.[0]?.version === expected.get(vs.metadata.name)?.version,
        );
        return synced.length === COUNT;
      },
      {
        description: `all ${COUNT} VaultSecrets Ready with the current versions`,
        timeoutMs: RECOVERY_TIMEOUT_MS,
        intervalMs: 500,
      },
    );
    const secrets = await env.kc
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: env.namespace });
    const values = new Map(secrets.items.map((s) => [s.metadata?.name, decoded(s).value]));
    const wrong = NAMES.filter((name) => values.get(name) !== expected.get(name)?.value);
    expect(wrong, 'Secrets without the current value').toEqual([]);
  };

  /** No Secret deleted or blanked; each rotation announced once (metric and events). */
  const expectNoDamage = async (rotated: readonly string[]): Promise<void> => {
    expect(await guard.check()).toEqual([]);
    expect(await kvsync.metric('kvsync_secret_rotations_total')).toBe(rotations);
    for (const name of rotated) {
      const announced = (await eventsFor(env.kc, env.namespace, name)).filter(
        (e) => e.reason === 'Rotated',
      );
      expect(announced, `Rotated events of ${name}`).toHaveLength(1);
    }
    const running = await Promise.race([
      kvsync.exited.then(() => false),
      new Promise<boolean>((resolve) => setImmediate(() => resolve(true))),
    ]);
    expect(running, 'kvsync is still running').toBe(true);
  };

  const namespaceEvents = async () =>
    (await env.kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: env.namespace })).items;

  const restart = async (component: ComponentName): Promise<void> => {
    await cp.stopComponent(component);
    await cp.startComponent(component);
  };

  it(
    'kube-apiserver restarted during a cold start of 200 VaultSecrets',
    async () => {
      vault.faults.setLatency(COLD_START_LATENCY_MS);
      for (let i = 0; i < COUNT; i += 20) {
        await Promise.all(
          NAMES.slice(i, i + 20).map((name) =>
            applyVaultSecret(env.kc, env.namespace, name, {
              vault: { url: env.azure.vaultUrl('cp-faults') },
              data: [{ key: 'value', secret: { name } }],
              ...(name === PACER ? { refreshInterval: '10s' } : {}),
            }),
          ),
        );
      }
      kvsync = await env.start('faults', { args: [...LEASE_FLAGS, '--log-level=debug'] });
      await waitFor(() => guard.count >= COUNT / 10, {
        description: 'the cold start to be under way',
        timeoutMs: 120_000,
      });
      const restartedAt = Date.now();
      const before = guard.count;
      await restart('kube-apiserver');
      vault.faults.setLatency(0);
      await expectAllSynced();
      report(
        `kube-apiserver restarted with ${before} of ${COUNT} Secrets written: all Ready ` +
          `${seconds(Date.now() - restartedAt)} after the restart began`,
      );
      expect(before, 'Secrets written when the API server stopped').toBeLessThan(COUNT);
      await expectNoDamage([]);
    },
    RECOVERY_TIMEOUT_MS + 120_000,
  );

  it(
    'etcd stopped for 30 s in steady state, with rotations in the vault meanwhile',
    async () => {
      await cp.stopComponent('etcd');
      const stoppedAt = Date.now();
      const rotated = rotate(NAMES.slice(10, 13));
      await new Promise((resolve) => setTimeout(resolve, ETCD_OUTAGE_MS)); // the fault itself
      await cp.startComponent('etcd');
      await expectAllSynced();
      report(
        `etcd down ${seconds(ETCD_OUTAGE_MS)}: all Ready ${since(stoppedAt)} after it stopped`,
      );
      await expectNoDamage(rotated);
    },
    ETCD_OUTAGE_MS + RECOVERY_TIMEOUT_MS + 60_000,
  );

  it(
    'every watch answered 410 Gone when it resumes',
    async () => {
      const logged = (await kvsync.logs()).length;
      await cp.stopComponent('kube-apiserver');
      await compactEtcd(cp.etcd);
      const rotated = rotate(NAMES.slice(20, 23));
      const stoppedAt = Date.now();
      await cp.startComponent('kube-apiserver');
      for (const resource of ['vaultsecrets', 'secrets']) {
        await kvsync.waitForLog(
          (r) => r.msg === 'watch restarting' && r.reason === 'gone' && r.resource === resource,
          `its ${resource} watch to end with 410 Gone`,
          60_000,
        );
      }
      expect((await kvsync.logs()).length).toBeGreaterThan(logged);
      await expectAllSynced();
      report(`watches 410 Gone on resume: all Ready ${since(stoppedAt)} after the stop`);
      await expectNoDamage(rotated);
    },
    RECOVERY_TIMEOUT_MS + 60_000,
  );

  it(
    'Entra ID down for a minute while tokens are about to expire',
    async () => {
      const issued = env.azure.entra.tokensIssued();
      const asked = env.azure.entra.tokenRequests();
      env.azure.entra.failTokenRequests({ status: 503 });
      const downAt = Date.now();
      const rotated = rotate(NAMES.slice(30, 33));
      await new Promise((resolve) => setTimeout(resolve, ENTRA_OUTAGE_MS)); // the fault itself
      env.azure.entra.failTokenRequests(undefined);
      expect(env.azure.entra.tokensIssued()).toBe(issued);
      expect(env.azure.entra.tokenRequests(), 'token requests refused').toBeGreaterThan(asked);
      // The outage showed (the tokens expired), as an outage to wait out: never as a refused
      // identity (Unauthenticated is Stalled, "needs a human").
      const reasons = new Set((await namespaceEvents()).map((e) => e.reason));
      expect(reasons).toContain('VaultError');
      expect(reasons).not.toContain('Unauthenticated');
      await expectAllSynced();
      report(
        `Entra ID down ${seconds(ENTRA_OUTAGE_MS)}: all Ready ${since(downAt)} after it went down`,
      );
      await expectNoDamage(rotated);
    },
    ENTRA_OUTAGE_MS + RECOVERY_TIMEOUT_MS + 60_000,
  );
});

function since(at: number): string {
  return seconds(Date.now() - at);
}
