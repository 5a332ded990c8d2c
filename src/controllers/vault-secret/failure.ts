// Pure: every way a reconcile can fail, mapped once to a status reason, a message for the user
// and what the queue should do next.
import { Reason } from '../../api/reasons.ts';
import { classifyVaultError } from '../../keyvault/classify-error.ts';
import { VaultError } from '../../keyvault/errors.ts';
import { IdentityError, IdentityPausedError } from '../../identity/types.ts';
import { InvalidSpecError } from './plan.ts';
import { ContentError } from './secret-data.ts';
import { TemplateError } from './template.ts';

export class SecretConflictError extends Error {
  override readonly name = 'SecretConflictError';
}

/** What to do after the status is written. */
export type Retry =
  | { readonly kind: 'backoff' } // transient: the queue's per-key exponential backoff
  | { readonly kind: 'after'; readonly ms: number } // needs a change elsewhere: look again later
  | { readonly kind: 'never' }; // needs a spec change, which enqueues by itself

export interface Failure {
  readonly reason: Reason | 'InternalError';
  readonly message: string;
  readonly retry: Retry;
  /** Not a failure of the vault or spec but of kvsync's own API calls: do not touch status. */
  readonly internal?: boolean;
}

const slowRetryMs = 60_000;
/** The per-key backoff's cap (5 min), and the longest pause a vault's budget honours. */
const maxRetryAfterMs = 5 * 60_000;

const vaultReasons: Record<VaultError['kind'], { reason: Reason; retry: Retry }> = {
  NotFound: { reason: Reason.ObjectNotFound, retry: { kind: 'after', ms: slowRetryMs } },
  Disabled: { reason: Reason.ObjectDisabled, retry: { kind: 'after', ms: slowRetryMs } },
  Forbidden: { reason: Reason.Forbidden, retry: { kind: 'after', ms: slowRetryMs } },
  UntrustedHost: { reason: Reason.UntrustedVaultHost, retry: { kind: 'after', ms: slowRetryMs } },
  Unauthenticated: { reason: Reason.Unauthenticated, retry: { kind: 'after', ms: slowRetryMs } },
  Throttled: { reason: Reason.Throttled, retry: { kind: 'backoff' } },
  Transient: { reason: Reason.VaultError, retry: { kind: 'backoff' } },
  Invalid: { reason: Reason.VaultError, retry: { kind: 'after', ms: slowRetryMs } },
};

export function classifyFailure(error: unknown, refreshIntervalMs: number): Failure {
  if (error instanceof InvalidSpecError) {
    return { reason: Reason.InvalidSpec, message: error.message, retry: { kind: 'never' } };
  }
  if (error instanceof TemplateError) {
    // Thrown by planSync: the template itself is wrong (syntax, unknown function).
    return { reason: Reason.TemplateError, message: error.message, retry: { kind: 'never' } };
  }
  if (error instanceof IdentityError) {
    return {
      reason: error.reason,
      message: error.message,
      retry: { kind: 'after', ms: slowRetryMs },
    };
  }
  if (error instanceof VaultError) {
    const { reason, retry } = vaultReasons[error.kind];
    // A paused vault (or a failing sweep) says when to look again: retrying sooner cannot help.
    // Capped like the backoff, so one odd Retry-After cannot park a VaultSecret for hours.
    const after = error.retryAfterMs;
    return {
      reason,
      message: error.message,
      retry:
        retry.kind === 'backoff' && after !== undefined
          ? { kind: 'after', ms: Math.min(after, maxRetryAfterMs) }
          : retry,
    };
  }
  if (error instanceof IdentityPausedError) {
    // Said as when Entra ID refused; looked at again when the pause ends, or within a minute: a
    // fallback to the watches that notices a new client secret (a new identity key) even when the
    // Secret could not be watched, without asking Entra ID.
    const refusal = classifyVaultError(error.refusal, undefined, error.hints);
    return {
      reason: vaultReasons[refusal.kind].reason,
      message:
        `${refusal.message} (kvsync pauses token requests for this identity, longer after each ` +
        'refusal, and tries again when the pause ends' +
        `${error.resumesWhen === undefined ? '' : ` or at once when ${error.resumesWhen}`})`,
      retry: { kind: 'after', ms: Math.min(error.retryInMs, slowRetryMs) },
    };
  }
  if (error instanceof ContentError) {
    // The content only changes with a new version, which the sweep notices.
    const retry: Retry =
      refreshIntervalMs > 0 ? { kind: 'after', ms: refreshIntervalMs } : { kind: 'never' };
    return { reason: error.reason, message: error.message, retry };
  }
  if (error instanceof SecretConflictError) {
    return {
      reason: Reason.SecretConflict,
      message: error.message,
      retry: { kind: 'after', ms: slowRetryMs },
    };
  }
  return {
    reason: 'InternalError',
    message: error instanceof Error ? error.message : String(error),
    retry: { kind: 'backoff' },
    internal: true,
  };
}

/** Several objects failed: the first one's failure speaks, with a count of the others. */
export function firstVaultFailure(errors: readonly VaultError[]): VaultError {
  const [first, ...rest] = errors;
  if (!first) throw new Error('internal: no failure to report');
  if (rest.length === 0) return first;
  return new VaultError(first.kind, `${first.message} (and ${rest.length} more failing)`, {
    ...(first.statusCode !== undefined ? { statusCode: first.statusCode } : {}),
    ...(first.retryAfterMs !== undefined ? { retryAfterMs: first.retryAfterMs } : {}),
    ...(first.objectName !== undefined ? { objectName: first.objectName } : {}),
  });
}
