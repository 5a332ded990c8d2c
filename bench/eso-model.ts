// External Secrets Operator's Azure Key Vault call pattern applied to the benchmark's shape. A
// model, not a run: ESO's provider reads every referenced secret on every refresh (one GET per
// reference, no change detection and no shared value cache), and with `serviceAccountRef` each
// reconcile requests a ServiceAccount token and exchanges it with Entra ID (as its users report
// in external-secrets issues #2779, #4180, #5755, #6019). Kubernetes writes are not modelled.

/** Key Vault's limit for secret GET/LIST per vault: 4,000 per 10 s. */
export const KEY_VAULT_REQUESTS_PER_SECOND = 400;

export interface CallPattern {
  readonly vaultCallsColdStart: number;
  readonly vaultCallsPerCycle: number;
  readonly entraExchangesColdStart: number;
  readonly entraExchangesPerCycle: number;
  readonly serviceAccountTokensPerCycle: number;
  /** Seconds of a whole vault's Key Vault limit one refresh cycle consumes. */
  readonly vaultLimitSecondsPerCycle: number;
}

export function esoPattern(resources: number, referencesEach: number): CallPattern {
  const gets = resources * referencesEach;
  return {
    vaultCallsColdStart: gets,
    vaultCallsPerCycle: gets,
    entraExchangesColdStart: resources,
    entraExchangesPerCycle: resources,
    serviceAccountTokensPerCycle: resources,
    vaultLimitSecondsPerCycle: gets / KEY_VAULT_REQUESTS_PER_SECOND,
  };
}
