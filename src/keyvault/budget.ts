// The per-vault request budget. Key Vault allows 4,000 GET/LIST per vault per 10 s and answers 429
// beyond that; kvsync spends at most half of it so other clients of the vault keep theirs. A 429
// pauses that vault alone (Retry-After when given, else Microsoft's 1-2-4-8-16 s), and callers
// wait in a bounded FIFO queue instead of hammering a vault that already said no. A caller that
// would wait for a pause longer than a short grace is refused at once (Throttled, with the time
// left), so a paused vault holds no reconcile worker: the reconcile is requeued for the pause's end.
import type { AbortSignalLike } from '@azure/abort-controller';
import { MAX_TIMER_MS, systemTimers, type TimerHandle, type Timers } from '../runtime/timers.ts';
import { VaultError } from './errors.ts';
import { TokenBucket } from './token-bucket.ts';

export interface VaultBudgetOptions {
  /** Steady rate per vault: requests per window. Default 2,000 (half of Key Vault's 4,000). */
  readonly requestsPerWindow?: number;
  /** Default 10,000 ms, Key Vault's throttling window. */
  readonly windowMs?: number;
  /**
   * Requests a vault may receive at once after being idle. Default half the window's allowance,
   * so even a burst on top of the steady rate stays at 1.5x the rate, below Key Vault's limit.
   */
  readonly burst?: number;
  /** Callers that may wait per vault; beyond it acquire fails at once as Throttled. */
  readonly maxWaiters?: number;
  /** First pause after a 429 without Retry-After; doubles per further 429 up to maxPauseMs. */
  readonly basePauseMs?: number;
  readonly maxPauseMs?: number;
  /** Longest Retry-After honoured, so one odd header cannot stall a vault for hours. */
  readonly maxRetryAfterMs?: number;
  /** Longest wait for a pause to end; a longer one is refused as Throttled. Default 2 s. */
  readonly pauseGraceMs?: number;
  readonly timers?: Timers;
  /** In [0, 1): spreads pauses so replicas and vaults do not resume in lockstep. */
  readonly random?: () => number;
  /** Every 429 reported; feeds `kvsync_vault_throttled_total{vault}`. */
  readonly onThrottled?: (vaultHost: string) => void;
}

export interface VaultBudget {
  /** Resolves when a request to this vault may be sent; rejects on abort or a full queue. */
  acquire(vaultHost: string, signal?: AbortSignalLike): Promise<void>;
  /** The vault answered 429: pause it. Returns how long from now the vault is paused (ms). */
  throttled(vaultHost: string, retryAfterMs?: number): number;
  /** The vault answered something other than 429: the next pause starts again at the base. */
  succeeded(vaultHost: string): void;
  /** Clock time until which the vault is paused, if it is. */
  pausedUntil(vaultHost: string): number | undefined;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignalLike | undefined;
  onAbort: (() => void) | undefined;
}

interface VaultState {
  readonly host: string;
  readonly bucket: TokenBucket;
  readonly waiters: Waiter[];
  /** Pending pump, or undefined. */
  timer: TimerHandle;
  pauseUntil: number;
  /** 429s without an intervening success: the exponent of the next pause. */
  strikes: number;
}

const DEFAULTS = {
  requestsPerWindow: 2_000,
  windowMs: 10_000,
  maxWaiters: 10_000,
  basePauseMs: 1_000,
  maxPauseMs: 16_000,
  maxRetryAfterMs: 5 * 60_000,
  pauseGraceMs: 2_000,
};
/** Idle vaults are forgotten once this many are tracked. */
const PRUNE_ABOVE = 1_024;
/** Pauses are stretched by up to this fraction, never shortened below the guidance. */
const PAUSE_JITTER = 0.25;

export function createVaultBudget(options: VaultBudgetOptions = {}): VaultBudget {
  const requestsPerWindow = options.requestsPerWindow ?? DEFAULTS.requestsPerWindow;
  const windowMs = options.windowMs ?? DEFAULTS.windowMs;
  const burst = options.burst ?? Math.max(1, Math.floor(requestsPerWindow / 2));
  const maxWaiters = options.maxWaiters ?? DEFAULTS.maxWaiters;
  const basePauseMs = options.basePauseMs ?? DEFAULTS.basePauseMs;
  const maxPauseMs = options.maxPauseMs ?? DEFAULTS.maxPauseMs;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
  const pauseGraceMs = options.pauseGraceMs ?? DEFAULTS.pauseGraceMs;
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? Math.random;
  const vaults = new Map<string, VaultState>();

  const stateOf = (host: string): VaultState => {
    let state = vaults.get(host);
    if (!state) {
      if (vaults.size >= PRUNE_ABOVE) prune();
      const bucket = new TokenBucket(burst, requestsPerWindow / windowMs, timers.now());
      state = { host, bucket, waiters: [], timer: undefined, pauseUntil: 0, strikes: 0 };
      vaults.set(host, state);
    }
    return state;
  };

  const prune = (): void => {
    const now = timers.now();
    for (const [host, s] of vaults) {
      const idle = s.waiters.length === 0 && s.pauseUntil <= now && s.strikes === 0;
      if (idle && s.bucket.isFull(now)) vaults.delete(host);
    }
  };

  /** Hands out tokens to waiters in order, and sets a timer for when the next one can go. */
  const pump = (state: VaultState): void => {
    if (state.timer !== undefined) timers.clearTimeout(state.timer);
    state.timer = undefined;
    const now = timers.now();
    while (state.waiters.length > 0) {
      const waitMs =
        now < state.pauseUntil ? state.pauseUntil - now : state.bucket.msUntilToken(now);
      if (waitMs > 0) {
        state.timer = timers.setTimeout(
          () => {
            state.timer = undefined;
            pump(state);
          },
          Math.min(Math.ceil(waitMs), MAX_TIMER_MS),
        );
        return;
      }
      state.bucket.tryTake(now);
      const waiter = state.waiters.shift()!;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
  };

  /** Refuses every waiter when the vault's pause outlasts the grace: none may hold a worker. */
  const refuseWaiters = (state: VaultState, now: number): void => {
    if (state.pauseUntil - now <= pauseGraceMs) return;
    const waiters = state.waiters.splice(0);
    if (state.timer !== undefined) timers.clearTimeout(state.timer);
    state.timer = undefined;
    for (const waiter of waiters) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(pausedError(state.host, state.pauseUntil - now));
    }
  };

  const acquire = (host: string, signal?: AbortSignalLike): Promise<void> => {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const state = stateOf(host);
    const now = timers.now();
    if (state.waiters.length === 0 && now >= state.pauseUntil && state.bucket.tryTake(now)) {
      return Promise.resolve();
    }
    if (state.pauseUntil - now > pauseGraceMs) {
      return Promise.reject(pausedError(host, state.pauseUntil - now));
    }
    if (state.waiters.length >= maxWaiters) {
      return Promise.reject(
        new VaultError(
          'Throttled',
          `kvsync's request budget for ${host} is exhausted (${maxWaiters} requests waiting)`,
          { retryAfterMs: Math.max(state.pauseUntil - now, windowMs) },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const index = state.waiters.indexOf(waiter);
          if (index >= 0) state.waiters.splice(index, 1);
          if (state.waiters.length === 0 && state.timer !== undefined) {
            timers.clearTimeout(state.timer);
            state.timer = undefined;
          }
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      state.waiters.push(waiter);
      if (state.timer === undefined) pump(state);
    });
  };

  const throttled = (host: string, retryAfterMs?: number): number => {
    options.onThrottled?.(host);
    const state = stateOf(host);
    const now = timers.now();
    const alreadyPaused = now < state.pauseUntil;
    let pauseMs: number;
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
      pauseMs = Math.min(retryAfterMs, maxRetryAfterMs);
      if (!alreadyPaused) state.strikes += 1;
    } else if (alreadyPaused) {
      // Requests sent before the pause began answer 429 together; one burst is one strike.
      return state.pauseUntil - now;
    } else {
      const base = Math.min(basePauseMs * 2 ** state.strikes, maxPauseMs);
      pauseMs = base * (1 + PAUSE_JITTER * random());
      state.strikes += 1;
    }
    state.pauseUntil = Math.max(state.pauseUntil, now + pauseMs);
    state.bucket.drainUntil(state.pauseUntil);
    refuseWaiters(state, now);
    if (state.waiters.length > 0) pump(state);
    return state.pauseUntil - now;
  };

  const succeeded = (host: string): void => {
    const state = vaults.get(host);
    if (state) state.strikes = 0;
  };

  const pausedUntil = (host: string): number | undefined => {
    const state = vaults.get(host);
    return state && state.pauseUntil > timers.now() ? state.pauseUntil : undefined;
  };

  return { acquire, throttled, succeeded, pausedUntil };
}

function pausedError(host: string, leftMs: number): VaultError {
  return new VaultError(
    'Throttled',
    `Key Vault throttled ${host} (429); kvsync pauses it for ${Math.ceil(leftMs / 1000)} s more ` +
      'and looks again then',
    { retryAfterMs: leftMs },
  );
}

/** The signal's reason as an Error (an AbortError when the reason is not one). */
export function abortReason(signal: AbortSignalLike): Error {
  const reason = (signal as { reason?: unknown }).reason;
  if (reason instanceof Error) return reason;
  const error = new Error('the wait for a Key Vault request or token was aborted', {
    cause: reason,
  });
  error.name = 'AbortError';
  return error;
}
