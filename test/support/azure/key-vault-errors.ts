// Key Vault's error responses: `{"error":{"code","message","innererror"?}}` with the status and
// wording the service uses, so callers classify them exactly as they would classify Azure's.

export class KeyVaultError extends Error {
  override readonly name = 'KeyVaultError';
  readonly status: number;
  readonly code: string;
  readonly innerCode: string | undefined;

  constructor(status: number, code: string, message: string, innerCode?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.innerCode = innerCode;
  }

  body(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.innerCode ? { innererror: { code: this.innerCode } } : {}),
      },
    };
  }
}

const RECOVER_HINT =
  'If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

export const keyVaultErrors = {
  secretNotFound: (name: string, version?: string) =>
    new KeyVaultError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. ${RECOVER_HINT}`,
    ),
  certificateNotFound: (name: string, version?: string) =>
    new KeyVaultError(
      404,
      'CertificateNotFound',
      `A certificate with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    ),
  deletedSecretNotFound: (name: string) =>
    new KeyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`),
  disabled: (operation: string) =>
    new KeyVaultError(
      403,
      'Forbidden',
      `Operation ${operation} is not allowed on a disabled secret.`,
      'SecretDisabled',
    ),
  deletedButRecoverable: (name: string) =>
    new KeyVaultError(
      409,
      'Conflict',
      `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    ),
  managedByCertificate: (name: string, operation: string) =>
    new KeyVaultError(
      403,
      'Forbidden',
      `Operation ${operation} is not allowed on secret ${name} because it is managed by a certificate. Use the certificate operations instead.`,
    ),
  forbiddenByRbac: (caller: string, action: string, resource: string, vault: string) =>
    new KeyVaultError(
      403,
      'Forbidden',
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${caller}\r\nAction: '${action}'\r\nResource: '${resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: ${vault};location=localtest\r\n`,
      'ForbiddenByRbac',
    ),
  badParameter: (message: string) => new KeyVaultError(400, 'BadParameter', message),
  unauthorized: (message: string) => new KeyVaultError(401, 'Unauthorized', message),
  throttled: () =>
    new KeyVaultError(
      429,
      'Throttled',
      'Request was not processed because too many requests were received. Reason: A1',
    ),
  injected: (status: number) =>
    new KeyVaultError(
      status,
      status === 503 ? 'ServiceUnavailable' : 'InternalServerError',
      `Injected fault: the Key Vault test double answers ${status}.`,
    ),
  notUnderstood: (request: string) =>
    new KeyVaultError(
      500,
      'NotImplementedByDouble',
      `The Key Vault test double does not understand ${request}.`,
    ),
};
