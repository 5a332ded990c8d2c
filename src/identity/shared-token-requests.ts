// MSAL answers getToken from its cache once it holds a token, but calls that arrive before the
// first answer (a cold start with several workers, or a refresh) each go to Entra ID. This wrapper
// lets concurrent callers asking for the same token share one request; later calls go to the
// credential (and MSAL's cache) as before. A caller whose signal aborts stops waiting at once; the
// shared request goes on for the others.
import type { AbortSignalLike } from '@azure/abort-controller';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { abortReason } from '../keyvault/budget.ts';

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
    let request = this.inFlight.get(key);
    if (!request) {
      // Shared, so one caller's abort must not fail the others.
      const shared: GetTokenOptions = { ...options, abortSignal: undefined };
      request = this.inner.getToken(scopes, shared).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, request);
    }
    return untilAborted(request, options?.abortSignal);
  }
}

/** `promise`, or the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
