// Requests the fake Key Vault answered, by vault, operation and status. Challenge 401s (the SDK's
// first, token-less request) are kept apart, so tests and benchmarks can count "real" calls.
import type { Operation } from './key-vault-routes.ts';

/** `unknown`: a request the double did not understand. Status 0: no answer (connection
 * reset by a fault, or the client left during injected latency). */
export type CountedOperation = Operation | 'unknown';

export interface RequestCount {
  vault: string;
  operation: CountedOperation;
  status: number;
  challenge: boolean;
  count: number;
}

export interface CountFilter {
  vault?: string;
  operation?: CountedOperation;
  status?: number;
}

export class RequestCounters {
  readonly #rows = new Map<string, RequestCount>();

  record(vault: string, operation: CountedOperation, status: number, challenge = false): void {
    const key = `${vault}|${operation}|${status}|${challenge ? 1 : 0}`;
    const row = this.#rows.get(key);
    if (row) row.count++;
    else this.#rows.set(key, { vault, operation, status, challenge, count: 1 });
  }

  /** Authenticated calls (everything but challenge 401s) matching the filter. */
  calls(filter: CountFilter = {}): number {
    return this.#sum(filter, false);
  }

  /** Token-less requests answered with the 401 challenge. */
  challenges(filter: Omit<CountFilter, 'status'> = {}): number {
    return this.#sum(filter, true);
  }

  /** Every row, for reports and failure messages. */
  rows(): RequestCount[] {
    return [...this.#rows.values()].map((row) => ({ ...row }));
  }

  reset(): void {
    this.#rows.clear();
  }

  #sum(filter: CountFilter, challenge: boolean): number {
    let total = 0;
    for (const row of this.#rows.values()) {
      if (row.challenge !== challenge) continue;
      if (filter.vault !== undefined && row.vault !== filter.vault) continue;
      if (filter.operation !== undefined && row.operation !== filter.operation) continue;
      if (filter.status !== undefined && row.status !== filter.status) continue;
      total += row.count;
    }
    return total;
  }
}
