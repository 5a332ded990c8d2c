// What every operations test needs: the real API server, the Azure doubles, a namespace of its
// own, an app registration kvsync runs as (client secret in its environment, as on a cluster
// without workload identity), and kvsync processes that are stopped when the file ends.
import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { AzureDoubles } from '../../support/azure/index.ts';
import { startAzureDoubles } from '../../support/azure/index.ts';
import type { ControlPlaneInfo } from '../../support/control-plane.ts';
import { createTestNamespace, deleteTestNamespace, kubeConfigFrom } from '../../support/kube.ts';
import {
  startKvsyncProcess,
  type KvsyncProcess,
  type KvsyncProcessOptions,
} from '../../support/kvsync-process.ts';

export interface OperationsEnvironment {
  readonly info: ControlPlaneInfo;
  readonly kc: KubeConfig;
  readonly azure: AzureDoubles;
  readonly namespace: string;
  readonly clientId: string;
  /** kvsync's own identity, for the process environment. Never logged by the tests. */
  readonly clientSecret: string;
  /** Starts kvsync watching this namespace, with its Lease in it. */
  start(name: string, options?: Partial<KvsyncProcessOptions>): Promise<KvsyncProcess>;
  lease(name?: string): Promise<V1Lease | undefined>;
  close(): Promise<void>;
}

export async function startOperationsEnvironment(
  info: ControlPlaneInfo,
  prefix: string,
): Promise<OperationsEnvironment> {
  const kc = kubeConfigFrom(info);
  const azure = await startAzureDoubles({ kubeIssuerCaFile: info.caFile });
  const namespace = await createTestNamespace(kc, prefix);
  // Random, so that no name or id contains a piece of it (the redaction test looks for pieces).
  const clientSecret = randomBytes(20).toString('base64url');
  const app = azure.entra.registerApp({ clientSecret });
  const processes: KvsyncProcess[] = [];
  return {
    info,
    kc,
    azure,
    namespace,
    clientId: app.clientId,
    clientSecret,
    async start(name, options = {}) {
      const process = await startKvsyncProcess({
        name,
        kubeconfigPath: info.kubeconfigPath,
        azure,
        ...options,
        env: { AZURE_CLIENT_ID: app.clientId, AZURE_CLIENT_SECRET: clientSecret, ...options.env },
        args: [
          `--namespaces=${namespace}`,
          `--lease-namespace=${namespace}`,
          ...(options.args ?? []),
        ],
      });
      processes.push(process);
      return process;
    },
    async lease(name = 'kvsync') {
      try {
        return await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace, name });
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    async close() {
      await Promise.all(processes.map((p) => p.close()));
      await deleteTestNamespace(kc, namespace);
      await azure.close();
    },
  };
}

/** Milliseconds as seconds with one decimal, for the measurements the tests print. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A measurement for the run's output (tests assert no timings; people read these). */
export function report(line: string): void {
  process.stderr.write(`[measured] ${line}\n`);
}
