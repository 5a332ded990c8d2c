// Entra ID refusals (AADSTS codes) turned into messages that say what to fix. @azure/identity
// surfaces them in several shapes: AuthenticationError with an errorResponse, an
// AuthenticationRequiredError or CredentialUnavailableError whose cause is MSAL's ServerError, or
// an AggregateAuthenticationError from a chain; so the whole cause chain is searched.
import { causeChain } from './error-chain.ts';

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
  const app = hints.clientId ? `application (client id) ${hints.clientId}` : 'the application';
  const tenant = hints.tenantId ? ` in tenant ${hints.tenantId}` : '';
  const prefix = `Entra ID refused a token${code ? ` (${code})` : ''}: `;
  switch (code) {
    case 'AADSTS700016':
      return (
        prefix +
        `${app} is unknown${tenant}; check the client id (ServiceAccount annotation ` +
        'azure.workload.identity/client-id or spec.vault.identity.clientId) and the tenant id'
      );
    case 'AADSTS70021':
    case 'AADSTS700211':
      return prefix + federationAdvice(err, hints, app);
    case 'AADSTS700024':
      return (
        prefix +
        'the ServiceAccount token (client assertion) has expired or is not yet valid; ' +
        "check the node's clock and that the projected token is refreshed"
      );
    case 'AADSTS7000215':
      return (
        prefix +
        `the client secret of ${app} is wrong; store the secret's value (not its id) ` +
        'in the referenced Kubernetes Secret'
      );
    case 'AADSTS7000222':
      return prefix + `the client secret of ${app} has expired; create a new one and store it`;
    case 'AADSTS90002':
    case 'AADSTS900023':
      return prefix + `the tenant id${hints.tenantId ? ` ${hints.tenantId}` : ''} is not a tenant`;
    case undefined: {
      const vaultTenant = challengedTenant(err);
      if (vaultTenant !== undefined) {
        return (
          `the vault belongs to tenant ${vaultTenant}, but the identity is in tenant ` +
          `${hints.tenantId ?? 'another tenant'}: set spec.vault.identity.tenantId (or the ` +
          `ServiceAccount annotation azure.workload.identity/tenant-id) to ${vaultTenant}, or ` +
          "use an identity of the vault's tenant"
        );
      }
      return (
        'could not get a token from Entra ID: the workload identity is not set up ' +
        '(AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE, or the ' +
        `ServiceAccount's azure.workload.identity annotations)${reason(err)}`
      );
    }
    default:
      return prefix + `see the ${code} reference in the Entra ID documentation${reason(err)}`;
  }
}

function federationAdvice(err: unknown, hints: IdentityHints, app: string): string {
  const presented = presentedAssertion(err);
  const issuer = presented.issuer ?? hints.issuer;
  const subject = presented.subject ?? hints.subject;
  if (issuer !== undefined && subject !== undefined) {
    return (
      `no federated credential of ${app} matches the ServiceAccount token; add one with ` +
      `issuer "${issuer}", subject "${subject}" and audience "api://AzureADTokenExchange"`
    );
  }
  return (
    `no federated credential of ${app} matches the ServiceAccount token; add one whose issuer is ` +
    "the cluster's service-account issuer URL, subject system:serviceaccount:<namespace>:<name> " +
    'and audience api://AzureADTokenExchange'
  );
}

/** Entra names the presented issuer and subject in AADSTS70021's description. */
function presentedAssertion(err: unknown): { issuer?: string; subject?: string } {
  for (const e of causeChain(err)) {
    for (const text of texts(e)) {
      const issuer = /Assertion Issuer: '([^'\s]{1,512})'/i.exec(text)?.[1];
      const subject = /Assertion Subject: '([^'\s]{1,512})'/i.exec(text)?.[1];
      if (issuer !== undefined || subject !== undefined) {
        return {
          ...(issuer === undefined ? {} : { issuer }),
          ...(subject === undefined ? {} : { subject }),
        };
      }
    }
  }
  return {};
}

/**
 * The tenant Key Vault's challenge named when @azure/identity refused to ask Entra ID for it: the
 * credential is of another tenant (a wrong or corrected tenantId). Only a tenant id or domain.
 */
function challengedTenant(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    for (const text of texts(e)) {
      const match = /not configured to acquire tokens for tenant ([0-9A-Za-z.-]+[0-9A-Za-z])/.exec(
        text,
      );
      if (match) return match[1];
    }
  }
  return undefined;
}

/** A short, token-free excerpt of an unrecognised refusal, to help the reader search. */
function reason(err: unknown): string {
  const text = texts(err)[0];
  if (text === undefined) return '';
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  const scrubbed = firstLine.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<jwt>').slice(0, 200);
  return scrubbed === '' ? '' : ` (${scrubbed})`;
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
