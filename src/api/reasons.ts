// Condition types and reasons of VaultSecret status, in one place. Reasons are CamelCase words
// users read in `kubectl get vsec` and alert on: renaming one is an API change.

export const ConditionType = {
  /** The summary people and `kubectl get` read: True once the Secret holds the current data. */
  Ready: 'Ready',
  /**
   * kstatus (Flux, kpt, cli-utils) reads these two, not Ready; both follow its "abnormal-true"
   * convention and are present only while True. Reconciling: a retry is under way (InProgress).
   */
  Reconciling: 'Reconciling',
  /** Stalled: a retry alone cannot fix it, a person must act (kstatus Failed). */
  Stalled: 'Stalled',
  /** True while an object in the Secret expires within the warning window (default 30 days). */
  ExpiringSoon: 'ExpiringSoon',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export const Reason = {
  // Ready=True
  /** The Secret holds the data of the current versions. */
  Synced: 'Synced',

  // Ready=Unknown, Reconciling=True
  /** The first sync has taken more than a moment and is still under way. */
  Progressing: 'Progressing',

  // Ready=False: the vault or the network (retried with backoff; the last Secret stays)
  /** 5xx, timeouts, network errors or an unexpected answer from Key Vault. */
  VaultError: 'VaultError',
  /** Key Vault is throttling (429); kvsync pauses that vault. */
  Throttled: 'Throttled',
  /** A referenced object or version does not exist (404). */
  ObjectNotFound: 'ObjectNotFound',
  /** A referenced object is disabled in the vault. */
  ObjectDisabled: 'ObjectDisabled',
  /** The identity may not read the object (RBAC role or access policy missing). */
  Forbidden: 'Forbidden',
  /** The vault host's authentication challenge names a resource the host does not belong to: it
   * may not be Key Vault, so no token was sent. */
  UntrustedVaultHost: 'UntrustedVaultHost',

  // Ready=False: identity
  /** Entra ID refused a token (AADSTS...), or Key Vault refused it (401). */
  Unauthenticated: 'Unauthenticated',
  /** The VaultSecret may not use the requested identity (e.g. the operator's own identity). */
  IdentityNotAllowed: 'IdentityNotAllowed',
  /** The identity could not be built: missing ServiceAccount, annotations or client secret. */
  IdentityError: 'IdentityError',

  // Ready=False: the spec or the data (not retried until something changes)
  /** A Secret of that name exists and is not kvsync's; it is left untouched. */
  SecretConflict: 'SecretConflict',
  /** A spec error the API server could not catch (regex, vault host, duplicate dataFrom keys). */
  InvalidSpec: 'InvalidSpec',
  /** A certificate could not become a TLS Secret (no key, broken chain, mismatch, bad content). */
  CertificateError: 'CertificateError',
  /** A template failed; the message names the key and position. */
  TemplateError: 'TemplateError',
  /** The data does not fit: a missing JSON property, non-JSON content, an invalid key, a typed
   * Secret without its required keys, or nothing to write at all. */
  InvalidContent: 'InvalidContent',

  // ExpiringSoon
  /** ExpiringSoon=True: an object expires within the window. */
  ExpiringSoon: 'ExpiringSoon',
  /** ExpiringSoon=True: an object has already expired (Key Vault still serves it). */
  Expired: 'Expired',
  /** ExpiringSoon=False: nothing expires within the window. */
  NotExpiring: 'NotExpiring',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/**
 * Ready=False reasons that kvsync's own retries may fix (Reconciling=True); every other failure
 * needs a person to change the spec, the vault, Entra ID or the cluster (Stalled=True).
 */
const retriedReasons: ReadonlySet<string> = new Set([Reason.VaultError, Reason.Throttled]);

/** Which kstatus condition a failure with this reason sets to True. */
export function failureCondition(reason: string): ConditionType {
  return retriedReasons.has(reason) ? ConditionType.Reconciling : ConditionType.Stalled;
}

// ClusterVaultSecret status: the ConditionTypes Ready, Reconciling and Stalled as kstatus reads them;
// the reasons below plus Reason.Synced and Reason.Progressing.
export const ClusterReason = {
  /** Some selected namespaces' VaultSecrets failed; status.failures names the first ones. */
  NamespacesFailed: 'NamespacesFailed',
  /** A selected namespace holds a VaultSecret of that name not owned by the ClusterVaultSecret. */
  VaultSecretConflict: 'VaultSecretConflict',
} as const;
