// Misbehaviour on command, per vault: injected answers (429 with or without Retry-After, 500,
// 503, a dropped connection), added latency, and a real throttle that admits N requests per
// window like Key Vault's 4,000 per 10 s. Faults apply to authenticated calls; latency to all.
import type { Operation } from './key-vault-routes.ts';

export type Fault =
  | { kind: 'throttle'; retryAfterSeconds?: number }
  | { kind: 'status'; status: 500 | 503 }
  | { kind: 'reset' };

export interface FaultScope {
  /** How many matching calls get the fault; default: every one until cleared. */
  times?: number;
  /** Only these operations; default: all. */
  operations?: readonly Operation[];
}

export interface ThrottleOptions {
  /** Calls admitted per window. */
  limit: number;
  windowMs: number;
  /** Send Retry-After (seconds to the window's end) with the 429; Key Vault documents none. */
  sendRetryAfter?: boolean;
}

interface Rule {
  fault: Fault;
  remaining: number;
  operations: ReadonlySet<Operation> | undefined;
}

interface Window {
  options: ThrottleOptions;
  startedAt: number;
  admitted: number;
}

export class VaultFaults {
  #latencyMs = 0;
  #rules: Rule[] = [];
  #window: Window | undefined;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  /** Added before every answer, including challenges. */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  inject(fault: Fault, scope: FaultScope = {}): void {
    this.#rules.push({
      fault,
      remaining: scope.times ?? Number.POSITIVE_INFINITY,
      operations: scope.operations && new Set(scope.operations),
    });
  }

  /** Admit `limit` calls per window and answer 429 beyond it; undefined removes the throttle. */
  throttle(options: ThrottleOptions | undefined): void {
    this.#window = options && { options, startedAt: this.#now(), admitted: 0 };
  }

  /** Removes injected faults, latency and the throttle. */
  clear(): void {
    this.#rules = [];
    this.#latencyMs = 0;
    this.#window = undefined;
  }

  /** The fault this call gets, if any; consumes one use of an injected fault. */
  next(operation: Operation): Fault | undefined {
    const rule = this.#rules.find(
      (r) => r.remaining > 0 && (!r.operations || r.operations.has(operation)),
    );
    if (rule) {
      rule.remaining--;
      if (rule.remaining === 0) this.#rules = this.#rules.filter((r) => r !== rule);
      return rule.fault;
    }
    return this.#throttled();
  }

  #throttled(): Fault | undefined {
    const window = this.#window;
    if (!window) return undefined;
    const now = this.#now();
    if (now - window.startedAt >= window.options.windowMs) {
      window.startedAt = now;
      window.admitted = 0;
    }
    // Refused calls do not count against the limit, as in Key Vault.
    if (window.admitted < window.options.limit) {
      window.admitted++;
      return undefined;
    }
    if (!window.options.sendRetryAfter) return { kind: 'throttle' };
    const left = window.startedAt + window.options.windowMs - now;
    return { kind: 'throttle', retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
  }
}
