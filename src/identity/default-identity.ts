// The operator's own identity: the workload identity the Azure Workload Identity webhook injects
// (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST), or for
// clusters without it a client secret in AZURE_CLIENT_SECRET, or nothing at all.
import type { TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential, WorkloadIdentityCredential } from '@azure/identity';
import { withoutSdkRetries, type AzureCredentialOptions } from './azure-options.ts';
import { SharedTokenRequests } from './shared-token-requests.ts';
import type { IdentityResolver, ResolvedIdentity } from './types.ts';

export const DEFAULT_IDENTITY_KEY = 'default';

export type DefaultIdentitySource = 'workload-identity' | 'client-secret';

export interface DefaultIdentity extends ResolvedIdentity {
  readonly source: DefaultIdentitySource;
}

/** Undefined when the environment configures no identity for kvsync itself. */
export function defaultIdentityFromEnv(
  env: NodeJS.ProcessEnv,
  options: AzureCredentialOptions,
): DefaultIdentity | undefined {
  const clientId = nonEmpty(env.AZURE_CLIENT_ID);
  const tenantId = nonEmpty(env.AZURE_TENANT_ID);
  if (clientId === undefined || tenantId === undefined) return undefined;
  const hints = { clientId, tenantId };
  const azureOptions = withoutSdkRetries(options);
  const tokenFilePath = nonEmpty(env.AZURE_FEDERATED_TOKEN_FILE);
  if (tokenFilePath !== undefined) {
    const credential = new SharedTokenRequests(
      new WorkloadIdentityCredential({ ...azureOptions, clientId, tenantId, tokenFilePath }),
    );
    return { key: DEFAULT_IDENTITY_KEY, credential, hints, source: 'workload-identity' };
  }
  const clientSecret = nonEmpty(env.AZURE_CLIENT_SECRET);
  if (clientSecret !== undefined) {
    const credential = new SharedTokenRequests(
      new ClientSecretCredential(tenantId, clientId, clientSecret, azureOptions),
    );
    return { key: DEFAULT_IDENTITY_KEY, credential, hints, source: 'client-secret' };
  }
  return undefined;
}

/** Everything reads with one given credential: for tests and single-tenant demos. */
export function defaultIdentityResolver(credential: TokenCredential): IdentityResolver {
  const identity = { key: DEFAULT_IDENTITY_KEY, credential };
  return { resolve: () => Promise.resolve(identity) };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
