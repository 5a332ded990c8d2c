// Entra ID's refusals as the token endpoint sends them: an OAuth error plus AADSTS code, with the
// description layout (message, trace id, correlation id, timestamp) that callers end up showing.
// Wording, OAuth error and status come from real answers quoted in public reports (named per
// entry); where no report shows the status, the OAuth error's usual status is used and said so.
import { randomUUID } from 'node:crypto';

export class EntraError extends Error {
  override readonly name = 'EntraError';
  readonly status: number;
  readonly oauthError: string;
  readonly code: number;
  /** Sent instead of the JSON body (Entra's throttling answer is plain text). */
  readonly plainBody: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    oauthError: string,
    code: number,
    message: string,
    options: { plainBody?: string; headers?: Record<string, string> } = {},
  ) {
    super(`AADSTS${code}: ${message}`);
    this.status = status;
    this.oauthError = oauthError;
    this.code = code;
    this.plainBody = options.plainBody;
    this.headers = options.headers ?? {};
  }

  body(now: Date): Record<string, unknown> {
    const timestamp = now
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    const traceId = randomUUID();
    const correlationId = randomUUID();
    return {
      error: this.oauthError,
      error_description: `${this.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
    };
  }
}

const WIF_DOCS =
  'https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation';
const WIF_DOCS_NEW = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';
const CHECK_FIC =
  'Check your federated identity credential Subject, Audience and Issuer against the presented assertion.';
const CERT_DOCS =
  'https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials';

export const entraErrors = {
  // microsoft/cross-tenant#83 (wording); invalid_request at the token endpoint is 400.
  tenantNotFound: (tenant: string) =>
    new EntraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  unknownApp: (clientId: string, tenant: string) =>
    new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  // Azure/azure-workload-identity#616: 400 invalid_request, "reply status code was 400".
  noMatchingFederatedCredential: (issuer: string, subject: string, audience: string) =>
    new EntraError(
      400,
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'. ${WIF_DOCS}`,
    ),
  // Azure/azure-workload-identity#1200: invalid_client with error_codes [700211]; invalid_client
  // is 401 at the token endpoint (microsoft/Agents#202 shows 401 for its sibling 7002137).
  noFederatedIssuer: (issuer: string) =>
    new EntraError(
      401,
      'invalid_client',
      700211,
      `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOCS}`,
    ),
  // Azure/azure-workload-identity#1200 (a ServiceAccount subject) and dotnet/maui#31978.
  noFederatedSubject: (subject: string) =>
    new EntraError(
      401,
      'invalid_client',
      700213,
      `No matching federated identity record found for presented assertion subject '${subject}'. ${CHECK_FIC} ${WIF_DOCS_NEW}`,
    ),
  // Azure/login#515: the subject matches only when case is ignored.
  subjectCaseMismatch: (subject: string) =>
    new EntraError(
      401,
      'invalid_client',
      7002138,
      `No matching federated identity record found for presented assertion subject '${subject}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. ${CHECK_FIC} See documentation at: ${WIF_DOCS_NEW}.`,
    ),
  assertionExpired: (now: Date, notBefore: Date | undefined, expiry: Date | undefined) =>
    new EntraError(
      400,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${notBefore?.toISOString() ?? 'unknown'}, expiry time of assertion ${expiry?.toISOString() ?? 'unknown'}. Review the documentation at ${CERT_DOCS} .`,
    ),
  badClientSecret: (clientId: string) =>
    new EntraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  // liprec/vsts-release-aas#119: 401 Unauthorized, invalid_client, error_codes [7000222].
  expiredClientSecret: (clientId: string) =>
    new EntraError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    ),
  // The wording Entra uses for AADSTS50020 (MicrosoftDocs/azure-docs#118443, a user sign-in); no
  // report shows the token endpoint's status for it, so invalid_request's 400 is used.
  accountNotInTenant: (clientId: string, tenant: string) =>
    new EntraError(
      400,
      'invalid_request',
      50020,
      `User account '${clientId}' from identity provider 'https://sts.windows.net/${tenant}/' does not exist in tenant '${tenant}' and cannot access the application '${clientId}' in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`,
    ),
  malformedAssertion: () =>
    new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.'),
  assertionSignature: (reason: string) =>
    new EntraError(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. ${reason}`,
    ),
  issuerUnreachable: (issuer: string, reason: string) =>
    new EntraError(
      401,
      'invalid_client',
      50166,
      `Request to External OIDC endpoint failed. Issuer: '${issuer}'. Reason: ${reason}`,
    ),
  noCredential: () =>
    new EntraError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  unsupportedAssertionType: (type: string) =>
    new EntraError(400, 'invalid_request', 50027, `Unsupported client_assertion_type '${type}'.`),
  unsupportedGrant: (grant: string) =>
    new EntraError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grant}'. The Entra ID test double only implements client_credentials.`,
    ),
  badScope: (scope: string) =>
    new EntraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  // hashicorp/terraform-provider-azurerm#16291: 400 invalid_resource, error_codes [500011].
  unknownResource: (resource: string, tenant: string) =>
    new EntraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ),
  // Entra ID throttles token requests per application and tenant with 429, Retry-After and a body
  // that is not JSON: "ResponseBody: Too Many Requests, Headers: Retry-After: 60"
  // (AzureAD/microsoft-authentication-library-for-dotnet#2855, client credentials without a cache).
  throttled: (retryAfterSeconds: number) =>
    new EntraError(429, 'throttled', 0, 'Too Many Requests', {
      plainBody: 'Too Many Requests',
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  unavailable: (status: number) =>
    new EntraError(
      status,
      'temporarily_unavailable',
      90033,
      'A transient error has occurred. Please try again.',
    ),
};
