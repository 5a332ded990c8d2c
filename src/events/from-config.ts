// The event options a configuration asks for. The queue is read with kvsync's own identity (the
// workload identity the webhook injects, or AZURE_CLIENT_SECRET): the one an operator grants the
// queue roles to, whatever identities VaultSecrets use for their vaults.
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { AzureCredentialOptions } from '../identity/azure-options.ts';
import { proxyAgentOptions } from '../azure-proxy-agent.ts';
import { defaultIdentityFromEnv } from '../identity/default-identity.ts';
import type { EventOptions } from './event-processing.ts';
import { StorageQueueSource } from './storage-queue-source.ts';

export function eventOptionsFromConfig(
  config: Pick<Config, 'eventQueueUrl' | 'eventPoisonQueue' | 'eventSweepIntervalMs'>,
  env: NodeJS.ProcessEnv,
  azureOptions: AzureCredentialOptions,
): EventOptions | undefined {
  if (config.eventQueueUrl === undefined) return undefined;
  const identity = defaultIdentityFromEnv(env, azureOptions);
  if (!identity) {
    throw new ConfigError(
      "--event-queue-url needs kvsync's own Azure identity: AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_FEDERATED_TOKEN_FILE (workload identity) or AZURE_CLIENT_SECRET",
    );
  }
  return {
    source: new StorageQueueSource({
      queueUrl: config.eventQueueUrl,
      poisonQueueName: config.eventPoisonQueue,
      credential: identity.credential,
      clientOptions: proxyAgentOptions(config.eventQueueUrl, env),
    }),
    stretchedSweepMs: config.eventSweepIntervalMs,
  };
}
