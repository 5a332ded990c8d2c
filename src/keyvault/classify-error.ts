// Every failure of a Key Vault call becomes one VaultError here, with a message that says what to
// fix. Messages are written here, not copied from the service, so no value can leak through them;
// only names, versions, error codes and (for federation) the presented issuer and subject appear.
import { isRestError, type HttpHeaders, type RestError } from '@azure/core-rest-pipeline';
import { VaultError } from './errors.ts';
import {
  describeEntraError,
  describeEntraThrottling,
  findEntraCode,
  isUnknownTenant,
  isIdentityError,
  type IdentityHints,
} from './classify-entra-error.ts';
import { causeChain } from './error-chain.ts';

export type { IdentityHints } from './classify-entra-error.ts';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'REQUEST_SEND_ERROR',
]);

/**
 * Entra ID's "try again" (OAuth `temporarily_unavailable`): an outage to wait out, whatever status
 * the error that carries it kept; never a refusal for a human to fix.
 */
const TRANSIENT_ENTRA_CODES = new Set(['AADSTS90033']);

export function classifyVaultError(
  err: unknown,
  objectName?: string,
  hints: IdentityHints = {},
): VaultError {
  if (err instanceof VaultError) return err;
  const subject = objectName === undefined ? 'the vault' : `secret "${objectName}"`;
  const base = { cause: err, ...(objectName === undefined ? {} : { objectName }) };

  // A token that could not be had: Entra ID refused, or was unreachable.
  if (isIdentityError(err) || findEntraCode(err) !== undefined) {
    const status = entraStatus(err);
    if (status === 429) {
      return new VaultError('Throttled', describeEntraThrottling(hints), {
        ...base,
        statusCode: 429,
      });
    }
    const retryable = TRANSIENT_ENTRA_CODES.has(findEntraCode(err) ?? '');
    if (retryable || isNetworkFailure(err) || status >= 500) {
      return new VaultError(
        'Transient',
        `could not get a token from Entra ID for ${subject}: Entra ID is unreachable or busy`,
        base,
      );
    }
    return new VaultError('Unauthenticated', describeEntraError(err, hints), {
      ...base,
      ...(status > 0 ? { statusCode: status } : {}),
    });
  }

  if (isRestError(err) && err.statusCode !== undefined) {
    return classifyStatus(err, err.statusCode, subject, base);
  }
  // The SDK refused to send a token: the server's challenge named another resource or origin.
  const challenge = challengeMismatch(err);
  if (challenge !== undefined) {
    return new VaultError(
      'UntrustedHost',
      `no token was sent for ${subject}: the server's authentication challenge names ` +
        `${challenge}, which this vault host does not belong to, so the host may not be Key ` +
        'Vault; check spec.vault.url (and any proxy or DNS between kvsync and the vault)',
      base,
    );
  }
  if (isNetworkFailure(err)) {
    const code = networkCode(err);
    return new VaultError(
      'Transient',
      `could not reach Key Vault for ${subject}${code ? ` (${code})` : ''}`,
      base,
    );
  }
  if (isTimeout(err)) {
    return new VaultError('Transient', `Key Vault did not answer in time for ${subject}`, base);
  }
  return new VaultError(
    'Invalid',
    `unexpected failure reading ${subject}: ${errorName(err)}${isRestError(err) && err.code ? ` ${err.code}` : ''}`,
    base,
  );
}

/**
 * Entra ID itself refused the identity (an AADSTS code, an unknown tenant, or throttling), as
 * opposed to an outage, a network failure or the SDK refusing locally: worth backing off.
 */
export function isEntraRefusal(err: unknown): boolean {
  const classified = classifyVaultError(err);
  if (classified.kind === 'Throttled') return entraStatus(err) === 429;
  return (
    classified.kind === 'Unauthenticated' &&
    (findEntraCode(err) !== undefined || isUnknownTenant(err))
  );
}

function classifyStatus(
  err: RestError,
  status: number,
  subject: string,
  base: { cause: unknown; objectName?: string },
): VaultError {
  const codes = keyVaultCodes(err);
  const codeText = codes.length > 0 ? ` (${codes.join('/')})` : '';
  const options = { ...base, statusCode: status };
  if (status === 404) {
    return new VaultError('NotFound', `${subject} was not found in Key Vault${codeText}`, options);
  }
  if (status === 403 && isDisabled(err, codes)) {
    return new VaultError(
      'Disabled',
      `${subject} is disabled in Key Vault: enable it there or reference another secret${codeText}`,
      options,
    );
  }
  if (status === 403) {
    const message = isNetworkRefusal(err, codes)
      ? `the vault's network rules do not let kvsync reach ${subject}: allow the cluster's egress address or use a private endpoint`
      : forbiddenMessage(subject, codes);
    return new VaultError('Forbidden', message + codeText, options);
  }
  if (status === 401) {
    return new VaultError(
      'Unauthenticated',
      `Key Vault refused the token for ${subject}: the identity's tenant must be the vault's tenant${codeText}`,
      options,
    );
  }
  if (status === 429) {
    const retryAfter = retryAfterMs(err.response?.headers);
    return new VaultError(
      'Throttled',
      `Key Vault is throttling requests for ${subject}${codeText}`,
      retryAfter === undefined ? options : { ...options, retryAfterMs: retryAfter },
    );
  }
  if (status === 408 || status >= 500) {
    return new VaultError(
      'Transient',
      `Key Vault answered ${status} for ${subject}${codeText}`,
      options,
    );
  }
  return new VaultError(
    'Invalid',
    `Key Vault refused the request for ${subject} with ${status}${codeText}`,
    options,
  );
}

function forbiddenMessage(subject: string, codes: readonly string[]): string {
  const has = (code: string) => codes.some((c) => c.toLowerCase() === code.toLowerCase());
  const rbac = 'assign the "Key Vault Secrets User" role on the vault to this identity';
  const policy = 'add an access policy for this identity with the secret permissions get and list';
  if (has('ForbiddenByRbac')) return `the identity may not read ${subject}: ${rbac}`;
  if (has('ForbiddenByPolicy') || has('AccessDenied')) {
    return `the identity may not read ${subject}: ${policy}`;
  }
  return `the identity may not read ${subject}: ${rbac} (RBAC vaults), or ${policy} (access-policy vaults)`;
}

// "Operation get is not allowed on a disabled secret." (inner code SecretDisabled). Not any
// "disabled": "Public network access is disabled ..." is a network refusal, not a disabled object.
function isDisabled(err: RestError, codes: readonly string[]): boolean {
  if (isNetworkRefusal(err, codes)) return false;
  return (
    /\bdisabled (secret|certificate|key)\b/i.test(err.message) ||
    codes.some((code) => /^(Secret|Certificate|Key|Object)Disabled$/i.test(code))
  );
}

function isNetworkRefusal(err: RestError, codes: readonly string[]): boolean {
  return (
    codes.some((code) => /^ForbiddenBy(Firewall|Connection)$/i.test(code)) ||
    /public network access is disabled|client address is not authorized/i.test(err.message)
  );
}

/** Key Vault's error code and inner codes, e.g. `Forbidden/ForbiddenByRbac`. */
function keyVaultCodes(err: RestError): string[] {
  const codes: string[] = [];
  if (typeof err.code === 'string' && err.code !== '') codes.push(err.code);
  let inner = (err.details as { error?: KeyVaultErrorBody } | undefined)?.error;
  if (inner?.code !== undefined && inner.code === codes[0]) inner = inner.innerError;
  for (let depth = 0; inner && depth < 5; depth += 1) {
    if (typeof inner.code === 'string' && inner.code !== '') codes.push(inner.code);
    inner = inner.innerError;
  }
  return codes.map((code) => code.replace(/[^\w.-]/g, '').slice(0, 64));
}

interface KeyVaultErrorBody {
  code?: string;
  innerError?: KeyVaultErrorBody;
}

/** Retry-After (seconds or HTTP date), retry-after-ms, x-ms-retry-after-ms, in ms. */
export function retryAfterMs(
  headers: HttpHeaders | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(headers.get(name));
    if (headers.get(name) && Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `resource "vault.azure.net"` or `origin "…"` when the SDK refused the server's challenge. */
function challengeMismatch(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    if (!(e instanceof Error)) continue;
    const match = /^The challenge (resource|origin) '([^'\s]{1,256})' does not match/.exec(
      e.message,
    );
    if (match) return `${match[1]} "${match[2]}"`;
  }
  return undefined;
}

function isNetworkFailure(err: unknown): boolean {
  return networkCode(err) !== undefined;
}

/** The first network error code (or `socket hang up`) in the error or its causes. */
function networkCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (e instanceof Error && /socket hang up/i.test(e.message)) return 'socket hang up';
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  return causeChain(err).some(
    (e) => e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'),
  );
}

/** The HTTP status of Entra's answer: @azure/identity's `statusCode` or MSAL's `status`. */
function entraStatus(err: unknown): number {
  for (const e of causeChain(err)) {
    const { statusCode, status } = e as { statusCode?: unknown; status?: unknown };
    for (const value of [statusCode, status]) {
      if (typeof value === 'number' && value > 0) return value;
    }
  }
  return 0;
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name;
  return typeof err;
}
