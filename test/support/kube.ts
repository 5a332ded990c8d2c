// Small helpers for tests that talk to the control plane from global-setup.ts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { toolPath, type ControlPlaneInfo } from './control-plane.ts';

/** A client-node KubeConfig for the admin user. */
export function kubeConfigFrom(info: Pick<ControlPlaneInfo, 'kubeconfigPath'>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  return kc;
}

/** A KubeConfig that authenticates with a bearer token only, e.g. a ServiceAccount's. */
export function kubeConfigForToken(
  info: Pick<ControlPlaneInfo, 'server' | 'caFile'>,
  token: string,
): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'kvsync-test', server: info.server, caFile: info.caFile, skipTLSVerify: false },
    ],
    users: [{ name: 'token', token }],
    contexts: [{ name: 'kvsync-test', cluster: 'kvsync-test', user: 'token' }],
    currentContext: 'kvsync-test',
  });
  return kc;
}

/**
 * Creates a namespace named `<prefix>-<random>` and returns its name. The caller deletes it
 * (deleteTestNamespace) when done.
 */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new Error(`namespace prefix ${JSON.stringify(prefix)} does not make a valid DNS label`);
  }
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { 'kvsync.io/test': 'true' } } },
  });
  return name;
}

/** Starts deleting a test namespace (the namespace controller finishes it); ignores absence. */
export async function deleteTestNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch((err: unknown) => {
      if ((err as { code?: number }).code !== 404) throw err;
    });
}

export interface WaitOptions {
  /** What is awaited, in words; it names the failure. */
  description: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `fn` until it returns something other than undefined, null or false, and returns that.
 * A throw counts as "not yet"; the last error is reported if time runs out.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { description, timeoutMs = 30_000, intervalMs = 100 }: WaitOptions,
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause =
        lastError === undefined
          ? ''
          : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A ServiceAccount token from the TokenRequest API (what kubelet projects into pods). */
export async function serviceAccountToken(
  kc: KubeConfig,
  namespace: string,
  serviceAccount: string,
  audience: string,
  expirationSeconds = 3600,
): Promise<string> {
  const response = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [audience], expirationSeconds } },
  });
  return (
    response.status?.token ??
    failWith(`TokenRequest for ${namespace}/${serviceAccount} returned no token`)
  );
}

/**
 * Runs a CLI from the bin directory (kubectl, helm) against the cluster, falling back to PATH.
 * Resolves with stdout; rejects with stderr in the message.
 */
export async function runTool(
  info: Pick<ControlPlaneInfo, 'binDir' | 'kubeconfigPath'>,
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(toolPath(info.binDir, name), [...args], {
      env: { ...process.env, KUBECONFIG: info.kubeconfigPath, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${stderr?.trim() || message}`, {
      cause: err,
    });
  }
}

function failWith(message: string): never {
  throw new Error(message);
}
