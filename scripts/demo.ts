// `npm run demo`: kvsync end to end on this machine, in about a minute. A real control plane,
// the Entra ID and Key Vault doubles, kvsync built and run as its own process; example
// VaultSecrets synced, rotated in the vault and followed; a few metrics; everything stopped.
// Values are never printed, only their sizes. Exit code 0 only when every step happened.
//
//   node scripts/demo.ts [--kubeconfig <admin kubeconfig of a running test control plane>]
//                        [--entry dist|source]
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from '../bench/stack.ts';
import { tlsHandshake } from '../test/support/certs.ts';
import { runTool, waitFor } from '../test/support/kube.ts';
import { decoded, getVaultSecret, readSecret, waitForReady } from '../test/support/kvsync.ts';
import {
  parseMetrics,
  sumSamples,
  type KvsyncProcess,
  type MetricSample,
} from '../test/support/kvsync-process.ts';
import { applyVaultSecret } from '../test/support/kvsync.ts';
import {
  createNamespaces,
  examples,
  fillVaults,
  REFRESH_INTERVAL,
  rotate,
  SERVICE_ACCOUNT,
  type DemoNamespaces,
  type VaultContents,
} from './demo/examples.ts';
import { certificates, describeSynced, short } from './demo/show.ts';
import { check, numberedSteps, StepFailed } from './demo/steps.ts';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    entry: { type: 'string', default: 'dist' },
  },
});
const entry = args.entry === 'source' ? 'source' : 'dist';
const write = (line: string): void => void process.stdout.write(`${line}\n`);
// On a shared control plane (tests), names get a suffix so runs do not collide.
const suffix = args.kubeconfig ? `-${randomBytes(3).toString('hex')}` : '';
const namespaces: DemoNamespaces = {
  system: `kvsync-system${suffix}`,
  shop: `shop${suffix}`,
  team: `team-a${suffix}`,
};
const vaultNames = { shopVault: `shop-kv${suffix}`, teamVault: `team-a-kv${suffix}` };

async function demo(): Promise<void> {
  write('kvsync demo: Azure Key Vault secrets and certificates as Kubernetes Secrets');
  write('(a local control plane and Azure test doubles; values are never printed, only sizes)');
  const steps = numberedSteps(11, write);
  let stack: Stack | undefined;
  let kvsync: KvsyncProcess | undefined;
  try {
    stack = await steps.run(
      'Start a Kubernetes control plane, install the VaultSecret CRD, start the Entra ID and Key Vault doubles',
      async () => {
        const started = await startStack({
          kubeconfigPath: args.kubeconfig,
          log: (line) => steps.detail(line),
        });
        steps.detail(
          `API server ${started.info.server} (etcd, kube-apiserver, kube-controller-manager)`,
        );
        steps.detail(
          `Entra ID ${started.azure.authorityHost}, Key Vault https://*.${started.azure.vaultDnsSuffix}`,
        );
        return started;
      },
    );
    const { kc, azure } = stack;
    const running = stack;

    const contents = await steps.run('Fill two vaults', async () => {
      const filled = await fillVaults(
        azure,
        running.operatorClientId,
        vaultNames,
        namespaces,
        running.info.issuer,
      );
      steps.detail(
        `${vaultNames.shopVault}: secret db-password (${filled.dbPassword.length} bytes)`,
      );
      steps.detail(`${vaultNames.shopVault}: secret db-config, JSON {user, host, port}`);
      steps.detail(
        `${vaultNames.shopVault}: certificate web-tls, a chain of 3 uploaded root first (Key Vault keeps upload order)`,
      );
      steps.detail(`${vaultNames.teamVault}: secret api-key (${filled.apiKey.length} bytes)`);
      steps.detail(
        `kvsync's own identity may read ${vaultNames.shopVault}; team-a's app only ${vaultNames.teamVault}`,
      );
      return filled;
    });

    await steps.run(
      `Create namespaces ${namespaces.shop} and ${namespaces.team}, and team-a's identity`,
      async () => {
        await createNamespaces(kc, namespaces, contents.teamClientId);
        steps.detail(
          `ServiceAccount ${namespaces.team}/${SERVICE_ACCOUNT}, annotated with the client id of an Entra app`,
        );
        steps.detail(
          `that trusts tokens of system:serviceaccount:${namespaces.team}:${SERVICE_ACCOUNT} from ${running.info.issuer}`,
        );
      },
    );

    kvsync = await steps.run(
      `Start kvsync (${entry === 'dist' ? 'node dist/main.js' : 'node src/main.ts'}) as its own process`,
      async () => {
        const flags = [`--default-identity-namespaces=${namespaces.shop}`];
        const process = await running.startKvsync({
          name: 'demo',
          namespaces: [namespaces.system, namespaces.shop, namespaces.team],
          entry,
          args: flags,
        });
        steps.detail(
          `flags: --namespaces=${[namespaces.system, namespaces.shop, namespaces.team].join(',')} ${flags.join(' ')}`,
        );
        steps.detail(
          `only ${namespaces.shop} may use kvsync's own identity; metrics at ${process.metricsUrl}/metrics`,
        );
        const readyz = await process.waitForReadyz(/leader/);
        steps.detail(`/readyz: ${readyz}`);
        return process;
      },
    );
    const operator = kvsync;

    const list = examples(azure, vaultNames, namespaces);
    await steps.run(
      `Apply ${list.length} VaultSecrets (refreshInterval ${REFRESH_INTERVAL})`,
      async () => {
        for (const example of list) {
          await applyVaultSecret(kc, example.namespace, example.name, example.spec);
          steps.detail(`${example.namespace}/${example.name}: ${example.what}`);
        }
      },
    );

    await steps.run('Wait for each VaultSecret to report Ready', async () => {
      const started = performance.now();
      await Promise.all(
        list.map(async (example) => {
          await waitForReady(kc, example.namespace, example.name, example.expect, 60_000);
          steps.detail(
            `${example.namespace}/${example.name}: Ready=${example.expect.status} ${example.expect.reason} after ${seconds(performance.now() - started)}`,
          );
        }),
      );
    });

    await steps.run(
      'Show what was synced (keys, sizes, versions, expiry; never values)',
      async () => {
        for (const example of list) {
          const vs = await getVaultSecret(kc, example.namespace, example.name);
          const secret = await readSecret(kc, example.namespace, example.name);
          steps.detail(`${example.namespace}/${example.name}`);
          for (const line of describeSynced(vs, secret)) steps.detail(`  ${line}`);
        }
        await checkSecrets(running, contents);
        steps.detail(
          "checked: every value equals the vault's, and a TLS client accepts tls.crt + tls.key",
        );
        const borrowed = list.at(-1)!;
        check(
          !(await readSecret(kc, borrowed.namespace, borrowed.name)),
          `${borrowed.namespace}/${borrowed.name} must not get a Secret`,
        );
        // The printer columns, as a user would look; on a shared control plane -A shows others'.
        const kubectl = path.join(running.info.binDir, 'kubectl');
        if (running.ownsControlPlane && existsSync(kubectl)) {
          steps.detail('$ kubectl get vaultsecrets --all-namespaces');
          const table = await runTool(running.info, 'kubectl', [
            'get',
            'vaultsecrets',
            '--all-namespaces',
          ]);
          for (const line of table.trimEnd().split('\n')) steps.detail(`  ${line}`);
        }
      },
    );

    const before = {
      password: contents.shopVault.secret('db-password').version,
      certificate: contents.shopVault.secret('web-tls').version,
    };
    const rotatedAt = await steps.run('Rotate db-password and web-tls in the vault', async () => {
      await rotate(contents);
      const at = performance.now();
      steps.detail(
        `db-password: version ${short(before.password)} -> ${short(contents.shopVault.secret('db-password').version)}`,
      );
      steps.detail(
        `web-tls: version ${short(before.certificate)} -> ${short(contents.shopVault.secret('web-tls').version)} (new key, new chain)`,
      );
      return at;
    });

    await steps.run(
      'Watch the Secrets follow (kvsync sweeps the vault every refreshInterval)',
      async () => {
        const follow = async (name: string, matches: () => Promise<boolean>) => {
          await waitFor(async () => (await matches()) || undefined, {
            description: `Secret ${namespaces.shop}/${name} to hold the new version`,
            timeoutMs: 60_000,
            intervalMs: 200,
          });
          steps.detail(
            `${namespaces.shop}/${name} changed ${seconds(performance.now() - rotatedAt)} after the vault`,
          );
        };
        await Promise.all([
          follow('db-password', async () => {
            const data = decoded(await readSecret(kc, namespaces.shop, 'db-password'));
            return data.password === contents.dbPassword;
          }),
          follow('web-tls', async () => {
            const data = decoded(await readSecret(kc, namespaces.shop, 'web-tls'));
            return data['tls.crt'] === expectedTlsCrt(contents);
          }),
        ]);
        for (const name of ['db-password', 'web-tls']) {
          const vs = await waitFor(
            async () => {
              const current = await getVaultSecret(kc, namespaces.shop, name);
              const version = contents.shopVault.secret(name).version;
              return current.status?.objects?.some((o) => o.version === version) && current;
            },
            {
              description: `status of ${namespaces.shop}/${name} to name the new version`,
              timeoutMs: 30_000,
            },
          );
          const object = vs.status?.objects?.[0];
          steps.detail(
            `${namespaces.shop}/${name}: status names version ${short(object?.version)}, Ready ${vs.status?.conditions?.find((c) => c.type === 'Ready')?.reason}`,
          );
        }
        await checkSecrets(running, contents);
        steps.detail(
          'checked: new values in place, and a TLS client accepts the new certificate and key',
        );
      },
    );

    await steps.run("kvsync's metrics", async () => {
      const samples = parseMetrics(await operator.scrape()).samples;
      for (const line of metricLines(samples)) steps.detail(line);
      const rotations = sumSamples(samples, 'kvsync_secret_rotations_total');
      check(rotations >= 2, `kvsync_secret_rotations_total is ${rotations}, expected at least 2`);
      for (const vault of [vaultNames.shopVault, vaultNames.teamVault]) {
        const counters = azure.keyVault.counters;
        steps.detail(
          `${vault} saw ${counters.calls({ vault })} authenticated requests (${counters.calls({ vault, operation: 'getSecret' })} get, ${counters.calls({ vault, operation: 'listSecrets' })} list), ${counters.calls({ vault, status: 429 })} throttled`,
        );
      }
    });

    await steps.run('Shut down', async () => {
      const exit = await operator.stop();
      check(
        exit.code === 0,
        `kvsync exited with ${exit.signal ?? `code ${exit.code}`} after SIGTERM`,
      );
      steps.detail('kvsync stopped on SIGTERM (exit code 0)');
      await running.close();
      stack = undefined;
      steps.detail(
        running.ownsControlPlane
          ? 'doubles and control plane stopped, files removed'
          : 'doubles stopped; the control plane was not ours',
      );
    });
    write('\nDemo complete: every step happened.');
  } catch (error) {
    if (kvsync) {
      const output = (await kvsync.output()).trimEnd().split('\n').slice(-15);
      write(`\nkvsync's last log lines:\n${output.join('\n')}`);
    }
    throw error;
  } finally {
    await stack?.close();
  }
}

async function checkSecrets(stack: Stack, contents: VaultContents): Promise<void> {
  const { kc } = stack;
  const password = decoded(await readSecret(kc, namespaces.shop, 'db-password'));
  check(password.password === contents.dbPassword, 'db-password does not hold the vault value');
  const config = decoded(await readSecret(kc, namespaces.shop, 'db-config'));
  check(
    config.username === contents.dbConfig.user && config.host === contents.dbConfig.host,
    'db-config does not hold the JSON properties',
  );
  const apiKey = decoded(await readSecret(kc, namespaces.team, 'api-key'));
  check(apiKey['api-key'] === contents.apiKey, 'api-key does not hold the vault value');
  const tls = decoded(await readSecret(kc, namespaces.shop, 'web-tls'));
  check(tls['tls.crt'] === expectedTlsCrt(contents), 'tls.crt is not leaf then intermediate');
  check(tls['ca.crt'] === contents.chain.root.pem, 'ca.crt is not the root');
  check(certificates(tls['tls.crt']).length === 2, 'tls.crt should hold 2 certificates');
  const handshake = await tlsHandshake(
    { key: tls['tls.key']!, cert: tls['tls.crt'] },
    contents.chain.root.pem,
  );
  check(handshake.authorized, 'a TLS client did not accept tls.crt and tls.key');
}

function expectedTlsCrt(contents: VaultContents): string {
  return [contents.chain.leaf, ...contents.chain.intermediates].map((c) => c.pem).join('');
}

function metricLines(samples: readonly MetricSample[]): string[] {
  const sum = (name: string, labels: Record<string, string> = {}) =>
    sumSamples(samples, name, labels);
  const byLabel = (name: string, label: string) => {
    const totals = new Map<string, number>();
    for (const s of samples) {
      if (s.name !== name) continue;
      const key = s.labels[label] ?? '';
      totals.set(key, (totals.get(key) ?? 0) + s.value);
    }
    return [...totals].map(([key, value]) => `${key} ${value}`).join(', ');
  };
  const requests = samples
    .filter((s) => s.name === 'kvsync_vault_requests_total')
    .map(
      (s) => `${s.labels.vault?.split('.')[0]} ${s.labels.operation} ${s.labels.code}: ${s.value}`,
    );
  return [
    `kvsync_vault_requests_total: ${requests.join('; ')}`,
    `kvsync_vault_throttled_total: ${sum('kvsync_vault_throttled_total')}`,
    `kvsync_vault_sweeps_total: ${byLabel('kvsync_vault_sweeps_total', 'result')}`,
    `kvsync_secret_rotations_total: ${sum('kvsync_secret_rotations_total')}`,
    `kvsync_reconcile_total: ${byLabel('kvsync_reconcile_total', 'result')}`,
    `kvsync_kube_writes_total: ${byLabel('kvsync_kube_writes_total', 'resource')}`,
    `kvsync_identity_token_requests_total: ${byLabel('kvsync_identity_token_requests_total', 'kind')}`,
  ];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const started = performance.now();
demo().then(
  () => {
    write(`(${seconds(performance.now() - started)} in all)`);
    process.exit(0);
  },
  (error: unknown) => {
    const message = error instanceof StepFailed ? error.message : `demo failed: ${String(error)}`;
    process.stderr.write(`\n${message}\n`);
    process.exit(1);
  },
);
