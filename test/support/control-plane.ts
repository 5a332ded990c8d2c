// A real Kubernetes control plane for tests, demos and benchmarks: etcd, kube-apiserver and
// kube-controller-manager from the cached build (scripts/build-controlplane.sh), on free loopback
// ports in a temporary directory. Flags follow controller-runtime's envtest
// (pkg/internal/testing/controlplane), plus what envtest leaves out: a controller manager for
// garbage collection and namespace deletion, and issuer discovery open to unauthenticated callers.
// Optionally an audit log of writes (who wrote which Secret, status, Event or Lease, and when), and
// components that a test stops and starts again on the same ports (a private control plane only:
// the shared one must stay up for every other test file).
import { spawn, execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { describeExit, killQuietly, startSupervised, type Supervised } from './processes.ts';

/** What tests need to reach the cluster; serialisable so vitest can `provide` it. */
export interface ControlPlaneInfo {
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** PEM of the CA that signed the API server's serving certificate. */
  caFile: string;
  /** Service-account token issuer; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Directory holding kube-apiserver, kube-controller-manager, etcd, helm (and maybe kubectl). */
  binDir: string;
  /** JSON lines of audit events (see `audit` in StartOptions); absent when auditing is off. */
  auditLogPath?: string;
}

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';

export interface ControlPlaneProcess {
  name: string;
  pid: number;
  /** The Node supervisor that stops the server when we go away (see processes.ts). */
  supervisorPid: number;
  logPath: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Temporary directory with certificates, kubeconfigs, etcd data and logs. */
  dir: string;
  /** etcd's client URL, e.g. for compacting its history (`compactEtcd`). */
  etcd: string;
  /** The running processes (new pids after a restart). */
  readonly processes: readonly ControlPlaneProcess[];
  /** How long start-up took, for reports; never assert on it. */
  startupMs: number;
  /** Resolves with a description if a component dies before stop() was called (not by stopComponent). */
  crashed: Promise<string>;
  /** Stops one component (SIGTERM, as a node drain would), keeping its data and ports. */
  stopComponent: (name: ComponentName) => Promise<void>;
  /** Starts a stopped component again with the same flags and waits until it is ready. */
  startComponent: (name: ComponentName) => Promise<void>;
  /** Stops everything (controller manager, API server, etcd) and removes `dir` if we made it. */
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** Default: $KVSYNC_BIN_DIR, else the output of scripts/build-controlplane.sh. */
  binDir?: string;
  /** Default: a fresh temporary directory, removed on stop(). A given directory is kept. */
  dir?: string;
  /** Progress messages (one line each). */
  log?: (message: string) => void;
  /**
   * Runs once the API server is ready and before the controller manager starts, e.g. to install
   * CRDs: the garbage collector discovers resources at start and then only every 30 s, so owners
   * of a kind created later are not collected for up to half a minute.
   */
  beforeControllers?: (info: ControlPlaneInfo) => Promise<void>;
  /**
   * Write an audit log of writes to Secrets, Events, VaultSecrets (and their status) and Leases at
   * the Metadata level (never a value), to `auditLogPath`. Cheap: reads are not logged.
   */
  audit?: boolean;
}

const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
const COMPONENTS: readonly string[] = ['etcd', 'kube-apiserver', 'kube-controller-manager'];
const AUDIT_POLICY_FILE = 'audit-policy.yaml';
const READY_TIMEOUT_MS = 90_000;
const ATTEMPTS = 3;

export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const binDir = await resolveBinDir(options.binDir);
  for (let attempt = 1; ; attempt++) {
    const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'kvsync-cp-')));
    try {
      return await launch({
        binDir,
        dir,
        removeDirOnStop: !options.dir,
        log,
        started,
        beforeControllers: options.beforeControllers,
        audit: options.audit ?? false,
      });
    } catch (err) {
      // Free ports are picked before the servers bind them; another process can win the race.
      if (!(err instanceof PortTakenError) || options.dir || attempt === ATTEMPTS) throw err;
      log(`${err.message}; retrying on other ports`);
      await rm(dir, { recursive: true, force: true });
    }
  }
}

class PortTakenError extends Error {}

interface LaunchOptions {
  binDir: string;
  dir: string;
  removeDirOnStop: boolean;
  log: (message: string) => void;
  started: number;
  beforeControllers: StartOptions['beforeControllers'];
  audit: boolean;
}

async function launch({
  binDir,
  dir,
  removeDirOnStop,
  log,
  started,
  beforeControllers,
  audit,
}: LaunchOptions): Promise<ControlPlane> {
  const since = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const processes: Supervised[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (removeDir: boolean) => {
    stopping ??= (async () => {
      // Reverse start order: the controller manager and API server need their backends to the end.
      for (const p of [...processes].reverse()) await p.stop();
      // A server still flushing its last files can make one attempt fail with ENOTEMPTY.
      if (removeDir)
        await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      untrack(entry);
    })();
    return stopping;
  };
  const entry: Running = {
    processes,
    ownedDir: removeDirOnStop ? dir : undefined,
    stop: () => stopAll(removeDirOnStop),
  };
  track(entry);
  /** How to start each component again, and how to tell it is ready. */
  const components = new Map<ComponentName, { args: string[]; ready: () => Promise<boolean> }>();
  const stoppedOnPurpose = new Set<Supervised>();
  const start = async (name: ComponentName, args: string[], ready: () => Promise<boolean>) => {
    components.set(name, { args, ready });
    const logPath = path.join(dir, `${name}.log`);
    processes.push(
      await startSupervised({ name, command: path.join(binDir, name), args, logPath }),
    );
    // Start order is stop order reversed, also after a restart.
    processes.sort((a, b) => COMPONENTS.indexOf(a.name) - COMPONENTS.indexOf(b.name));
  };
  const untilReady = (what: string, check: () => Promise<boolean>) =>
    pollUntil(what, check, processes).then(() => log(`${what} (${since()})`));
  let reportCrash: (message: string) => void = () => {};
  const crashed = new Promise<string>((resolve) => (reportCrash = resolve));
  const watchForCrash = (p: Supervised): void =>
    void p.exited.then((exit) => {
      if (!stopping && !stoppedOnPurpose.has(p))
        reportCrash(`${p.name} exited (${describeExit(exit)}); see ${p.logPath}`);
    });
  const stopComponent = async (name: ComponentName): Promise<void> => {
    const p = processes.find((candidate) => candidate.name === name);
    if (!p) throw new Error(`${name} is not running`);
    stoppedOnPurpose.add(p);
    processes.splice(processes.indexOf(p), 1);
    await p.stop();
  };
  const startComponent = async (name: ComponentName): Promise<void> => {
    const component = components.get(name);
    if (!component || processes.some((p) => p.name === name)) {
      throw new Error(`${name} is running or was never started`);
    }
    await start(name, component.args, component.ready);
    watchForCrash(processes.find((p) => p.name === name)!);
    await untilReady(`${name} ready again`, component.ready);
  };

  try {
    const [etcdClient, etcdPeer, apiPort, kcmPort] = (await freePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    const server = `https://127.0.0.1:${apiPort}`;
    const etcd = `http://127.0.0.1:${etcdClient}`;
    const pki = await createPki(path.join(dir, 'pki'));
    const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
    const kcmKubeconfigPath = path.join(dir, 'kube-controller-manager.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(server, pki.ca, pki.admin, 'kvsync-admin'), {
      mode: 0o600,
    });
    await writeFile(
      kcmKubeconfigPath,
      kubeconfig(server, pki.ca, pki.kcm, 'system:kube-controller-manager'),
      {
        mode: 0o600,
      },
    );
    const admin: Tls = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };

    const etcdHealthy = async () => {
      const res = await fetch(`${etcd}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    };
    await start('etcd', etcdArgs(dir, etcd, `http://127.0.0.1:${etcdPeer}`), etcdHealthy);
    await untilReady('etcd healthy', etcdHealthy);

    const auditLogPath = audit ? await writeAuditPolicy(dir) : undefined;
    const apiServerReady = async () =>
      (await httpsRequest(`${server}/readyz`, admin)).status === 200;
    await start(
      'kube-apiserver',
      apiServerArgs(dir, etcd, apiPort, server, pki, auditLogPath),
      apiServerReady,
    );
    await untilReady('kube-apiserver ready', apiServerReady);

    // Let verifiers outside the cluster (the Entra ID test double) read discovery and JWKS, as an
    // AKS OIDC issuer allows; by default only authenticated callers may.
    const clusterRoleBindings = `${server}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`;
    const binding = await httpsRequest(clusterRoleBindings, admin, {
      method: 'POST',
      body: discoveryBinding(),
    });
    if (binding.status !== 201) {
      throw new Error(
        `could not open issuer discovery to anonymous callers: ${binding.status} ${binding.body}`,
      );
    }

    const info: ControlPlaneInfo = {
      kubeconfigPath,
      server,
      caFile: pki.ca.certFile,
      issuer: server,
      binDir,
      ...(auditLogPath ? { auditLogPath } : {}),
    };
    await beforeControllers?.(info);
    const controllerManagerHealthy = async () => {
      const res = await httpsRequest(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true });
      return res.status === 200;
    };
    await start(
      'kube-controller-manager',
      controllerManagerArgs(dir, kcmKubeconfigPath, kcmPort),
      controllerManagerHealthy,
    );
    await Promise.all([
      untilReady('kube-controller-manager healthy', controllerManagerHealthy),
      // Created by the serviceaccount controller: proves the controllers run, not just the server.
      untilReady('default ServiceAccount created', async () => {
        const res = await httpsRequest(
          `${server}/api/v1/namespaces/default/serviceaccounts/default`,
          admin,
        );
        return res.status === 200;
      }),
      untilReady('issuer discovery open to anonymous callers', async () => {
        const res = await httpsRequest(`${server}/openid/v1/jwks`, { ca: pki.ca.cert });
        return res.status === 200;
      }),
    ]);

    for (const p of processes) watchForCrash(p);
    log(`control plane ready at ${server} in ${since()}`);
    return {
      ...info,
      dir,
      etcd,
      get processes() {
        return processes.map(({ name, pid, supervisorPid, logPath }) => ({
          name,
          pid,
          supervisorPid,
          logPath,
        }));
      },
      startupMs: Math.round(performance.now() - started),
      crashed,
      stopComponent,
      startComponent,
      stop: entry.stop,
    };
  } catch (err) {
    await stopAll(false); // keep the logs
    const logs = await Promise.all(
      processes.map(async (p) => readFile(p.logPath, 'utf8').catch(() => '')),
    );
    const message = `control plane failed to start: ${(err as Error).message}`;
    if (logs.some((text) => text.includes('address already in use')))
      throw new PortTakenError(message);
    throw new Error(`${message}\n${logTails(processes, logs)}`, { cause: err });
  }
}

function etcdArgs(dir: string, clientUrl: string, peerUrl: string): string[] {
  return [
    '--name=default',
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    '--initial-cluster-state=new',
    // Test data is disposable, and fsync is most of etcd's latency on slow disks.
    '--unsafe-no-fsync=true',
  ];
}

function apiServerArgs(
  dir: string,
  etcd: string,
  port: number,
  server: string,
  pki: Pki,
  auditLogPath: string | undefined,
): string[] {
  const audit = auditLogPath
    ? [
        `--audit-policy-file=${path.join(dir, AUDIT_POLICY_FILE)}`,
        `--audit-log-path=${auditLogPath}`,
        '--audit-log-format=json',
        // Each event is written before the request returns, so a test reads every write it caused.
        '--audit-log-mode=blocking',
      ]
    : [];
  return [
    ...audit,
    `--etcd-servers=${etcd}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'kube-apiserver')}`,
    `--tls-cert-file=${pki.serving.certFile}`,
    `--tls-private-key-file=${pki.serving.keyFile}`,
    `--client-ca-file=${pki.ca.certFile}`,
    '--authorization-mode=RBAC',
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--allow-privileged=true',
    // The issuer is the API server itself, so its discovery document and JWKS are real and
    // reachable; --api-audiences defaults to the issuer.
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${pki.serviceAccount.publicKeyFile}`,
    `--service-account-signing-key-file=${pki.serviceAccount.privateKeyFile}`,
    // No endpoints for the `kubernetes` Service: a loopback address is not a valid endpoint and
    // the default lease reconciler would log errors forever.
    '--endpoint-reconciler-type=none',
  ];
}

/** Writes of the resources kvsync touches, at the Metadata level (no bodies, so no values). */
async function writeAuditPolicy(dir: string): Promise<string> {
  const writes = ['create', 'update', 'patch', 'delete', 'deletecollection'];
  const policy = {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      {
        level: 'Metadata',
        verbs: writes,
        resources: [
          { group: '', resources: ['secrets', 'events'] },
          { group: 'kvsync.io', resources: ['vaultsecrets', 'vaultsecrets/status'] },
          { group: 'coordination.k8s.io', resources: ['leases'] },
        ],
      },
      { level: 'None' },
    ],
  };
  await writeFile(path.join(dir, AUDIT_POLICY_FILE), stringify(policy));
  return path.join(dir, 'audit.log');
}

function controllerManagerArgs(dir: string, kubeconfigPath: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'kube-controller-manager')}`,
    '--leader-elect=false',
    // Only what tests rely on: ownerReference garbage collection, namespace deletion, the
    // `default` ServiceAccount per namespace, and filling the aggregated admin/edit/view roles.
    '--controllers=garbagecollector,namespace,serviceaccount,clusterrole-aggregation',
    // Each controller acts as its own ServiceAccount (via TokenRequest) with the bootstrap RBAC
    // roles a real cluster gives it, rather than as one superuser.
    '--use-service-account-credentials=true',
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
  ];
}

/**
 * Writes a key straight to etcd and compacts its history up to it (through etcd's JSON gateway),
 * as the API server's periodic compaction would. With the API server stopped meanwhile, every
 * watch resumed from an older resourceVersion afterwards ends with 410 Gone.
 */
export async function compactEtcd(etcd: string): Promise<void> {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { header?: { revision?: string } };
  };
  const put = await post('/v3/kv/put', {
    key: b64('/kvsync-test/compaction'),
    value: b64(new Date().toISOString()),
  });
  const revision = put.header?.revision;
  if (!revision) throw new Error('etcd did not say which revision the write created');
  await post('/v3/kv/compaction', { revision, physical: true });
}

/** The bin directory: the option, $KVSYNC_BIN_DIR, or the (cached) build's output. */
export async function resolveBinDir(binDir?: string): Promise<string> {
  const dir = binDir ?? process.env.KVSYNC_BIN_DIR ?? (await buildControlPlane());
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
    if (!existsSync(path.join(dir, name))) throw new Error(`${name} not found in ${dir}`);
  }
  return dir;
}

/** A tool from the bin directory if it is there, else the name to look up on PATH. */
export function toolPath(binDir: string, name: string): string {
  const candidate = path.join(binDir, name);
  return existsSync(candidate) ? candidate : name;
}

async function buildControlPlane(): Promise<string> {
  const script = fileURLToPath(new URL('../../scripts/build-controlplane.sh', import.meta.url));
  // stderr is the build's progress (a cold build takes a long while); stdout ends with the dir.
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  const dir = out.trim().split('\n').at(-1);
  if (code !== 0 || !dir)
    throw new Error(`scripts/build-controlplane.sh failed (exit code ${code})`);
  return dir;
}

// --- process bookkeeping: nothing outlives us --------------------------------------------------

interface Running {
  processes: readonly Supervised[];
  /** Removed on stop and on exit. */
  ownedDir: string | undefined;
  stop: () => Promise<void>;
}

const running = new Set<Running>();
const signalHandlers = new Map<NodeJS.Signals, () => void>();
let stoppingOnSignal = false;

function onExit(): void {
  // The process is exiting without stop() (e.g. vitest's Ctrl-C handler calls process.exit), so
  // only synchronous work happens: kill the servers outright and remove their directory.
  for (const { processes, ownedDir } of running) {
    for (const p of processes) killQuietly(p.pid, 'SIGKILL');
    if (ownedDir) rmSync(ownedDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function track(entry: Running): void {
  if (running.size === 0) {
    process.on('exit', onExit);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => {
        // Listening replaced the default action (exit). Restore it afterwards unless someone
        // else, e.g. a CLI or vitest, handles the signal and decides when to exit. The exit
        // handler stays registered until each stop() is done, in case they exit sooner.
        const alone = process.listenerCount(signal) === 1;
        if (alone && stoppingOnSignal) process.exit(128 + osConstants.signals[signal]);
        stoppingOnSignal = true;
        void Promise.all([...running].map((cp) => cp.stop())).finally(() => {
          if (alone) process.kill(process.pid, signal);
        });
      };
      signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
  }
  running.add(entry);
}

function untrack(entry: Running): void {
  running.delete(entry);
  if (running.size === 0) removeProcessHooks();
}

function removeProcessHooks(): void {
  running.clear();
  stoppingOnSignal = false;
  process.removeListener('exit', onExit);
  for (const [signal, handler] of signalHandlers) process.removeListener(signal, handler);
  signalHandlers.clear();
}

function logTails(processes: readonly Supervised[], logs: readonly string[]): string {
  return processes
    .map((p, i) => {
      const tail = (logs[i] ?? '').trimEnd().split('\n').slice(-15).join('\n');
      return `--- ${p.name}: ${p.logPath} (last lines)\n${tail}`;
    })
    .join('\n');
}

async function pollUntil(
  what: string,
  check: () => Promise<boolean>,
  processes: readonly Supervised[],
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let died: string | undefined;
  for (const p of processes)
    void p.exited.then((exit) => (died ??= `${p.name} exited (${describeExit(exit)})`));
  for (;;) {
    if (died) throw new Error(`${died} while waiting for: ${what}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${READY_TIMEOUT_MS / 1000} s waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function freePorts(count: number): Promise<number[]> {
  // Hold all listeners at once so the ports differ; they are free again when we return.
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

// --- HTTPS with client certificates -------------------------------------------------------------

interface Tls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Only for loopback health probes of self-signed component endpoints. */
  insecure?: boolean;
}

function httpsRequest(
  url: string,
  tls: Tls,
  init: { method?: string; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: tls.insecure !== true,
        agent: false,
        timeout: 5_000,
        headers: init.body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

function discoveryBinding(): string {
  return JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kvsync-test:service-account-issuer-discovery' },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'system:service-account-issuer-discovery',
    },
    subjects: [
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' },
    ],
  });
}

// --- certificates and keys ----------------------------------------------------------------------

interface KeyPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

interface Pki {
  ca: KeyPair;
  serving: KeyPair;
  admin: KeyPair;
  kcm: KeyPair;
  serviceAccount: { publicKeyFile: string; privateKeyFile: string };
}

const execFileAsync = promisify(execFile);

/** One CA for serving and client certificates (openssl CLI), and an RSA key for tokens (RS256, as AKS). */
async function createPki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const issue = async (
    name: string,
    subject: string,
    extensions: string[],
    signer?: KeyPair,
  ): Promise<KeyPair> => {
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    const signing = signer ? ['-CA', signer.certFile, '-CAkey', signer.keyFile] : [];
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-new',
      '-noenc',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      subject,
      '-days',
      '365',
      ...signing,
      ...extensions.flatMap((e) => ['-addext', e]),
    ]);
    return {
      cert: await readFile(certFile, 'utf8'),
      key: await readFile(keyFile, 'utf8'),
      certFile,
      keyFile,
    };
  };
  const client = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ];

  const [ca, serviceAccount] = await Promise.all([
    issue('ca', '/CN=kvsync-test-ca', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]),
    createServiceAccountKey(dir),
  ]);
  const [serving, admin, kcm] = await Promise.all([
    issue(
      'kube-apiserver',
      '/CN=kube-apiserver',
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      ca,
    ),
    // Group system:masters is bound to cluster-admin by the bootstrap RBAC policy.
    issue('admin', '/O=system:masters/CN=kvsync-admin', client, ca),
    // The user the bootstrap RBAC policy gives the controller manager's permissions to.
    issue('kube-controller-manager', '/CN=system:kube-controller-manager', client, ca),
  ]);
  return { ca, serving, admin, kcm, serviceAccount };
}

async function createServiceAccountKey(dir: string): Promise<Pki['serviceAccount']> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const publicKeyFile = path.join(dir, 'service-account.pub');
  const privateKeyFile = path.join(dir, 'service-account.key');
  await writeFile(publicKeyFile, publicKey);
  await writeFile(privateKeyFile, privateKey, { mode: 0o600 });
  return { publicKeyFile, privateKeyFile };
}

function kubeconfig(server: string, ca: KeyPair, user: KeyPair, userName: string): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'kvsync-test', cluster: { server, 'certificate-authority-data': b64(ca.cert) } },
    ],
    users: [
      {
        name: userName,
        user: { 'client-certificate-data': b64(user.cert), 'client-key-data': b64(user.key) },
      },
    ],
    contexts: [{ name: 'kvsync-test', context: { cluster: 'kvsync-test', user: userName } }],
    'current-context': 'kvsync-test',
  });
}
