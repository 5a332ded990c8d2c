// kvsync's reader of one vault, on the unmodified @azure/keyvault-secrets SecretClient.
//
// Every HTTP request the SDK sends to the vault (including the one unauthenticated request of the
// challenge handshake) first takes a token from the vault's budget, through a pipeline policy:
// so the budget counts requests, not calls, and a list's last page costs nothing extra.
//
// SDK retries are off (maxRetries 0). The SDK would retry 5xx and network errors for up to
// ~2 minutes per call (1 s doubling to 64 s) and sleep out a 429's Retry-After inside the call,
// outside the budget: a worker would be stuck, the vault's pause invisible to other callers, and
// one call could cost 4 budget tokens. kvsync already retries per key with backoff and pauses a
// throttled vault, so each call here fails fast with a classified VaultError.
import type { TokenCredential } from '@azure/core-auth';
import {
  isRestError,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import {
  SecretClient,
  type SecretClientOptions,
  type SecretProperties,
} from '@azure/keyvault-secrets';
import type { VaultBudget } from './budget.ts';
import { classifyVaultError, retryAfterMs, type IdentityHints } from './classify-error.ts';
import { VaultError } from './errors.ts';
import type { ObjectProperties, SecretValue, VaultReader } from './types.ts';
import { parseVaultUrl } from './vault-url.ts';

export type VaultOperation = 'getSecret' | 'listSecrets';

export interface VaultRequestEvent {
  /** The vault host: a bounded metrics label. */
  readonly vault: string;
  readonly operation: VaultOperation;
  /** HTTP status (`200`, `404`, `429`, ...) or, with no response, the failure's kind. */
  readonly code: string;
  readonly durationSeconds: number;
}

export interface SecretReaderOptions {
  readonly vaultUrl: string;
  readonly credential: TokenCredential;
  readonly budget: VaultBudget;
  /** Passed to SecretClient: serviceVersion (emulators lag), httpClient/agent, TLS. */
  readonly clientOptions?: SecretClientOptions;
  /** One event per HTTP request; feeds `kvsync_vault_requests_total` and its duration. */
  readonly onRequest?: (event: VaultRequestEvent) => void;
  /** Per HTTP request; a timeout is a Transient failure. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Makes Entra ID refusals say exactly which federated credential is missing. */
  readonly identityHints?: IdentityHints;
  /**
   * Aborts every request of this reader: budget waits, token requests and Key Vault calls (the
   * Lease was lost, or the shutdown deadline passed). Reads are shared by the reconciles of one
   * manager, so the signal is the manager's, not one reconcile's.
   */
  readonly signal?: AbortSignal;
}

/** Key Vault object names and versions; checked before they become part of a request path. */
const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const OBJECT_VERSION = /^[0-9a-zA-Z]{1,64}$/;
const PAGE_SIZE = 25;
const DEFAULT_TIMEOUT_MS = 30_000;

export function createSecretReader(options: SecretReaderOptions): VaultReader {
  const { url, host } = parseVaultUrl(options.vaultUrl);
  const hints = options.identityHints ?? {};
  const clientOptions = options.clientOptions ?? {};
  const client = new SecretClient(url, options.credential, {
    ...clientOptions,
    retryOptions: { maxRetries: 0, ...clientOptions.retryOptions },
    additionalPolicies: [
      ...(clientOptions.additionalPolicies ?? []),
      {
        policy: budgetPolicy(host, options, options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS),
        position: 'perRetry',
      },
    ],
  });

  return {
    vaultUrl: url,

    async getSecret(name: string, version?: string): Promise<SecretValue> {
      checkName(name, version);
      try {
        const secret = await client.getSecret(name, {
          abortSignal: options.signal,
          ...(version === undefined ? {} : { version }),
        });
        if (secret.value === undefined || secret.properties.version === undefined) {
          throw new VaultError('Invalid', `Key Vault returned secret "${name}" without a value`, {
            objectName: name,
          });
        }
        const properties = {
          ...toObjectProperties(secret.properties),
          version: secret.properties.version,
        };
        return { properties, value: secret.value };
      } catch (err) {
        throw classifyVaultError(err, name, hints);
      }
    },

    async *listSecretPages(): AsyncIterable<readonly ObjectProperties[]> {
      const pages = client
        .listPropertiesOfSecrets({ abortSignal: options.signal })
        .byPage({ maxPageSize: PAGE_SIZE });
      while (true) {
        let page: IteratorResult<SecretProperties[]>;
        try {
          page = await pages.next();
        } catch (err) {
          throw classifyVaultError(err, undefined, hints);
        }
        if (page.done) return;
        yield page.value.map(toObjectProperties);
      }
    },
  };
}

function checkName(name: string, version: string | undefined): void {
  if (!OBJECT_NAME.test(name)) {
    throw new VaultError('Invalid', `"${name.slice(0, 130)}" is not a Key Vault object name`);
  }
  if (version !== undefined && !OBJECT_VERSION.test(version)) {
    throw new VaultError('Invalid', `"${version.slice(0, 70)}" is not a Key Vault object version`, {
      objectName: name,
    });
  }
}

export function toObjectProperties(p: SecretProperties): ObjectProperties {
  return {
    name: p.name,
    version: p.version,
    // Key Vault omits `enabled` only where it means enabled.
    enabled: p.enabled ?? true,
    updatedOn: p.updatedOn,
    expiresOn: p.expiresOn,
    notBefore: p.notBefore,
    contentType: p.contentType,
    tags: { ...p.tags },
    managed: p.managed === true,
  };
}

/** Budget, timeout and metrics around each HTTP request the SDK sends, handshakes included. */
function budgetPolicy(
  host: string,
  options: SecretReaderOptions,
  timeoutMs: number,
): PipelinePolicy {
  const { budget, onRequest } = options;
  const report = (request: PipelineRequest, started: number, code: string): void => {
    onRequest?.({
      vault: host,
      operation: operationOf(request.url),
      code,
      durationSeconds: (performance.now() - started) / 1000,
    });
  };
  const feedBudget = (status: number, retryAfter: number | undefined): void => {
    if (status === 429) budget.throttled(host, retryAfter);
    // The vault served the request (a 404 too); a 401 is only the challenge handshake.
    else if (status < 500 && status !== 401) budget.succeeded(host);
  };
  return {
    name: 'kvsyncVaultBudgetPolicy',
    async sendRequest(request, next): Promise<PipelineResponse> {
      // The SDK fetches list pages after the first without call options, so without a signal.
      request.abortSignal ??= options.signal;
      await budget.acquire(host, request.abortSignal);
      // Here, not per call: the SDK fetches list pages after the first without call options.
      if (!(request.timeout > 0)) request.timeout = timeoutMs;
      const started = performance.now();
      try {
        const response = await next(request);
        report(request, started, String(response.status));
        feedBudget(response.status, retryAfterMs(response.headers));
        return response;
      } catch (err) {
        if (isRestError(err) && err.statusCode !== undefined) {
          report(request, started, String(err.statusCode));
          feedBudget(err.statusCode, retryAfterMs(err.response?.headers));
        } else {
          report(request, started, classifyVaultError(err).kind);
        }
        throw err;
      }
    },
  };
}

/** `/secrets` (and its nextLink pages) lists; `/secrets/<name>[/<version>]` gets. */
function operationOf(requestUrl: string): VaultOperation {
  const path = new URL(requestUrl).pathname.replace(/\/+$/, '');
  return path === '/secrets' ? 'listSecrets' : 'getSecret';
}
