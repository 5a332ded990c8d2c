// Entra ID's refusals as the token endpoint sends them: an OAuth error plus AADSTS code, with the
// description layout (message, trace id, correlation id, timestamp) that callers end up showing.
import { randomUUID } from 'node:crypto';

export class EntraError extends Error {
  override readonly name = 'EntraError';
  readonly status: number;
  readonly oauthError: string;
  readonly code: number;

  constructor(status: number, oauthError: string, code: number, message: string) {
    super(`AADSTS${code}: ${message}`);
    this.status = status;
    this.oauthError = oauthError;
    this.code = code;
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
const CERT_DOCS =
  'https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials';

export const entraErrors = {
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
  noMatchingFederatedCredential: (issuer: string, subject: string, audience: string) =>
    new EntraError(
      400,
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'. ${WIF_DOCS}`,
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
  unknownResource: (resource: string, tenant: string) =>
    new EntraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ),
  unavailable: (status: number) =>
    new EntraError(
      status,
      'temporarily_unavailable',
      90033,
      'A transient error has occurred. Please try again.',
    ),
};
