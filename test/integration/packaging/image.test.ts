// The shipped container image, built from the real Dockerfile with podman on a locally built
// Node 24 base, and run through testcontainers over podman's Docker-compatible API the way the
// chart runs it: read-only root filesystem, uid 65532, the chart's flags, a CA bundle mounted and
// named as the chart's extraVolumeMounts and extraEnv put it, and the chart's ServiceAccount token
// as its only Kubernetes credential. Without a working podman the tests are
// skipped with a loud message naming why.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { serviceAccountSubject, startAzureDoubles } from '../../support/azure/index.ts';
import { applyVaultSecret, decoded, readSecret, waitForReady } from '../../support/kvsync.ts';
import { NODE_OPTIONS_OF_IMAGE } from '../../support/kvsync-process.ts';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigFrom,
  runTool,
  serviceAccountToken,
  waitFor,
} from '../../support/kube.ts';
import {
  buildKvsyncImage,
  containersConf,
  podmanUnavailableReason,
  startPodmanService,
  type ImageBuild,
  type PodmanService,
} from '../../support/podman.ts';
import {
  applyChartRbac,
  chartServiceAccountKubeConfig,
  helmTemplate,
  repoRoot,
  type ChartRbac,
} from './chart.ts';

const imageSecretValue = 'image-e2e-password-2b7d';
const info = inject('controlPlane');
const admin = kubeConfigFrom(info);
const unavailable = await podmanUnavailableReason();

/** testcontainers has no switch for a read-only root filesystem; the Docker API has. */
class KvsyncContainer extends GenericContainer {
  withReadOnlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }
}

/** The image run as the chart runs it: uid 65532, read-only root, host network (loopback only). */
interface ChartContainer {
  args: string[];
  env: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string }[];
}

function kvsyncContainer(
  engine: PodmanService,
  image: string,
  output: { text: string },
): KvsyncContainer {
  return new KvsyncContainer(image)
    .withLabels(engine.labels)
    .withUser('65532:65532')
    .withReadOnlyRootFilesystem()
    .withNetworkMode('host')
    .withLogConsumer((stream: Readable) => {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (output.text += chunk));
    });
}

async function podman(...args: string[]): Promise<string> {
  const env = { ...process.env, CONTAINERS_CONF: await containersConf() };
  return (await promisify(execFile)('podman', args, { env })).stdout;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

if (unavailable) {
  // eslint-disable-next-line no-console -- a skipped e2e must be impossible to miss
  console.warn(
    `\n*** SKIPPING the container image e2e (test/integration/packaging/image.test.ts): ${unavailable} ***\n`,
  );
  it.skip(`container image e2e: ${unavailable}`, () => {});
} else {
  describe('the shipped container image', () => {
    let build: ImageBuild;
    let engine: PodmanService | undefined;

    beforeAll(async () => {
      build = await buildKvsyncImage();
      // Measurements for the report; never asserted.
      process.stderr.write(
        `image: ${build.image} on ${build.baseImage}; base ${build.baseBuilt ? 'built' : 'cached'} ` +
          `in ${(build.baseMs / 1000).toFixed(0)} s, image built in ${(build.imageMs / 1000).toFixed(0)} s, ` +
          `${(build.sizeBytes / 1e6).toFixed(0)} MB\n`,
      );
      engine = await startPodmanService();
    }, 900_000);

    afterAll(async () => {
      await engine?.stop();
    });

    it('is built as a non-root image with production dependencies only', async () => {
      const output = { text: '' };
      // Inspect the image from inside: what a user's container actually holds.
      const script = `
        const fs = require('node:fs');
        const has = (p) => fs.existsSync('/app/node_modules/' + p);
        console.log(JSON.stringify({
          uid: process.getuid(), gid: process.getgid(), node: process.version,
          env: process.env.NODE_ENV,
          runtime: ['@kubernetes/client-node', '@azure/identity', 'pino', 'prom-client'].filter(has),
          dev: ['typescript', 'vitest', 'eslint', 'prettier', 'testcontainers'].filter(has),
          main: fs.existsSync('/app/dist/main.js'),
          src: fs.existsSync('/app/src'),
        }));`;
      const container = await kvsyncContainer(engine!, build.image, output)
        .withEntrypoint(['node', '-e', script])
        .withWaitStrategy(Wait.forOneShotStartup())
        .start();
      await container.stop().catch(() => undefined);
      const { node, ...facts } = JSON.parse(output.text.trim().split('\n').at(-1)!) as {
        node: string;
      };
      expect(node).toMatch(/^v24\./);
      expect(facts).toEqual({
        uid: 65532,
        gid: 65532,
        env: 'production',
        runtime: ['@kubernetes/client-node', '@azure/identity', 'pino', 'prom-client'],
        dev: [],
        main: true,
        src: false,
      });
    });

    it('runs read-only as uid 65532: --help prints the usage and exits 0', async () => {
      const output = { text: '' };
      // forOneShotStartup: start() succeeds only once the container has exited with code 0.
      const container = await kvsyncContainer(engine!, build.image, output)
        .withCommand(['--help'])
        .withWaitStrategy(Wait.forOneShotStartup())
        .start();
      await container.stop().catch(() => undefined);
      expect(output.text).toContain('Usage: kvsync [flags]');
      expect(output.text).toContain('--default-identity-namespaces');
    });

    it('with the chart flags and only the chart ServiceAccount token: healthy, leading, syncs a secret with its workload identity, and lets go of the Lease on SIGTERM', async () => {
      await runTool(info, 'kubectl', [
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=kvsync-test',
        '-f',
        path.join(repoRoot, 'crds'),
      ]);
      const namespace = await createTestNamespace(admin, 'image');
      let rbac: ChartRbac | undefined;
      let container: StartedTestContainer | undefined;
      const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-image-'));
      const output = { text: '' };
      const azure = await startAzureDoubles({ kubeIssuerCaFile: info.caFile });
      try {
        rbac = await applyChartRbac(info, namespace);
        const kc = await chartServiceAccountKubeConfig(info, rbac);
        // Readable by uid 65532 in the container; a throwaway token of a test cluster.
        await chmod(dir, 0o755);
        await writeFile(path.join(dir, 'config'), kc.exportConfig(), { mode: 0o644 });

        // kvsync's own workload identity, as the Azure Workload Identity webhook would project
        // it: a token of the chart's ServiceAccount, federated with an app that may read a vault.
        const app = azure.entra.registerApp({
          federatedCredentials: [
            {
              issuer: info.issuer,
              subject: serviceAccountSubject(namespace, rbac.serviceAccountName),
            },
          ],
        });
        const vault = azure.keyVault.createVault('image-e2e');
        vault.grant(app.clientId);
        vault.setSecret('db-password', imageSecretValue);
        await writeFile(
          path.join(dir, 'azure-identity-token'),
          await serviceAccountToken(
            admin,
            namespace,
            rbac.serviceAccountName,
            'api://AzureADTokenExchange',
          ),
          { mode: 0o644 },
        );
        // The doubles' CA comes in as docs/install.md says a corporate CA bundle does: a
        // volume, a mount and NODE_EXTRA_CA_CERTS, all from the chart's values.
        const caDir = path.join(dir, 'ca');
        await mkdir(caDir, { mode: 0o755 });
        await writeFile(path.join(caDir, 'ca.crt'), azure.caPem, { mode: 0o644 });

        // The container's arguments are the chart's, but for the ports: it shares the host's
        // network, so it listens on free loopback ports.
        const [metricsPort, healthPort] = [await freePort(), await freePort()];
        const deployment = parseAllDocuments(
          await helmTemplate(info, {
            release: rbac.release,
            namespace,
            values: {
              extraVolumes: [{ name: 'corporate-ca', configMap: { name: 'corporate-ca' } }],
              extraVolumeMounts: [
                { name: 'corporate-ca', mountPath: '/etc/kvsync/ca', readOnly: true },
              ],
              extraEnv: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/kvsync/ca/ca.crt' }],
            },
            extraArgs: ['--show-only', 'templates/deployment.yaml'],
          }),
        )[0]!.toJS() as { spec: { template: { spec: { containers: ChartContainer[] } } } };
        const chartContainer = deployment.spec.template.spec.containers[0]!;
        const caMount = chartContainer.volumeMounts.find((m) => m.name === 'corporate-ca')!;
        const caEnv = chartContainer.env.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')!;
        const args = chartContainer.args.map((arg) =>
          arg.startsWith('--metrics-address=')
            ? `--metrics-address=127.0.0.1:${metricsPort}`
            : arg.startsWith('--health-address=')
              ? `--health-address=127.0.0.1:${healthPort}`
              : arg,
        );
        args.push(`--vault-suffixes=${azure.vaultDnsSuffix}`);

        container = await kvsyncContainer(engine!, build.image, output)
          .withCommand(args)
          .withEnvironment({
            KUBECONFIG: '/var/run/kvsync/config',
            ...azure.processEnv(),
            NODE_EXTRA_CA_CERTS: caEnv.value!,
            AZURE_CLIENT_ID: app.clientId,
            AZURE_FEDERATED_TOKEN_FILE: '/var/run/kvsync/azure-identity-token',
            // What the chart's downward API provides.
            POD_NAME: 'kvsync-image-test',
            POD_NAMESPACE: namespace,
          })
          .withBindMounts([
            { source: dir, target: '/var/run/kvsync', mode: 'ro' },
            { source: caDir, target: caMount.mountPath, mode: 'ro' },
          ])
          // The chart's emptyDir at /tmp.
          .withTmpFs({ '/tmp': 'rw,size=16m' })
          .start();

        const health = `http://127.0.0.1:${healthPort}`;
        const get = async (url: string) => {
          const res = await fetch(url);
          return { status: res.status, body: await res.text() };
        };
        const failureContext = () => `\ncontainer output:\n${output.text.slice(-4000)}`;
        await waitFor(async () => (await get(`${health}/healthz`)).status === 200, {
          description: `/healthz of the container${failureContext()}`,
          timeoutMs: 60_000,
        });
        // Ready as leader with synced caches: the chart's RBAC let it list and watch
        // VaultSecrets and Secrets and take the Lease.
        const ready = await waitFor(
          async () => {
            const res = await get(`${health}/readyz`);
            return res.status === 200 && /leader/.test(res.body) && res.body;
          },
          { description: `/readyz (leader, caches synced)${failureContext()}`, timeoutMs: 60_000 },
        );
        expect(ready).toMatch(/leader, caches synced/);
        const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
        expect(metrics.body).toMatch(/^kvsync_leader 1$/m);

        // The shipped image syncs a secret end to end.
        await applyVaultSecret(admin, namespace, 'from-image', {
          vault: { url: azure.vaultUrl('image-e2e') },
          data: [{ key: 'password', secret: { name: 'db-password' } }],
        });
        await waitForReady(admin, namespace, 'from-image', { status: 'True' }, 60_000).catch(
          (error: unknown) => {
            throw new Error(`${(error as Error).message}${failureContext()}`);
          },
        );
        expect(decoded(await readSecret(admin, namespace, 'from-image'))).toEqual({
          password: imageSecretValue,
        });

        const leases = admin.makeApiClient(CoordinationV1Api);
        const lease = await leases.readNamespacedLease({ name: rbac.leaseName, namespace });
        expect(lease.spec?.holderIdentity).toContain('kvsync-image-test');

        // docker stop: SIGTERM to node (PID 1), which shuts down and frees the Lease at once.
        await container.stop({ timeout: 30_000 });
        container = undefined;
        const released = await leases.readNamespacedLease({ name: rbac.leaseName, namespace });
        expect(released.spec?.holderIdentity ?? '').toBe('');
        expect(output.text).not.toMatch(/"level":(50|60)/); // no error or fatal log lines
        expect(output.text).not.toContain(imageSecretValue);
      } finally {
        await container?.stop().catch(() => undefined);
        await rbac?.remove();
        await rm(dir, { recursive: true, force: true });
        await deleteTestNamespace(admin, namespace);
        await azure.close();
      }
    });

    it('carries OCI labels, a numeric user and the node entrypoint', async () => {
      const config = JSON.parse(
        await podman('image', 'inspect', '--format', '{{json .Config}}', build.image),
      ) as { User: string; Entrypoint: string[]; Labels: Record<string, string> };
      expect(config.User).toBe('65532:65532');
      expect(config.Entrypoint).toEqual([
        'node',
        ...NODE_OPTIONS_OF_IMAGE,
        '--import=./dist/runtime/slim-client-node.js',
        'dist/main.js',
      ]);
      expect(config.Labels).toMatchObject({
        'org.opencontainers.image.title': 'kvsync',
        'org.opencontainers.image.licenses': 'Apache-2.0',
        // Built FROM the BASE_IMAGE argument: the local Node 24 base here.
        'org.opencontainers.image.base.name': build.baseImage,
      });
      expect(config.Labels['org.opencontainers.image.version']).toMatch(/^\d+\.\d+\.\d+/);
      expect(config.Labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
    });
  });
}
