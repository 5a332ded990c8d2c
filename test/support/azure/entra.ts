// A fake Entra ID token service speaking what MSAL (inside @azure/identity) speaks: the tenant's
// v2.0 OIDC discovery document, its JWKS, and the token endpoint for client_credentials with a
// client secret or a federated client assertion (workload identity). Assertions are verified for
// real against their issuer's published keys; refusals carry real AADSTS codes.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import { TokenSigner, tokenIssuer, type AccessTokenClaims } from './access-tokens.ts';
import { EntraError, entraErrors } from './entra-errors.ts';
import { FederatedIssuers, IssuerUnreachableError } from './federated-issuers.ts';
import { describeRequest, readBody, sendJson } from './http-util.ts';

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email']);

export interface FederatedCredential {
  issuer: string;
  /** For Kubernetes: `system:serviceaccount:<namespace>:<name>` (see serviceAccountSubject). */
  subject: string;
  /** Default: [api://AzureADTokenExchange]. */
  audiences?: readonly string[];
}

export interface AppRegistration {
  readonly clientId: string;
  readonly tenantId: string;
  /** The service principal's object id (the `oid` of its tokens). */
  readonly objectId: string;
  readonly federatedCredentials: FederatedCredential[];
  readonly clientSecrets: string[];
  /** Secrets past their end date: Entra answers AADSTS7000222 for them. */
  readonly expiredClientSecrets: string[];
  /** Entra answers AADSTS50020 for this app (an account of another tenant), whatever it sends. */
  foreign: boolean;
}

export interface RegisterAppOptions {
  clientId?: string;
  tenantId?: string;
  federatedCredentials?: FederatedCredential[];
  clientSecret?: string;
}

export interface FakeEntraOptions {
  authorityHost: string;
  tenantId: string;
  /** Resources (audiences) tokens may be requested for, besides Key Vault's public one. */
  resources: readonly string[];
  /** CA PEMs trusted when fetching an assertion issuer's discovery document and JWKS. */
  issuerCaPems: readonly string[];
  now: () => Date;
  log: (line: string) => void;
}

export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

interface TokenForm {
  clientId: string;
  grantType: string;
  scope: string;
  clientSecret: string | undefined;
  assertion: string | undefined;
  assertionType: string | undefined;
}

export class FakeEntra {
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly #options: FakeEntraOptions;
  readonly #signer: TokenSigner;
  readonly #issuers: FederatedIssuers;
  readonly #tenants = new Set<string>();
  readonly #resources = new Set<string>(['https://vault.azure.net']);
  readonly #apps = new Map<string, AppRegistration>();
  readonly #tokenRequests = new Map<string, number>();
  /** When each token request arrived (ms since the epoch), per client id. */
  readonly #tokenRequestTimes = new Map<string, number[]>();
  readonly #tokensIssued = new Map<string, number>();
  #lifetimeSeconds = DEFAULT_TOKEN_LIFETIME_SECONDS;
  #fault: { status: number; remaining: number; retryAfterSeconds: number } | undefined;

  private constructor(options: FakeEntraOptions, signer: TokenSigner) {
    this.#options = options;
    this.authorityHost = options.authorityHost;
    this.tenantId = options.tenantId;
    this.#signer = signer;
    this.#issuers = new FederatedIssuers(options.issuerCaPems);
    this.#tenants.add(options.tenantId);
    for (const resource of options.resources) this.#resources.add(resource);
  }

  static async create(options: FakeEntraOptions): Promise<FakeEntra> {
    return new FakeEntra(options, await TokenSigner.create());
  }

  /** Registers an app (service principal) that can get tokens; returns it for later edits. */
  registerApp(options: RegisterAppOptions = {}): AppRegistration {
    const app: AppRegistration = {
      clientId: options.clientId ?? randomUUID(),
      tenantId: options.tenantId ?? this.tenantId,
      objectId: randomUUID(),
      federatedCredentials: [...(options.federatedCredentials ?? [])],
      clientSecrets: options.clientSecret === undefined ? [] : [options.clientSecret],
      expiredClientSecrets: [],
      foreign: false,
    };
    this.#tenants.add(app.tenantId);
    this.#apps.set(app.clientId, app);
    return app;
  }

  app(clientId: string): AppRegistration | undefined {
    return this.#apps.get(clientId);
  }

  /** Adds a federated credential to a registered app (Entra allows 20 per app; not enforced). */
  addFederatedCredential(clientId: string, credential: FederatedCredential): void {
    const app = this.#apps.get(clientId);
    if (!app) throw new Error(`no app registered with client id ${clientId}`);
    app.federatedCredentials.push(credential);
  }

  /** The secret passes its end date: it stays registered, and Entra answers AADSTS7000222. */
  expireClientSecret(clientId: string, secret: string): void {
    const app = this.#apps.get(clientId);
    if (!app) throw new Error(`no app registered with client id ${clientId}`);
    app.expiredClientSecrets.push(secret);
  }

  removeApp(clientId: string): void {
    this.#apps.delete(clientId);
  }

  addResource(resource: string): void {
    this.#resources.add(resource.replace(/\/$/, ''));
  }

  /** Lifetime of tokens issued from now on (default 3600 s, as Entra). */
  setTokenLifetime(seconds: number): void {
    this.#lifetimeSeconds = seconds;
  }

  /** The next `times` token requests (default: until cleared) fail with `status`: an outage
   * (500, 503) or Entra's throttling (429 with Retry-After, default 60 s). */
  failTokenRequests(
    fault: { status: 500 | 503 | 429; times?: number; retryAfterSeconds?: number } | undefined,
  ): void {
    this.#fault = fault && {
      status: fault.status,
      remaining: fault.times ?? Number.POSITIVE_INFINITY,
      retryAfterSeconds: fault.retryAfterSeconds ?? 60,
    };
  }

  /** POSTs to the token endpoint naming `clientId` (all of them without an argument). */
  tokenRequests(clientId?: string): number {
    return count(this.#tokenRequests, clientId);
  }

  /** When the token requests naming `clientId` arrived (ms since the epoch), in order. */
  tokenRequestTimes(clientId: string): readonly number[] {
    return [...(this.#tokenRequestTimes.get(clientId) ?? [])];
  }

  /** Access tokens issued to `clientId` (all of them without an argument). */
  tokensIssued(clientId?: string): number {
    return count(this.#tokensIssued, clientId);
  }

  resetCounters(): void {
    this.#tokenRequests.clear();
    this.#tokenRequestTimes.clear();
    this.#tokensIssued.clear();
  }

  /** The `iss` of the access tokens issued for `tenantId`. */
  tokenIssuer(tenantId = this.tenantId): string {
    return tokenIssuer(tenantId);
  }

  /** For resource doubles: signature, algorithm and lifetime checked against this Entra's keys. */
  verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    return this.#signer.verify(token, this.#options.now());
  }

  /** The request handler, mounted on the doubles' HTTPS server for the login host. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.authorityHost);
    const [tenant, ...rest] = url.pathname.split('/').filter(Boolean);
    const route = `${req.method} /${rest.join('/')}`;
    try {
      if (tenant !== undefined && !this.#tenants.has(tenant))
        throw entraErrors.tenantNotFound(tenant);
      if (tenant !== undefined && route === 'GET /v2.0/.well-known/openid-configuration') {
        return sendJson(res, 200, this.#discovery(tenant));
      }
      if (tenant !== undefined && route === 'GET /discovery/v2.0/keys') {
        return sendJson(res, 200, this.#signer.jwks);
      }
      if (tenant !== undefined && route === 'POST /oauth2/v2.0/token') {
        return sendJson(res, 200, await this.#token(tenant, await readBody(req)), {
          'cache-control': 'no-store',
        });
      }
      this.#options.log(`entra: not understood: ${describeRequest(req)}`);
      sendJson(res, 500, {
        error: 'server_error',
        error_description: `The Entra ID test double does not understand ${describeRequest(req)}`,
      });
    } catch (err) {
      if (!(err instanceof EntraError)) throw err;
      this.#options.log(`entra: ${describeRequest(req)} -> ${err.status} AADSTS${err.code}`);
      if (err.plainBody === undefined) {
        return sendJson(res, err.status, err.body(this.#options.now()), err.headers);
      }
      res.writeHead(err.status, { 'content-type': 'text/plain', ...err.headers });
      res.end(err.plainBody);
    }
  }

  #discovery(tenant: string): Record<string, unknown> {
    const base = `${this.authorityHost}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid', 'azp'],
      tenant_region_scope: 'NA',
      cloud_instance_name: 'localtest',
    };
  }

  async #token(tenant: string, rawBody: string): Promise<Record<string, unknown>> {
    const form = parseTokenForm(rawBody);
    this.#tokenRequests.set(form.clientId, (this.#tokenRequests.get(form.clientId) ?? 0) + 1);
    const times = this.#tokenRequestTimes.get(form.clientId) ?? [];
    times.push(this.#options.now().getTime());
    this.#tokenRequestTimes.set(form.clientId, times);
    if (this.#fault && this.#fault.remaining > 0) {
      this.#fault.remaining--;
      if (this.#fault.status === 429) throw entraErrors.throttled(this.#fault.retryAfterSeconds);
      throw entraErrors.unavailable(this.#fault.status);
    }
    if (form.grantType !== 'client_credentials') throw entraErrors.unsupportedGrant(form.grantType);
    const app = this.#apps.get(form.clientId);
    if (!app || app.tenantId !== tenant) throw entraErrors.unknownApp(form.clientId, tenant);
    if (app.foreign) throw entraErrors.accountNotInTenant(app.clientId, tenant);
    const resource = this.#resource(form.scope, tenant);
    let appidacr: '1' | '2';
    if (form.assertion !== undefined) {
      await this.#verifyAssertion(app, form);
      appidacr = '2';
    } else if (form.clientSecret !== undefined) {
      if (app.expiredClientSecrets.includes(form.clientSecret))
        throw entraErrors.expiredClientSecret(app.clientId);
      if (!app.clientSecrets.includes(form.clientSecret))
        throw entraErrors.badClientSecret(app.clientId);
      appidacr = '1';
    } else {
      throw entraErrors.noCredential();
    }
    const { token, expiresIn } = await this.#signer.issue({
      tenantId: tenant,
      clientId: app.clientId,
      objectId: app.objectId,
      resource,
      appidacr,
      lifetimeSeconds: this.#lifetimeSeconds,
      now: this.#options.now(),
    });
    this.#tokensIssued.set(app.clientId, (this.#tokensIssued.get(app.clientId) ?? 0) + 1);
    this.#options.log(`entra: token issued to ${app.clientId} for ${resource}`);
    return {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: token,
    };
  }

  // MSAL for Go and .NET add the OIDC scopes to every request (`<resource>/.default openid
  // offline_access profile`); Entra ignores them in the client credentials flow.
  #resource(scope: string, tenant: string): string {
    const scopes = scope.split(' ').filter((s) => s !== '' && !OIDC_SCOPES.has(s));
    const only = scopes.length === 1 ? scopes[0] : undefined;
    if (!only?.endsWith('/.default')) throw entraErrors.badScope(scope);
    const resource = only.slice(0, -'/.default'.length);
    if (!this.#resources.has(resource)) throw entraErrors.unknownResource(resource, tenant);
    return resource;
  }

  async #verifyAssertion(app: AppRegistration, form: TokenForm): Promise<void> {
    if (form.assertionType !== ASSERTION_TYPE)
      throw entraErrors.unsupportedAssertionType(form.assertionType ?? '');
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(form.assertion ?? '');
    } catch {
      throw entraErrors.malformedAssertion();
    }
    const now = this.#options.now();
    const seconds = now.getTime() / 1000;
    if (
      claims.exp === undefined ||
      claims.exp <= seconds ||
      (claims.nbf !== undefined && claims.nbf > seconds)
    ) {
      throw entraErrors.assertionExpired(now, toDate(claims.nbf ?? claims.iat), toDate(claims.exp));
    }
    const issuer = claims.iss ?? '';
    const subject = claims.sub ?? '';
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    const refusal = federationRefusal(app.federatedCredentials, issuer, subject, audiences);
    if (refusal) throw refusal;
    try {
      await this.#issuers.verifySignature(form.assertion ?? '', issuer);
    } catch (err) {
      if (err instanceof IssuerUnreachableError)
        throw entraErrors.issuerUnreachable(issuer, err.message);
      throw entraErrors.assertionSignature((err as Error).message);
    }
  }
}

/**
 * Which refusal Entra gives when no federated credential matches: the issuer first (700211), then
 * the subject (700213, or 7002138 when only case differs), then the audience (70021, which prints
 * all three).
 */
function federationRefusal(
  credentials: readonly FederatedCredential[],
  issuer: string,
  subject: string,
  audiences: readonly string[],
): EntraError | undefined {
  const sameIssuer = credentials.filter((cred) => cred.issuer === issuer);
  if (sameIssuer.length === 0) return entraErrors.noFederatedIssuer(issuer);
  const sameSubject = sameIssuer.filter((cred) => cred.subject === subject);
  if (sameSubject.length === 0) {
    const lower = subject.toLowerCase();
    return sameIssuer.some((cred) => cred.subject.toLowerCase() === lower)
      ? entraErrors.subjectCaseMismatch(subject)
      : entraErrors.noFederatedSubject(subject);
  }
  const match = sameSubject.some((cred) =>
    audiences.some((aud) => (cred.audiences ?? [TOKEN_EXCHANGE_AUDIENCE]).includes(aud)),
  );
  return match
    ? undefined
    : entraErrors.noMatchingFederatedCredential(issuer, subject, audiences.join(','));
}

function parseTokenForm(body: string): TokenForm {
  const form = new URLSearchParams(body);
  const optional = (name: string) => form.get(name) ?? undefined;
  return {
    clientId: form.get('client_id') ?? '',
    grantType: form.get('grant_type') ?? '',
    scope: form.get('scope') ?? '',
    clientSecret: optional('client_secret'),
    assertion: optional('client_assertion'),
    assertionType: optional('client_assertion_type'),
  };
}

function toDate(seconds: number | undefined): Date | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000);
}

function count(counts: Map<string, number>, key: string | undefined): number {
  if (key !== undefined) return counts.get(key) ?? 0;
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
