// Which Azure identity reads a VaultSecret's vault. Resolution never calls Key Vault; it may ask
// the API server for a ServiceAccount token and Entra ID for an access token, both cached.
import type { VaultSecret } from '../api/vault-secret.ts';
import type { IdentityHints } from '../keyvault/classify-error.ts';
import type { VaultIdentity } from '../keyvault/types.ts';

export type IdentityReason = 'IdentityNotAllowed' | 'IdentityError';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly reason: IdentityReason;

  constructor(reason: IdentityReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A VaultIdentity plus what is known about it, so Entra ID refusals can say what to fix. */
export interface ResolvedIdentity extends VaultIdentity {
  /** Pass to createSecretReader's `identityHints`. Never holds a secret. */
  readonly hints?: IdentityHints;
}

/**
 * `namespace` (the default): the VaultSecret's namespace decides, under
 * --default-identity-namespaces. `cluster`: a ClusterVaultSecret keeps this VaultSecret (see
 * cluster-trust.ts): kvsync's own identity is allowed and clientSecretRef is in kvsync's namespace.
 */
export type IdentityScope = 'namespace' | 'cluster';

export interface ResolveOptions {
  readonly scope?: IdentityScope;
  readonly signal?: AbortSignal;
}

export interface IdentityResolver {
  /**
   * `scope`: see IdentityScope (default `namespace`). `signal` is the work's (the reconciles'): it
   * aborts the Kubernetes reads of resolution and the ServiceAccount TokenRequests of the
   * identity's credential.
   */
  resolve(vaultSecret: VaultSecret, options?: ResolveOptions): Promise<ResolvedIdentity>;
  /** Called once a ServiceAccount identity fails (Entra ID refused it, or it is missing): from
   * then on its changes matter, so the caller starts reporting them to serviceAccountChanged. */
  onServiceAccountTrouble?(listener: () => void): void;
  /** A ServiceAccount changed: identities paused because of it try again at once. */
  serviceAccountChanged?(namespace: string, name: string): void;
  /**
   * Called with every clientSecretRef Secret whose identity Entra ID refused (and that has not
   * worked since), each time that list may have changed: the caller watches exactly those and
   * reports their changes to clientSecretChanged.
   */
  onRefusedClientSecrets?(listener: (secrets: readonly ObjectRef[]) => void): void;
  /** A clientSecretRef Secret changed: identities paused because of it try again at once. */
  clientSecretChanged?(namespace: string, name: string): void;
}

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** The identity is paused after Entra ID refused it: no token request, no Key Vault call. */
export class IdentityPausedError extends Error {
  override readonly name = 'IdentityPausedError';
  /** What Entra ID last answered, to describe as it was described then. */
  readonly refusal: unknown;
  readonly hints: IdentityHints;
  readonly retryInMs: number;
  /** What ends the pause early, for the status message. */
  readonly resumesWhen: string | undefined;

  constructor(options: {
    refusal: unknown;
    hints: IdentityHints;
    retryInMs: number;
    resumesWhen: string | undefined;
  }) {
    super('the identity is paused after Entra ID refused it');
    this.refusal = options.refusal;
    this.hints = options.hints;
    this.retryInMs = options.retryInMs;
    this.resumesWhen = options.resumesWhen;
  }
}

/** `serviceaccount`: a TokenRequest to the API server; `entra`: a token exchange with Entra ID. */
export type TokenRequestKind = 'serviceaccount' | 'entra';
