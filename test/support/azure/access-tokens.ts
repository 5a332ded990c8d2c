// The fake Entra ID's signing key and the access tokens it issues. Key Vault and Storage accept
// v1.0 tokens, so Entra issues those for them even from the v2.0 endpoint: issuer
// `https://sts.windows.net/<tenant>/`, `appid`, `ver: "1.0"` (Azurite checks exactly this issuer).
// `azp` is added too so callers can read the client id either way.
import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';

export interface AccessTokenClaims extends JWTPayload {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  azp: string;
  oid: string;
  exp: number;
}

export interface IssueRequest {
  tenantId: string;
  clientId: string;
  objectId: string;
  resource: string;
  /** How the client proved itself: '1' client secret, '2' certificate or federated assertion. */
  appidacr: '1' | '2';
  lifetimeSeconds: number;
  now: Date;
}

export function tokenIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

export class TokenSigner {
  readonly jwks: JSONWebKeySet;
  readonly #privateKey: CryptoKey;
  readonly #kid: string;
  readonly #keySet: ReturnType<typeof createLocalJWKSet>;

  private constructor(privateKey: CryptoKey, jwks: JSONWebKeySet, kid: string) {
    this.#privateKey = privateKey;
    this.jwks = jwks;
    this.#kid = kid;
    this.#keySet = createLocalJWKSet(jwks);
  }

  static async create(): Promise<TokenSigner> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID().replaceAll('-', '').slice(0, 27);
    const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    return new TokenSigner(privateKey, { keys: [jwk] }, kid);
  }

  async issue(request: IssueRequest): Promise<{ token: string; expiresIn: number }> {
    const iat = Math.floor(request.now.getTime() / 1000);
    const issuer = tokenIssuer(request.tenantId);
    const token = await new SignJWT({
      appid: request.clientId,
      azp: request.clientId,
      appidacr: request.appidacr,
      idp: issuer,
      idtyp: 'app',
      oid: request.objectId,
      tid: request.tenantId,
      ver: '1.0',
      uti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.#kid })
      .setIssuer(issuer)
      .setAudience(request.resource)
      .setSubject(request.objectId)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + request.lifetimeSeconds)
      .sign(this.#privateKey);
    // Entra reports one second less than the token's lifetime.
    return { token, expiresIn: request.lifetimeSeconds - 1 };
  }

  /** Signature, algorithm and time checks; the resource decides issuer and audience itself. */
  async verify(token: string, now: Date): Promise<AccessTokenClaims> {
    const { payload } = await jwtVerify(token, this.#keySet, {
      algorithms: ['RS256'],
      currentDate: now,
    });
    for (const claim of ['aud', 'iss', 'tid', 'appid', 'oid', 'exp'] as const) {
      if (payload[claim] === undefined) throw new Error(`token has no ${claim} claim`);
    }
    return payload as AccessTokenClaims;
  }
}
