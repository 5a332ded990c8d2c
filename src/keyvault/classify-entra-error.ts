// Entra ID refusals (AADSTS codes) turned into messages that say what to fix. @azure/identity
// surfaces them in several shapes: AuthenticationError with an errorResponse, an
// AuthenticationRequiredError or CredentialUnavailableError whose cause is MSAL's ServerError, or
// an AggregateAuthenticationError from a chain; so the whole cause chain is searched. Messages are
// built from parts (entra-refusals.ts); Entra's own text only supplies the issuer, subject and
// audience it names, or, for a code kvsync does not know, its first sentence whole.
import { causeChain } from './error-chain.ts';
import { describeRefusal, type RefusalContext } from './entra-refusals.ts';

/** What the caller knows about the identity, to make Entra ID errors actionable. */
export interface IdentityHints {
  readonly clientId?: string;
  readonly tenantId?: string;
  /** The ServiceAccount token's issuer and subject (`system:serviceaccount:<ns>:<name>`). */
  readonly issuer?: string;
  readonly subject?: string;
}

const IDENTITY_ERROR_NAMES = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'CredentialUnavailableError',
  'AggregateAuthenticationError',
]);

/** A first sentence longer than this is not a sentence but a payload; it is shortened at a word. */
const MAX_SENTENCE = 1000;

export function isIdentityError(err: unknown): boolean {
  return causeChain(err).some((e) => e instanceof Error && IDENTITY_ERROR_NAMES.has(e.name));
}

/** `AADSTS70021` and the like, from messages, error descriptions or numeric error codes. */
export function findEntraCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    for (const text of texts(e)) {
      const match = /AADSTS(\d{4,})/.exec(text);
      if (match) return `AADSTS${match[1]}`;
    }
    const codes = (e as { errorResponse?: { errorCodes?: unknown } }).errorResponse?.errorCodes;
    if (Array.isArray(codes) && typeof codes[0] === 'number') return `AADSTS${codes[0]}`;
  }
  return undefined;
}

export function describeEntraError(err: unknown, hints: IdentityHints): string {
  const code = findEntraCode(err);
  const context = refusalContext(err, hints);
  if (code === undefined) return describeLocalRefusal(err, context);
  const prefix = `Entra ID refused a token (${code}): `;
  const known = describeRefusal(code, context);
  if (known) return `${prefix}${known.what}; ${known.fix}`;
  const sentence = entraSentence(err, code);
  return (
    prefix +
    `${sentence ? `"${sentence}"` : 'no description'}; see ` +
    `https://login.microsoftonline.com/error?code=${code.slice('AADSTS'.length)}`
  );
}

/** Entra ID answered 429: it throttles token requests per application and tenant. */
export function describeEntraThrottling(hints: IdentityHints): string {
  const app = hints.clientId ? `application (client id) ${hints.clientId}` : 'the application';
  return (
    `Entra ID is throttling token requests for ${app}` +
    `${hints.tenantId ? ` in tenant ${hints.tenantId}` : ''}; kvsync backs off this identity and ` +
    'retries. If it persists, check what else requests tokens for this application'
  );
}

/** MSAL could not read the tenant's OpenID configuration (Entra answers it with AADSTS90002). */
export function isUnknownTenant(err: unknown): boolean {
  return firstMatch(err, /(endpoints_resolution_error)/) !== undefined;
}

/** Refusals by the SDK itself, before any request to Entra ID. */
function describeLocalRefusal(err: unknown, context: RefusalContext): string {
  const otherTenant = firstMatch(
    err,
    /not configured to acquire tokens for tenant ([\w-]+(?:\.[\w-]+)*)/,
  );
  if (otherTenant !== undefined) {
    const identityTenant = context.tenantId ?? 'its own tenant';
    return (
      `the vault's authentication challenge names tenant ${otherTenant}, but the identity ` +
      `(${context.clientId ? `client id ${context.clientId}` : 'this application'}) is in tenant ` +
      `${identityTenant}, and kvsync asks only an identity's own tenant for tokens: use an ` +
      `identity registered in tenant ${otherTenant} (set spec.vault.identity.tenantId or the ` +
      `ServiceAccount annotation azure.workload.identity/tenant-id to ${otherTenant}, with a ` +
      `client id from that tenant), or a vault in tenant ${identityTenant}`
    );
  }
  if (isUnknownTenant(err)) {
    // MSAL reads the tenant's OpenID configuration first; Entra answers it with AADSTS90002 for
    // a tenant that does not exist, which MSAL reports without the code.
    const tenant = describeRefusal('AADSTS90002', context)!;
    return (
      'could not get a token from Entra ID: it gave no OpenID configuration for tenant ' +
      `${context.tenantId ?? '(none set)'}, so ${tenant.what} (AADSTS90002) or Entra ID is ` +
      `unreachable; ${tenant.fix}`
    );
  }
  const sentence = firstSentence(texts(causeChain(err).find((e) => e instanceof Error))[0] ?? '');
  return (
    'could not get a token from Entra ID: the workload identity is not set up ' +
    '(AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE, or the ' +
    `ServiceAccount's azure.workload.identity annotations)${sentence ? ` ("${sentence}")` : ''}`
  );
}

/** Issuer, subject and audience as Entra ID names them in its descriptions, else the hints. */
function refusalContext(err: unknown, hints: IdentityHints): RefusalContext {
  const value = "([^'\\s]{1,512})";
  const issuer =
    firstMatch(err, new RegExp(`Assertion Issuer: '${value}'`, 'i')) ??
    firstMatch(err, new RegExp(`presented assertion issuer '${value}'`, 'i'));
  const subject =
    firstMatch(err, new RegExp(`Assertion Subject: '${value}'`, 'i')) ??
    firstMatch(err, new RegExp(`presented assertion subject '${value}'`, 'i'));
  return {
    clientId: hints.clientId,
    tenantId: hints.tenantId,
    issuer: unmasked(issuer) ?? hints.issuer,
    subject: unmasked(subject) ?? hints.subject,
    audience: firstMatch(err, new RegExp(`Assertion Audience: '${value}'`, 'i')),
    resource: firstMatch(err, /resource principal named (https?:\/\/[^\s'"]{1,256}?)\.? was not/),
  };
}

/** CI systems print Entra's descriptions with values masked as `***`: those say nothing. */
function unmasked(value: string | undefined): string | undefined {
  return value === undefined || /^\*+$/.test(value) ? undefined : value;
}

/** The first sentence after `AADSTSnnnn: `, without Entra's trace and correlation lines. */
function entraSentence(err: unknown, code: string): string | undefined {
  for (const e of causeChain(err)) {
    for (const text of texts(e)) {
      const at = text.indexOf(`${code}:`);
      if (at >= 0) return firstSentence(text.slice(at + code.length + 1));
    }
  }
  return undefined;
}

function firstSentence(text: string): string {
  const line = (text.split(/\r?\n/)[0] ?? '').split(/\s+Trace ID:/)[0] ?? '';
  const scrubbed = line.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<jwt>').trim();
  const sentence = /^.*?[.!?](?=\s|$)/.exec(scrubbed)?.[0] ?? scrubbed;
  if (sentence.length <= MAX_SENTENCE) return sentence;
  return `${sentence.slice(0, MAX_SENTENCE).replace(/\s+\S*$/, '')} …`;
}

function firstMatch(err: unknown, pattern: RegExp): string | undefined {
  for (const e of causeChain(err)) {
    for (const text of texts(e)) {
      const match = pattern.exec(text)?.[1];
      if (match !== undefined) return match;
    }
  }
  return undefined;
}

function texts(e: unknown): string[] {
  const out: string[] = [];
  if (e instanceof Error) out.push(e.message);
  const response = (e as { errorResponse?: { errorDescription?: unknown; error?: unknown } })
    .errorResponse;
  if (typeof response?.errorDescription === 'string') out.push(response.errorDescription);
  const msal = (e as { errorMessage?: unknown }).errorMessage;
  if (typeof msal === 'string') out.push(msal);
  return out;
}
