// Verifies a workload identity assertion the way Entra ID does: fetch the issuer's OIDC discovery
// document, then its JWKS, over HTTPS trusting the given CAs (the test API server's), and check
// the signature. Keys are cached per issuer and refetched once when an unknown `kid` shows up,
// as after a signing-key rotation.
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';

const FETCH_TIMEOUT_MS = 10_000;
const MAX_DOCUMENT_BYTES = 256 * 1024;

type KeySet = ReturnType<typeof createLocalJWKSet>;

export class IssuerUnreachableError extends Error {
  override readonly name = 'IssuerUnreachableError';
}

export class FederatedIssuers {
  readonly #ca: string[];
  readonly #keySets = new Map<string, Promise<KeySet>>();

  constructor(extraCaPems: readonly string[]) {
    this.#ca = [...rootCertificates, ...extraCaPems];
  }

  /** Resolves when the signature verifies with one of the issuer's published keys. */
  async verifySignature(assertion: string, issuer: string): Promise<void> {
    try {
      await compactVerify(assertion, await this.#keySet(issuer, false));
    } catch (err) {
      if (err instanceof IssuerUnreachableError) throw err;
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      await compactVerify(assertion, await this.#keySet(issuer, true));
    }
  }

  #keySet(issuer: string, refresh: boolean): Promise<KeySet> {
    let keySet = this.#keySets.get(issuer);
    if (!keySet || refresh) {
      keySet = this.#fetchKeySet(issuer);
      this.#keySets.set(issuer, keySet);
      // A failed fetch must not be cached: the next assertion tries again.
      keySet.catch(() => this.#keySets.delete(issuer));
    }
    return keySet;
  }

  async #fetchKeySet(issuer: string): Promise<KeySet> {
    if (!issuer.startsWith('https://'))
      throw new IssuerUnreachableError('the issuer is not an https URL');
    const discovery = (await this.#getJson(
      `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    )) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    if (discovery.issuer !== issuer) {
      throw new IssuerUnreachableError(
        `discovery document names issuer '${String(discovery.issuer)}'`,
      );
    }
    if (typeof discovery.jwks_uri !== 'string')
      throw new IssuerUnreachableError('discovery document has no jwks_uri');
    return createLocalJWKSet((await this.#getJson(discovery.jwks_uri)) as JSONWebKeySet);
  }

  #getJson(url: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const fail = (reason: string) => reject(new IssuerUnreachableError(`GET ${url}: ${reason}`));
      const req = request(url, { ca: this.#ca, timeout: FETCH_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_DOCUMENT_BYTES) req.destroy(new Error('document too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            fail('not JSON');
          }
        });
        res.on('error', (err) => fail(err.message));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => fail(err.message));
      req.end();
    });
  }
}
