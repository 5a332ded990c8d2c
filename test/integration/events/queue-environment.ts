// A sync environment whose kvsync reads Key Vault events from an Azurite queue, as Event Grid
// would fill it, with a queue identity of its own from the fake Entra ID. Messages are written the
// way Event Grid writes them (test/support/key-vault-events.ts).
import { ClientSecretCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import type { ManagerOptions } from '../../../src/manager.ts';
import { StorageQueueSource } from '../../../src/events/storage-queue-source.ts';
import type { ControlPlaneInfo } from '../../support/control-plane.ts';
import type { AzureDoubles } from '../../support/azure/index.ts';
import { startAzureDoubles } from '../../support/azure/index.ts';
import type { Azurite } from '../../support/azurite.ts';
import { startAzurite, STORAGE_RESOURCE } from '../../support/azurite.ts';
import type { SyncEnvironment } from '../../support/kvsync.ts';
import { metricValue, startSyncEnvironment } from '../../support/kvsync.ts';

export const QUEUE = 'kv-events';
export const POISON_QUEUE = 'kv-events-poison';

export interface QueueEnvironment {
  readonly env: SyncEnvironment;
  readonly azure: AzureDoubles;
  readonly azurite: Azurite;
  readonly queue: QueueClient;
  readonly poison: QueueClient;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Count and sum of a histogram. */
  histogram(name: string): Promise<{ count: number; sum: number }>;
  close(): Promise<void>;
}

export async function startQueueEnvironment(
  info: ControlPlaneInfo,
  prefix: string,
  manager: (azurite: Azurite) => Partial<ManagerOptions> = () => ({}),
): Promise<QueueEnvironment> {
  const azure = await startAzureDoubles({ kubeIssuerCaFile: info.caFile });
  azure.entra.addResource(STORAGE_RESOURCE);
  const azurite = await startAzurite({ tenantId: azure.tenantId });
  const queue = azurite.queue(QUEUE);
  const poison = azurite.queue(POISON_QUEUE);
  await queue.create();
  await poison.create();

  // kvsync's own identity, granted the queue roles in a real installation.
  const secret = `queue-reader-${prefix}`;
  const reader = azure.entra.registerApp({ clientSecret: secret });
  const credential = new ClientSecretCredential(
    azure.tenantId,
    reader.clientId,
    secret,
    azure.clientOptions,
  );
  const source = new StorageQueueSource({
    queueUrl: azurite.queueUrl(QUEUE),
    credential,
    clientOptions: azurite.clientOptions,
  });
  const env = await startSyncEnvironment(info, {
    prefix,
    azure,
    manager: { events: { source, stretchedSweepMs: 30 * 60_000 }, ...manager(azurite) },
  });
  return {
    env,
    azure,
    azurite,
    queue,
    poison,
    metric: (name, labels) => metricValue(env.metrics, name, labels),
    async histogram(name) {
      const values = (await env.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
      const pick = (suffix: string) =>
        values.find((v) => (v as { metricName?: string }).metricName === `${name}${suffix}`)
          ?.value ?? 0;
      return { count: pick('_count'), sum: pick('_sum') };
    },
    async close() {
      await env.close();
      await azurite.close();
      await azure.close();
    },
  };
}
