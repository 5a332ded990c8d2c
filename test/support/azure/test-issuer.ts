// A stand-in for a Kubernetes service-account token issuer when no API server runs (unit-level
// tests): OIDC discovery and JWKS over HTTPS on loopback, and tokens shaped like TokenRequest's.
// Integration tests use the real kube-apiserver instead.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { sendJson } from './http-util.ts';
import { TOKEN_EXCHANGE_AUDIENCE } from './entra.ts';

export interface ServiceAccountTokenRequest {
  namespace: string;
  serviceAccount: string;
  audience?: string;
  /** Negative values give an already expired token. Default 3600. */
  expiresInSeconds?: number;
  /** Claim another issuer than this one (the signature then fails at that issuer's keys). */
  claimedIssuer?: string;
}

export interface TestIssuer {
  /** `https://127.0.0.1:<port>`, served with the doubles' certificate. */
  readonly issuer: string;
  token(request: ServiceAccountTokenRequest): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(tls: {
  certPem: string;
  keyPem: string;
}): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }] };
  let issuer = '';
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer,
        jwks_uri: `${issuer}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.url === '/openid/v1/jwks') return sendJson(res, 200, jwks);
    sendJson(res, 404, { message: `not found: ${req.method} ${req.url}` });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    token: (request) => signServiceAccountToken(privateKey, kid, issuer, request),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function signServiceAccountToken(
  key: CryptoKey,
  kid: string,
  issuer: string,
  request: ServiceAccountTokenRequest,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = request.expiresInSeconds ?? 3600;
  const iat = expiresIn < 0 ? now + expiresIn - 60 : now;
  return new SignJWT({
    'kubernetes.io': {
      namespace: request.namespace,
      serviceaccount: { name: request.serviceAccount, uid: randomUUID() },
    },
  })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer(request.claimedIssuer ?? issuer)
    .setSubject(`system:serviceaccount:${request.namespace}:${request.serviceAccount}`)
    .setAudience(request.audience ?? TOKEN_EXCHANGE_AUDIENCE)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}
