// Failures are classified once, here at the Key Vault boundary, and nowhere else.

export type VaultErrorKind =
  | 'NotFound' // 404: the object (or version) does not exist
  | 'Disabled' // 403 on a disabled object
  | 'Forbidden' // 403: the identity lacks access (RBAC or access policy)
  | 'Unauthenticated' // Entra ID refused to issue a token (AADSTS...), or 401 after a token
  | 'UntrustedHost' // the vault host's challenge names another resource: no token was sent
  | 'Throttled' // 429 from Key Vault or Entra ID
  | 'Transient' // 5xx, 408, network errors, timeouts
  | 'Invalid'; // anything that will not succeed by retrying: bad request, bad content

export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly kind: VaultErrorKind;
  readonly statusCode: number | undefined;
  /** From Retry-After (or x-ms-retry-after-ms) on a 429. */
  readonly retryAfterMs: number | undefined;
  /** The Key Vault object the failure concerns, when there is one. */
  readonly objectName: string | undefined;

  constructor(
    kind: VaultErrorKind,
    message: string,
    options: {
      statusCode?: number;
      retryAfterMs?: number;
      objectName?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.objectName = options.objectName;
  }
}
