// A fake Azure Key Vault: one HTTPS handler for every vault, the vault chosen by Host header
// (`<name>.vault.localtest`). It speaks challenge authentication like the service: a token-less
// request gets 401 with `WWW-Authenticate: Bearer authorization="<authority>/<tenant>",
// resource="https://vault.localtest"`. The resource is the parent domain of every vault host,
// as vault.azure.net is of `<name>.vault.azure.net`, so the SDK's challenge resource
// verification passes without being turned off. Bearer tokens are checked for signature (the
// fake Entra's keys), issuer (the vault's tenant), audience and expiry.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenClaims } from './access-tokens.ts';
import { FakeVault } from './fake-vault.ts';
import { delayAnswer, describeRequest, readBody, sendJson } from './http-util.ts';
import { KeyVaultError, keyVaultErrors } from './key-vault-errors.ts';
import { execute } from './key-vault-operations.ts';
import { matchRoute, OPERATION_INFO, type Route } from './key-vault-routes.ts';
import { RequestCounters } from './request-counters.ts';
import type { Fault } from './vault-faults.ts';
import type { GrantOptions } from './vault-access.ts';

export interface FakeKeyVaultOptions {
  /** e.g. `vault.localtest`: vault hosts are `<name>.<dnsSuffix>`. */
  dnsSuffix: string;
  authorityHost: string;
  tenantId: string;
  verifyAccessToken: (token: string) => Promise<AccessTokenClaims>;
  tokenIssuer: (tenantId: string) => string;
  now: () => Date;
  /** Receives one line per request when set; lines never hold values, bodies or tokens. */
  log: ((line: string) => void) | undefined;
}

const API_VERSION = /^(7\.\d+|\d{4}-\d{2}-\d{2})(-preview(\.\d+)?)?$/;
const TOKEN_CACHE_LIMIT = 10_000;
/** The service build the recordings of 2026 show (test/conformance/recordings). */
const SERVICE_VERSION = '1.9.3347.1';
// Key Vault accepts tokens for its public resource identifier in either spelling.
const PUBLIC_RESOURCE = 'https://vault.azure.net';

export class FakeKeyVault {
  readonly counters = new RequestCounters();
  /** The challenge's resource; tokens are requested for `${resource}/.default`. */
  readonly resource: string;
  readonly #options: FakeKeyVaultOptions;
  readonly #vaults = new Map<string, FakeVault>();
  readonly #verifiedTokens = new Map<string, AccessTokenClaims>();
  readonly #audiences: ReadonlySet<string>;

  constructor(options: FakeKeyVaultOptions) {
    this.#options = options;
    this.resource = `https://${options.dnsSuffix}`;
    this.#audiences = new Set([
      this.resource,
      `${this.resource}/`,
      PUBLIC_RESOURCE,
      `${PUBLIC_RESOURCE}/`,
    ]);
  }

  vaultUrl(name: string): string {
    return `https://${name.toLowerCase()}.${this.#options.dnsSuffix}`;
  }

  createVault(name: string, options: { tenantId?: string } = {}): FakeVault {
    const key = name.toLowerCase();
    if (!/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/.test(key)) throw new Error(`invalid vault name: ${name}`);
    if (this.#vaults.has(key)) throw new Error(`vault ${name} exists`);
    const vault = new FakeVault(
      key,
      this.vaultUrl(key),
      options.tenantId ?? this.#options.tenantId,
      this.#options.now,
    );
    this.#vaults.set(key, vault);
    return vault;
  }

  vault(name: string): FakeVault {
    const vault = this.#vaults.get(name.toLowerCase());
    if (!vault) throw new Error(`no vault named ${name}`);
    return vault;
  }

  /** The vault serving `host`, for the proxy's name resolution. */
  hasVaultHost(host: string): boolean {
    return this.#vaultForHost(host) !== undefined;
  }

  grant(vaultName: string, clientId: string, options?: GrantOptions): void {
    this.vault(vaultName).grant(clientId, options);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Key Vault's answers all carry these; the SDK logs the request id.
    res.setHeader('x-ms-request-id', randomUUID());
    res.setHeader('x-ms-keyvault-service-version', SERVICE_VERSION);
    const vault = this.#vaultForHost(req.headers.host ?? '');
    if (!vault) {
      return sendError(
        res,
        keyVaultErrors.notUnderstood(`${describeRequest(req)} for host ${req.headers.host}`),
      );
    }
    const url = new URL(req.url ?? '/', vault.url);
    let route: Route | undefined;
    try {
      route = matchRoute(req.method ?? '', url.pathname);
    } catch (err) {
      if (!(err instanceof KeyVaultError)) throw err;
      return this.#answer(req, res, vault, 'unknown', err);
    }
    if (!route)
      return this.#answer(
        req,
        res,
        vault,
        'unknown',
        keyVaultErrors.notUnderstood(describeRequest(req)),
      );
    const apiVersion = url.searchParams.get('api-version') ?? '';
    if (!API_VERSION.test(apiVersion)) {
      return this.#answer(
        req,
        res,
        vault,
        route.operation,
        keyVaultErrors.badParameter(`The specified version (${apiVersion}) is not recognized.`),
      );
    }
    if (vault.faults.latencyMs > 0 && !(await delayAnswer(res, vault.faults.latencyMs))) {
      this.counters.record(vault.name, route.operation, 0, !req.headers.authorization);
      this.#log(req, vault, route.operation, 0, 'client left during injected latency');
      return;
    }

    const authorization = req.headers.authorization;
    if (!authorization) {
      this.counters.record(vault.name, route.operation, 401, true);
      this.#log(req, vault, route.operation, 401, 'challenge');
      return sendError(
        res,
        keyVaultErrors.unauthorized(
          'AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.',
        ),
        this.#challenge(vault),
      );
    }
    try {
      const claims = await this.#authenticate(vault, authorization);
      const fault = vault.faults.next(route.operation);
      if (fault) return this.#fail(req, res, vault, route.operation, fault);
      if (!vault.access.allows(claims.appid, route.operation, route.name)) {
        const { action } = OPERATION_INFO[route.operation];
        const scope = route.name ? `/secrets/${route.name}` : '';
        throw keyVaultErrors.forbiddenByRbac(
          `appid=${claims.appid};oid=${claims.oid};iss=${claims.iss}`,
          action,
          `/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/kvsync-test/providers/microsoft.keyvault/vaults/${vault.name}${scope}`,
          vault.name,
        );
      }
      const result = execute(vault, route, url.searchParams, await readBody(req));
      this.counters.record(vault.name, route.operation, result.status);
      this.#log(req, vault, route.operation, result.status);
      sendJson(res, result.status, result.body);
    } catch (err) {
      if (err instanceof KeyVaultError) return this.#answer(req, res, vault, route.operation, err);
      // A bug in the double is still an answer the test can read, never a hang.
      const message = `The Key Vault test double failed on ${describeRequest(req)}: ${(err as Error).message}`;
      return this.#answer(
        req,
        res,
        vault,
        route.operation,
        new KeyVaultError(500, 'InternalServerError', message),
      );
    }
  }

  #vaultForHost(host: string): FakeVault | undefined {
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const suffix = `.${this.#options.dnsSuffix}`;
    if (!hostname.endsWith(suffix)) return undefined;
    return this.#vaults.get(hostname.slice(0, -suffix.length));
  }

  #challenge(vault: FakeVault): Record<string, string> {
    return {
      'www-authenticate': `Bearer authorization="${this.#options.authorityHost}/${vault.tenantId}", resource="${vault.challengeResource ?? this.resource}"`,
    };
  }

  async #authenticate(vault: FakeVault, authorization: string): Promise<AccessTokenClaims> {
    const token = /^Bearer (\S+)$/i.exec(authorization)?.[1];
    if (!token)
      throw keyVaultErrors.unauthorized(
        'AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.',
      );
    let claims = this.#verifiedTokens.get(token);
    if (!claims) {
      try {
        claims = await this.#options.verifyAccessToken(token);
      } catch (err) {
        throw keyVaultErrors.unauthorized(
          `The access token is not valid: ${(err as Error).message}`,
        );
      }
      if (this.#verifiedTokens.size >= TOKEN_CACHE_LIMIT) this.#verifiedTokens.clear();
      this.#verifiedTokens.set(token, claims);
    }
    if (claims.exp * 1000 <= this.#options.now().getTime()) {
      throw keyVaultErrors.unauthorized('The access token expired.');
    }
    const issuer = this.#options.tokenIssuer(vault.tenantId);
    if (claims.iss !== issuer) {
      throw keyVaultErrors.unauthorized(
        `AKV10032: Invalid issuer. Expected one of ${issuer}, found ${claims.iss}.`,
      );
    }
    if (!this.#audiences.has(claims.aud)) {
      throw keyVaultErrors.unauthorized(
        `AKV10022: Invalid audience. Expected ${this.resource}, found: ${claims.aud}.`,
      );
    }
    return claims;
  }

  #fail(
    req: IncomingMessage,
    res: ServerResponse,
    vault: FakeVault,
    operation: Route['operation'],
    fault: Fault,
  ): void {
    switch (fault.kind) {
      case 'reset':
        this.counters.record(vault.name, operation, 0);
        this.#log(req, vault, operation, 0, 'reset');
        req.socket.destroy();
        return;
      case 'throttle': {
        const headers: Record<string, string> =
          fault.retryAfterSeconds === undefined
            ? {}
            : { 'retry-after': String(fault.retryAfterSeconds) };
        return this.#answer(req, res, vault, operation, keyVaultErrors.throttled(), headers);
      }
      case 'status':
        return this.#answer(req, res, vault, operation, keyVaultErrors.injected(fault.status));
    }
  }

  #answer(
    req: IncomingMessage,
    res: ServerResponse,
    vault: FakeVault,
    operation: Route['operation'] | 'unknown',
    err: KeyVaultError,
    headers: Record<string, string> = {},
  ): void {
    this.counters.record(vault.name, operation, err.status);
    this.#log(req, vault, operation, err.status, err.code);
    // Every 401 carries the challenge, as the service's do.
    sendError(res, err, err.status === 401 ? { ...this.#challenge(vault), ...headers } : headers);
  }

  #log(
    req: IncomingMessage,
    vault: FakeVault,
    operation: string,
    status: number,
    note?: string,
  ): void {
    this.#options.log?.(
      `keyvault ${vault.name} ${describeRequest(req)} ${operation} -> ${status}${note ? ` ${note}` : ''}`,
    );
  }
}

function sendError(
  res: ServerResponse,
  err: KeyVaultError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, err.status, err.body(), headers);
}
