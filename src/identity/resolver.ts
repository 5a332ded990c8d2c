// Resolves the identity a VaultSecret reads with: the operator's own (where allowed), a
// ServiceAccount of its namespace federated with Entra ID, or a client secret stored in its
// namespace. Credentials are cached per identity key, so Entra ID access tokens (cached inside
// each credential by MSAL) and ServiceAccount tokens are reused across reconciles. An identity
// Entra ID refused is paused per key (identity-backoff.ts): resolving it then throws at once.
import { createHmac, randomBytes } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import type { VaultSecret } from '../api/vault-secret.ts';
import {
  DEFAULT_AUTHORITY_HOST,
  withExchangeCounter,
  withoutSdkRetries,
  type AzureCredentialOptions,
} from './azure-options.ts';
import { BackedOffCredential } from './backed-off-credential.ts';
import { defaultIdentityFromEnv, type DefaultIdentity } from './default-identity.ts';
import {
  clientSecretContent,
  serviceAccountIds,
  type ClientSecretContent,
} from './identity-ids.ts';
import {
  IdentityBackoff,
  type IdentityBackoffOptions,
  type IdentitySource,
} from './identity-backoff.ts';
import { serviceAccountNotFound, type KubernetesPort } from './kubernetes-port.ts';
import { LruCache } from '../runtime/lru-cache.ts';
import {
  clusterServiceAccountNotAllowed,
  defaultIdentityNotAllowed,
  mayUseDefaultIdentity,
  noDefaultIdentity,
  noOperatorNamespace,
  type NamespaceList,
} from './namespace-policy.ts';
import { ServiceAccountTokens } from './service-account-tokens.ts';
import { SharedTokenRequests } from './shared-token-requests.ts';
import {
  IdentityError,
  IdentityPausedError,
  type IdentityResolver,
  type ObjectRef,
  type IdentityScope,
  type ResolveOptions,
  type ResolvedIdentity,
  type TokenRequestKind,
} from './types.ts';
import type { IdentityHints } from '../keyvault/classify-error.ts';

export interface IdentityResolverOptions {
  readonly kubernetes: KubernetesPort;
  /** Authority host, instance discovery and HTTP options for every credential. */
  readonly azureOptions: AzureCredentialOptions;
  /** AZURE_* variables of the operator's own identity; AZURE_TENANT_ID is also the default tenant. */
  readonly env: NodeJS.ProcessEnv;
  /** Namespaces that may use the operator's own identity. */
  readonly defaultIdentityNamespaces: NamespaceList;
  /** kvsync's own namespace: where clientSecretRefs of ClusterVaultSecrets' VaultSecrets live. */
  readonly operatorNamespace?: string;
  /** Every TokenRequest and every request to Entra ID's token endpoint. */
  readonly onTokenRequest?: (kind: TokenRequestKind) => void;
  /** Credentials kept (least recently used dropped). Default 1000. */
  readonly maxIdentities?: number;
  /** ServiceAccount token lifetime asked for (>= 600). Default 3600. */
  readonly tokenExpirationSeconds?: number;
  /** Pauses after Entra ID refuses an identity (default 30 s doubling to 30 min, ±20%). */
  readonly backoff?: IdentityBackoffOptions;
  readonly now?: () => number;
}

export function createIdentityResolver(options: IdentityResolverOptions): IdentityResolver {
  if (options.tokenExpirationSeconds !== undefined && options.tokenExpirationSeconds < 600) {
    throw new RangeError('tokenExpirationSeconds: the API server refuses less than 600');
  }
  const azureOptions = withExchangeCounter(
    withoutSdkRetries(options.azureOptions),
    options.onTokenRequest && (() => options.onTokenRequest?.('entra')),
  );
  const troubleListeners: (() => void)[] = [];
  const serviceAccountTrouble = () => troubleListeners.splice(0).forEach((listener) => listener());
  const refusedSecretListeners: ((secrets: readonly ObjectRef[]) => void)[] = [];
  const backoff = new IdentityBackoff({
    maxEntries: options.maxIdentities ?? 1000,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...options.backoff,
    onRefused: (source) => {
      if (source?.kind === 'ServiceAccount') serviceAccountTrouble();
    },
    onRefusedChanged: () => {
      if (refusedSecretListeners.length === 0) return;
      const secrets = backoff.refusedSources('Secret');
      for (const listener of refusedSecretListeners) listener(secrets);
    },
  });
  const fromEnv = defaultIdentityFromEnv(options.env, azureOptions);
  const defaultIdentity: DefaultIdentity | undefined = fromEnv && {
    ...fromEnv,
    credential: new BackedOffCredential(fromEnv.credential, fromEnv.key, backoff, undefined),
  };

  /** Throws while the identity is paused; the first caller after a pause goes ahead. */
  const admit = (key: string, hints: IdentityHints, resumesWhen?: string): void => {
    const paused = backoff.admit(key);
    if (paused) throw new IdentityPausedError({ ...paused, hints, resumesWhen });
  };
  const operatorTenantId = options.env.AZURE_TENANT_ID?.trim() || undefined;
  // Part of every identity key: the same ids at another authority are another principal.
  const authority = new URL(azureOptions.authorityHost ?? DEFAULT_AUTHORITY_HOST).host;
  const maxIdentities = options.maxIdentities ?? 1000;
  const credentials = new LruCache<string, TokenCredential>(maxIdentities);
  const secretKeys = new LruCache<string, string>(maxIdentities);
  const tokens = new ServiceAccountTokens({
    kubernetes: options.kubernetes,
    maxEntries: maxIdentities,
    ...(options.tokenExpirationSeconds === undefined
      ? {}
      : { expirationSeconds: options.tokenExpirationSeconds }),
    ...(options.now === undefined ? {} : { now: options.now }),
    onTokenRequest: () => options.onTokenRequest?.('serviceaccount'),
  });
  // Keyed hashes of client secrets: stable for this process, useless to anyone who sees a key.
  const hashKey = randomBytes(32);
  const contentHash = (content: ClientSecretContent): string =>
    createHmac('sha256', hashKey)
      .update(JSON.stringify([authority, content.tenantId, content.clientId, content.clientSecret]))
      .digest('hex')
      .slice(0, 16);

  const viaDefault = (namespace: string, scope: IdentityScope): DefaultIdentity => {
    if (
      scope !== 'cluster' &&
      !mayUseDefaultIdentity(namespace, options.defaultIdentityNamespaces)
    ) {
      throw defaultIdentityNotAllowed(namespace);
    }
    if (!defaultIdentity) throw noDefaultIdentity();
    admit(defaultIdentity.key, defaultIdentity.hints ?? {});
    return defaultIdentity;
  };

  // The reconciles' signal, for the TokenRequests MSAL asks for inside getToken (cached
  // credentials serve every reconcile, which all share one signal: the latest given is current).
  let workSignal: AbortSignal | undefined;

  const viaServiceAccount = async (
    namespace: string,
    name: string,
    spec: Overrides,
    signal: AbortSignal | undefined,
  ): Promise<ResolvedIdentity> => {
    const account = await options.kubernetes.getServiceAccount(namespace, name, signal);
    if (!account) {
      tokens.forget(namespace, name);
      serviceAccountTrouble();
      throw serviceAccountNotFound(namespace, name);
    }
    const { clientId, tenantId } = serviceAccountIds(
      { namespace, name, ...account },
      spec,
      operatorTenantId,
    );
    // The whole identity: a corrected tenant gets its own credential, reader, mirror and values.
    const key = `sa:${namespace}/${name}:${clientId}@${tenantId}@${authority}`;
    const source: IdentitySource = { kind: 'ServiceAccount', namespace, name };
    const credential = credentials.getOrCreate(
      key,
      () =>
        new BackedOffCredential(
          new SharedTokenRequests(
            new ClientAssertionCredential(
              tenantId,
              clientId,
              () => tokens.get(namespace, name, workSignal),
              azureOptions,
            ),
          ),
          key,
          backoff,
          source,
        ),
    );
    // The issuer is known once a token was requested; messages read it when they are written.
    const hints: IdentityHints = {
      clientId,
      tenantId,
      subject: `system:serviceaccount:${namespace}:${name}`,
      get issuer() {
        return tokens.issuerOf(namespace, name);
      },
    };
    admit(key, hints, `ServiceAccount ${name} or spec.vault.identity changes`);
    return { key, credential, hints };
  };

  const viaClientSecret = async (
    namespace: string,
    name: string,
    spec: Overrides,
    signal: AbortSignal | undefined,
  ): Promise<ResolvedIdentity> => {
    const data = await options.kubernetes.getSecret(namespace, name, signal);
    if (!data) {
      throw new IdentityError(
        'IdentityError',
        `Secret ${name} not found in namespace ${namespace} (spec.vault.identity.clientSecretRef): ` +
          'create it with keys tenantId, clientId and clientSecret',
      );
    }
    const content = clientSecretContent({ namespace, name, data }, spec);
    const key = `secret:${namespace}/${name}:${contentHash(content)}`;
    // A rotated client secret gets a new key; the credential holding the old one is dropped.
    const previous = secretKeys.get(`${namespace}/${name}`);
    if (previous !== undefined && previous !== key) credentials.delete(previous);
    secretKeys.set(`${namespace}/${name}`, key);
    const credential = credentials.getOrCreate(
      key,
      () =>
        new BackedOffCredential(
          new SharedTokenRequests(
            new ClientSecretCredential(
              content.tenantId,
              content.clientId,
              content.clientSecret,
              azureOptions,
            ),
          ),
          key,
          backoff,
          { kind: 'Secret', namespace, name },
        ),
    );
    const hints = { clientId: content.clientId, tenantId: content.tenantId };
    // A changed Secret is a new key; a refused one is watched, so its change ends the pause.
    admit(key, hints, `Secret ${name} or spec.vault.identity changes`);
    return { key, credential, hints };
  };

  const operatorNamespace = (): string => {
    if (options.operatorNamespace === undefined) throw noOperatorNamespace();
    return options.operatorNamespace;
  };

  return {
    async resolve(
      vaultSecret: VaultSecret,
      { scope = 'namespace', signal }: ResolveOptions = {},
    ): Promise<ResolvedIdentity> {
      workSignal = signal ?? workSignal;
      const namespace = vaultSecret.metadata.namespace;
      const identity = vaultSecret.spec.vault.identity;
      const overrides: Overrides = { clientId: identity?.clientId, tenantId: identity?.tenantId };
      if (identity?.serviceAccountName !== undefined) {
        // The CRD refuses this in a ClusterVaultSecret; a copy edited to name one loses the trust.
        if (scope === 'cluster') throw clusterServiceAccountNotAllowed();
        return await viaServiceAccount(namespace, identity.serviceAccountName, overrides, signal);
      }
      if (identity?.clientSecretRef !== undefined) {
        const secretNamespace = scope === 'cluster' ? operatorNamespace() : namespace;
        return await viaClientSecret(
          secretNamespace,
          identity.clientSecretRef.name,
          overrides,
          signal,
        );
      }
      return viaDefault(namespace, scope);
    },
    onServiceAccountTrouble(listener) {
      troubleListeners.push(listener);
    },
    serviceAccountChanged(namespace, name) {
      backoff.sourceChanged({ kind: 'ServiceAccount', namespace, name });
    },
    onRefusedClientSecrets(listener) {
      refusedSecretListeners.push(listener);
    },
    clientSecretChanged(namespace, name) {
      backoff.sourceChanged({ kind: 'Secret', namespace, name });
    },
  };
}

interface Overrides {
  readonly clientId: string | undefined;
  readonly tenantId: string | undefined;
}
