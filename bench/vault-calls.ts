// Key Vault requests as the fake vault counted them: what Key Vault bills and throttles.
import type { Stack } from './stack.ts';

export interface VaultCalls {
  /** Authenticated requests. */
  readonly total: number;
  readonly get: number;
  readonly list: number;
  readonly throttled: number;
  /** Token-less first requests answered with the authentication challenge. */
  readonly challenges: number;
}

/** A reader of one vault's counters. */
export function vaultCalls(stack: Stack, vaultName: string): () => VaultCalls {
  const counters = stack.azure.keyVault.counters;
  return () => ({
    total: counters.calls({ vault: vaultName }),
    get: counters.calls({ vault: vaultName, operation: 'getSecret' }),
    list: counters.calls({ vault: vaultName, operation: 'listSecrets' }),
    throttled: counters.calls({ vault: vaultName, status: 429 }),
    challenges: counters.challenges({ vault: vaultName }),
  });
}

/** a - b, field by field. */
export function subtract(a: VaultCalls, b: VaultCalls): VaultCalls {
  return {
    total: a.total - b.total,
    get: a.get - b.get,
    list: a.list - b.list,
    throttled: a.throttled - b.throttled,
    challenges: a.challenges - b.challenges,
  };
}
