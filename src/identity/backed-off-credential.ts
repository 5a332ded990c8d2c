// A credential that consults the identity's backoff before asking Entra ID, and tells it how Entra
// ID answered. It sits under every use of the identity's credential (reconciles, sweeps, events),
// so a paused identity makes no token request whoever asks.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { isEntraRefusal } from '../keyvault/classify-error.ts';
import type { IdentityBackoff, IdentitySource } from './identity-backoff.ts';

export class BackedOffCredential implements TokenCredential {
  /** The credential asked when the identity is not paused. */
  readonly inner: TokenCredential;
  readonly #key: string;
  readonly #backoff: IdentityBackoff;
  readonly #source: IdentitySource | undefined;

  constructor(
    inner: TokenCredential,
    key: string,
    backoff: IdentityBackoff,
    source: IdentitySource | undefined,
  ) {
    this.inner = inner;
    this.#key = key;
    this.#backoff = backoff;
    this.#source = source;
  }

  async getToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const refusal = this.#backoff.paused(this.#key);
    if (refusal !== undefined) throw refusal;
    try {
      const token = await this.inner.getToken(scopes, options);
      this.#backoff.succeeded(this.#key);
      return token;
    } catch (error) {
      if (error instanceof Error && isEntraRefusal(error)) {
        this.#backoff.refused(this.#key, error, this.#source);
      }
      throw error;
    }
  }
}
