// The local stack the benchmark and the demo run on: the real control plane (or one that is
// already running, given its admin kubeconfig), kvsync's CRDs, the Key Vault and Entra ID doubles,
// an app registration kvsync runs as (client secret in its environment, as on a cluster without
// workload identity) and kvsync itself as a separate process. Everything is stopped by close().
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { startAzureDoubles, type AzureDoubles } from '../test/support/azure/index.ts';
import { startControlPlane, type ControlPlaneInfo } from '../test/support/control-plane.ts';
import { installCrds } from '../test/support/crds.ts';
import { kubeConfigFrom } from '../test/support/kube.ts';
import {
  startKvsyncProcess,
  type KvsyncProcess,
  type KvsyncProcessOptions,
} from '../test/support/kvsync-process.ts';

export interface StackOptions {
  /** An admin kubeconfig of a running test control plane; absent: start one. */
  readonly kubeconfigPath?: string | undefined;
  /** Progress lines of the control plane's start. */
  readonly log?: (line: string) => void;
}

export interface KvsyncStart {
  readonly name: string;
  /** Namespaces kvsync watches (empty: all); its Lease lives in the first unless given. */
  readonly namespaces: readonly string[];
  readonly leaseNamespace?: string;
  readonly entry: 'dist' | 'source';
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Keep kvsync's log here instead of a temporary directory. */
  readonly dir?: string;
}

export interface Stack {
  readonly info: ControlPlaneInfo;
  readonly kc: KubeConfig;
  readonly azure: AzureDoubles;
  /** Whether this stack started the control plane (and will stop it). */
  readonly ownsControlPlane: boolean;
  /** How long the control plane took to start (0 when it was already running). */
  readonly controlPlaneStartupMs: number;
  /** kvsync's own identity: grant it on the vaults it should read with the default identity. */
  readonly operatorClientId: string;
  startKvsync(start: KvsyncStart): Promise<KvsyncProcess>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    let info: ControlPlaneInfo;
    let controlPlaneStartupMs = 0;
    if (options.kubeconfigPath) {
      const existing = await describeRunning(options.kubeconfigPath);
      info = existing.info;
      closers.push(existing.cleanUp);
      await installCrds(kubeConfigFrom(info));
    } else {
      const cp = await startControlPlane({
        log: options.log,
        // Before the garbage collector starts, so it knows VaultSecrets as owners at once.
        beforeControllers: async (started) => installCrds(kubeConfigFrom(started)),
      });
      closers.push(() => cp.stop());
      info = cp;
      controlPlaneStartupMs = cp.startupMs;
    }
    const kc = kubeConfigFrom(info);
    const azure = await startAzureDoubles({ kubeIssuerCaFile: info.caFile });
    closers.push(() => azure.close());
    // Random, so no name, id or log line can contain a piece of it.
    const clientSecret = randomBytes(24).toString('base64url');
    const operatorApp = azure.entra.registerApp({ clientSecret });
    const processes: KvsyncProcess[] = [];
    closers.push(async () => {
      await Promise.all(processes.map((p) => p.close()));
    });
    return {
      info,
      kc,
      azure,
      ownsControlPlane: !options.kubeconfigPath,
      controlPlaneStartupMs,
      operatorClientId: operatorApp.clientId,
      async startKvsync(start) {
        const leaseNamespace = start.leaseNamespace ?? start.namespaces[0];
        if (!leaseNamespace) throw new Error('startKvsync: at least one namespace is needed');
        const processOptions: KvsyncProcessOptions = {
          name: start.name,
          kubeconfigPath: info.kubeconfigPath,
          azure,
          entry: start.entry,
          env: {
            AZURE_CLIENT_ID: operatorApp.clientId,
            AZURE_CLIENT_SECRET: clientSecret,
            ...start.env,
          },
          args: [
            `--namespaces=${start.namespaces.join(',')}`,
            `--lease-namespace=${leaseNamespace}`,
            ...(start.args ?? []),
          ],
          ...(start.dir ? { dir: start.dir } : {}),
        };
        const kvsync = await startKvsyncProcess(processOptions);
        processes.push(kvsync);
        return kvsync;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The connection details of a running test control plane from its admin kubeconfig. Its
 * service-account issuer is the API server's URL (see test/support/control-plane.ts), and the
 * cluster CA goes to a file for the Entra double, which verifies federated tokens against it.
 */
async function describeRunning(
  kubeconfigPath: string,
): Promise<{ info: ControlPlaneInfo; cleanUp: () => Promise<void> }> {
  const kc = kubeConfigFrom({ kubeconfigPath });
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new Error(`${kubeconfigPath} names no cluster server`);
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-stack-'));
  const caFile = path.join(dir, 'ca.crt');
  const ca = cluster.caData
    ? Buffer.from(cluster.caData, 'base64')
    : cluster.caFile && (await readFile(cluster.caFile));
  if (!ca) throw new Error(`${kubeconfigPath} has no certificate authority for ${cluster.server}`);
  await writeFile(caFile, ca);
  return {
    info: {
      kubeconfigPath,
      server: cluster.server,
      caFile,
      issuer: cluster.server,
      binDir: process.env.KVSYNC_BIN_DIR ?? '',
    },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}
