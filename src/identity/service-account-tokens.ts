// ServiceAccount tokens for the token exchange, requested from the API server (TokenRequest) and
// kept until 80% of their lifetime, as kubelet does for projected tokens. MSAL asks for the
// assertion on every getToken, even when it answers from its own cache, so without this every
// reconcile would cost a TokenRequest.
import { LruCache } from '../runtime/lru-cache.ts';
import type { KubernetesPort, ServiceAccountToken } from './kubernetes-port.ts';
import { IdentityError } from './types.ts';

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** An hour, as the webhook projects; the API server refuses less than 600 s. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
const REFRESH_AT_FRACTION = 0.8;

export interface ServiceAccountTokensOptions {
  readonly kubernetes: KubernetesPort;
  readonly expirationSeconds?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** Every TokenRequest sent. */
  readonly onTokenRequest?: () => void;
}

interface Entry {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

export class ServiceAccountTokens {
  readonly #options: ServiceAccountTokensOptions;
  readonly #now: () => number;
  readonly #entries: LruCache<string, Entry>;
  /** One TokenRequest at a time per ServiceAccount, however many reconciles ask. */
  readonly #pending = new Map<string, Promise<Entry>>();

  constructor(options: ServiceAccountTokensOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#entries = new LruCache(options.maxEntries ?? 1000);
  }

  /**
   * A token valid for a while yet; requested only when the cached one is due for refresh.
   * `signal` aborts the TokenRequest, which concurrent callers share: pass the signal of the work
   * they all serve.
   */
  async get(namespace: string, name: string, signal?: AbortSignal): Promise<string> {
    const key = `${namespace}/${name}`;
    const cached = this.#entries.get(key);
    const now = this.#now();
    if (cached && now < cached.refreshAt) return cached.token;
    try {
      return (await this.#request(key, namespace, name, signal)).token;
    } catch (error) {
      // The API server is briefly unavailable: a token that is still valid does the job. A
      // missing ServiceAccount is not a blip.
      if (cached && now < cached.expiresAt && !(error instanceof IdentityError))
        return cached.token;
      throw error;
    }
  }

  /** The issuer (`iss`) of the cached token, for error messages; undefined before the first. */
  issuerOf(namespace: string, name: string): string | undefined {
    const entry = this.#entries.get(`${namespace}/${name}`);
    return entry && jwtIssuer(entry.token);
  }

  forget(namespace: string, name: string): void {
    this.#entries.delete(`${namespace}/${name}`);
  }

  #request(
    key: string,
    namespace: string,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<Entry> {
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetch(namespace, name, signal).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
      pending.then(
        (entry) => this.#entries.set(key, entry),
        () => {},
      );
    }
    return pending;
  }

  async #fetch(namespace: string, name: string, signal: AbortSignal | undefined): Promise<Entry> {
    const requestedAt = this.#now();
    this.#options.onTokenRequest?.();
    const issued: ServiceAccountToken = await this.#options.kubernetes.createToken(
      namespace,
      name,
      {
        audience: TOKEN_EXCHANGE_AUDIENCE,
        expirationSeconds: this.#options.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS,
      },
      signal,
    );
    const expiresAt = issued.expiresAt.getTime();
    const lifetime = Math.max(0, expiresAt - requestedAt);
    return {
      token: issued.token,
      expiresAt,
      refreshAt: requestedAt + lifetime * REFRESH_AT_FRACTION,
    };
  }
}

/** The unverified `iss` claim: only ever shown in an error message. */
function jwtIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      iss?: unknown;
    };
    return typeof payload.iss === 'string' ? payload.iss.slice(0, 512) : undefined;
  } catch {
    return undefined;
  }
}
