// MSAL answers getToken from its cache once it holds a token, but calls that arrive before the
// first answer (a cold start with several workers, or a refresh) each go to Entra ID. This wrapper
// lets concurrent callers asking for the same token share one request; later calls go to the
// credential (and MSAL's cache) as before.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

export class SharedTokenRequests implements TokenCredential {
  /** The credential asked on behalf of everyone. */
  readonly inner: TokenCredential;
  private readonly inFlight = new Map<string, Promise<AccessToken | null>>();

  constructor(inner: TokenCredential) {
    this.inner = inner;
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = JSON.stringify([
      [scopes].flat(),
      options?.claims,
      options?.tenantId,
      options?.enableCae,
    ]);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    // Shared, so one caller's abort must not fail the others.
    const shared: GetTokenOptions = { ...options, abortSignal: undefined };
    const request = this.inner.getToken(scopes, shared).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }
}
