// One set of options for every credential kvsync builds: where Entra ID is (authority host),
// whether MSAL may validate it through instance discovery, and the HTTP client options (proxy,
// agent, TLS). Production takes them from the environment; tests pass the fake Entra's.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { TokenCredentialOptions } from '@azure/identity';

export interface AzureCredentialOptions extends TokenCredentialOptions {
  /** Required off Microsoft's clouds (emulators, Azure Stack): MSAL cannot validate the authority. */
  readonly disableInstanceDiscovery?: boolean;
}

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** AZURE_AUTHORITY_HOST (what the workload identity webhook injects), else the public cloud.
 * Proxy and extra CAs come from HTTPS_PROXY and NODE_EXTRA_CA_CERTS, which the SDK reads itself. */
export function azureOptionsFromEnv(env: NodeJS.ProcessEnv): AzureCredentialOptions {
  const authorityHost = env.AZURE_AUTHORITY_HOST?.trim() || DEFAULT_AUTHORITY_HOST;
  return { authorityHost: authorityHost.replace(/\/+$/, '') };
}

/**
 * The options without the SDK's own retries of token requests. @azure/identity would sleep out
 * Entra ID's Retry-After and retry three times inside one getToken (minutes with a real
 * Retry-After), and retry 5xx and network errors the same way: a reconcile would hold its worker
 * all along. kvsync pauses a refused or throttled identity itself (identity-backoff.ts) and
 * retries transient failures per key, so each token request fails fast into those.
 */
export function withoutSdkRetries(options: AzureCredentialOptions): AzureCredentialOptions {
  return { ...options, retryOptions: { maxRetries: 0, ...options.retryOptions } };
}

/**
 * The options with a policy that reports each request to Entra ID's token endpoint: the token
 * exchanges kvsync really makes, as opposed to getToken calls MSAL answers from its cache.
 */
export function withExchangeCounter(
  options: AzureCredentialOptions,
  onExchange: (() => void) | undefined,
): AzureCredentialOptions {
  if (!onExchange) return options;
  const policy: PipelinePolicy = {
    name: 'kvsyncTokenExchangeCounter',
    sendRequest(request, next) {
      if (
        request.method === 'POST' &&
        /\/oauth2\/(v2\.0\/)?token$/.test(new URL(request.url).pathname)
      ) {
        onExchange();
      }
      return next(request);
    },
  };
  return {
    ...options,
    additionalPolicies: [...(options.additionalPolicies ?? []), { policy, position: 'perRetry' }],
  };
}
