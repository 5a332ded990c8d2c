// Podman as the container engine for tests: builds kvsync's image with scripts/build-image.sh and
// serves podman's Docker-compatible API on a private socket for testcontainers (Ryuk disabled:
// podman has no Ryuk image here, and every container is stopped by the test that started it).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from './kube.ts';
import { startSupervised, type Supervised } from './processes.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const buildScript = path.join(root, 'scripts/build-image.sh');

/** What scripts/build-image.sh uses: its containers.conf and the base image's name. */
async function buildEnv(): Promise<{ containersConf: string; baseImage: string }> {
  const { stdout } = await exec('bash', [buildScript, '--print-env']);
  const value = (name: string) =>
    new RegExp(`^${name}=(.+)$`, 'm').exec(stdout)?.[1] ??
    failWith(`build-image.sh --print-env printed no ${name}: ${stdout}`);
  return { containersConf: value('CONTAINERS_CONF'), baseImage: value('BASE_IMAGE') };
}

/** The containers.conf scripts/build-image.sh writes (runc, cgroupfs, no rlimits, host network). */
export async function containersConf(): Promise<string> {
  return (await buildEnv()).containersConf;
}

/**
 * Why container tests cannot run on this machine, or undefined when they can. Callers skip with
 * this reason, loudly.
 */
export async function podmanUnavailableReason(): Promise<string | undefined> {
  try {
    await exec('podman', ['--version']);
  } catch {
    return 'podman is not installed (bash scripts/build-image.sh --ensure-tools installs it with apt-get)';
  }
  const { containersConf, baseImage } = await buildEnv();
  const env = { ...process.env, CONTAINERS_CONF: containersConf };
  try {
    await exec('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { env });
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    return `podman does not work here: ${(stderr || message).trim().split('\n')[0]}`;
  }
  const cached = await exec('podman', ['image', 'exists', baseImage], { env }).then(
    () => true,
    () => false,
  );
  if (!cached && process.getuid?.() !== 0) {
    return `the base image ${baseImage} is not built and building it needs root (debootstrap): run bash scripts/build-image.sh --base-only as root once`;
  }
  return undefined;
}

export interface ImageBuild {
  /** e.g. localhost/kvsync:dev */
  image: string;
  /** The Node base image it was built on. */
  baseImage: string;
  /** Whether the base image had to be built (cold) this time. */
  baseBuilt: boolean;
  /** Wall-clock times for reports; never assert on them. */
  baseMs: number;
  imageMs: number;
  /** Image size as podman reports it. */
  sizeBytes: number;
}

/** Builds (or reuses) the base image, then the real Dockerfile. Minutes when cold. */
export async function buildKvsyncImage(tag = 'localhost/kvsync:dev'): Promise<ImageBuild> {
  const started = performance.now();
  const base = await runBuild(['--base-only']);
  const baseMs = performance.now() - started;
  const image = await runBuild(['--tag', tag]);
  const imageMs = performance.now() - started - baseMs;
  const env = { ...process.env, CONTAINERS_CONF: await containersConf() };
  const { stdout } = await exec('podman', ['image', 'inspect', '--format', '{{.Size}}', tag], {
    env,
  });
  return {
    image: image.last,
    baseImage: base.last,
    baseBuilt: /built base image/.test(base.log),
    baseMs,
    imageMs,
    sizeBytes: Number(stdout.trim()),
  };
}

async function runBuild(args: string[]): Promise<{ last: string; log: string }> {
  // npm and Node for fetching the base's Node binary: the ones running this test.
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  };
  const child = spawn('bash', [buildScript, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  const last = out.trim().split('\n').at(-1);
  if (code !== 0 || !last) {
    throw new Error(
      `scripts/build-image.sh ${args.join(' ')} failed (exit ${code}):\n${log.slice(-4000)}`,
    );
  }
  return { last, log };
}

export interface PodmanService {
  /** `unix:///…/podman.sock`, also set as $DOCKER_HOST for testcontainers. */
  dockerHost: string;
  /**
   * Put these on every container (testcontainers' withLabels): stop() removes whatever still
   * carries them, e.g. a container whose start failed (Ryuk would have, but it is disabled).
   */
  labels: Record<string, string>;
  /** Stops the service and restores the environment; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `podman system service` on a socket in a fresh directory, supervised so it cannot outlive
 * the test process, and points testcontainers at it (DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED).
 */
export async function startPodmanService(): Promise<PodmanService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-podman-'));
  const socket = path.join(dir, 'podman.sock');
  const saved = pick(process.env, [
    'DOCKER_HOST',
    'TESTCONTAINERS_RYUK_DISABLED',
    'CONTAINERS_CONF',
  ]);
  // The supervisor inherits our environment: podman must read this machine's containers.conf.
  process.env.CONTAINERS_CONF = await containersConf();
  let service: Supervised | undefined;
  try {
    service = await startSupervised({
      name: 'podman',
      command: 'podman',
      // --time=0: no idle exit; the supervisor stops it with us.
      args: ['system', 'service', '--time=0', `unix://${socket}`],
      logPath: path.join(dir, 'podman-service.log'),
    });
    let exited = false;
    void service.exited.then(() => (exited = true));
    await waitFor(
      async () => {
        if (exited) {
          throw new Error(
            `podman system service exited; see ${path.join(dir, 'podman-service.log')}`,
          );
        }
        return (await ping(socket)) === 'OK';
      },
      { description: `podman API on ${socket}`, timeoutMs: 30_000 },
    );
  } catch (err) {
    await service?.stop();
    restore(saved);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const dockerHost = `unix://${socket}`;
  const labels = { 'io.kvsync.test-run': path.basename(dir) };
  process.env.DOCKER_HOST = dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  let stopped: Promise<void> | undefined;
  return {
    dockerHost,
    labels,
    stop: () =>
      (stopped ??= (async () => {
        const leftovers = await exec('podman', [
          'ps',
          '--all',
          '--quiet',
          '--filter',
          `label=io.kvsync.test-run=${labels['io.kvsync.test-run']}`,
        ]).then(
          ({ stdout }) => stdout.split('\n').filter(Boolean),
          () => [],
        );
        if (leftovers.length > 0) await exec('podman', ['rm', '--force', ...leftovers]);
        await service.stop();
        restore(saved);
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

function ping(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('ping timed out')));
    req.on('error', reject);
    req.end();
  });
}

function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((k) => [k, env[k]]));
}

function restore(saved: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

function failWith(message: string): never {
  throw new Error(message);
}
