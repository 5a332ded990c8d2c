import { AbortError } from '@azure/abort-controller';
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { classifyVaultError } from '../../../src/keyvault/classify-error.ts';
import { KNOWN_ENTRA_CODES } from '../../../src/keyvault/entra-refusals.ts';
import { VaultError, type VaultErrorKind } from '../../../src/keyvault/errors.ts';

/** A RestError as @azure/keyvault-secrets throws it for a Key Vault error response. */
function kvError(
  status: number,
  body: { code: string; message: string; inner?: string } | undefined,
  headers: Record<string, string> = {},
): RestError {
  const request = createPipelineRequest({
    url: 'https://kv.vault.azure.net/secrets/db?api-version=2026-04-01',
  });
  const response = { status, headers: createHttpHeaders(headers), request };
  const err = new RestError(body?.message ?? `Unexpected status code: ${status}`, {
    statusCode: status,
    ...(body ? { code: body.code } : {}),
    request,
    response,
  });
  if (body) {
    err.details = {
      error: {
        code: body.code,
        message: body.message,
        innerError: body.inner ? { code: body.inner } : undefined,
      },
    };
  }
  return err;
}

function networkError(code: string): RestError {
  return new RestError(`connect ${code} 127.0.0.1:443`, { code });
}

function entraError(status: number, code: number, description: string): AuthenticationError {
  return new AuthenticationError(status, {
    error: 'invalid_client',
    error_description: `AADSTS${code}: ${description}`,
    error_codes: [code],
  });
}

/** MSAL's ServerError, as WorkloadIdentityCredential wraps it in AuthenticationRequiredError. */
function msalRefusal(code: number, description: string): AuthenticationRequiredError {
  const serverError = Object.assign(new Error(`invalid_client: AADSTS${code}: ${description}`), {
    name: 'ServerError',
    errorCode: 'invalid_client',
    errorMessage: `AADSTS${code}: ${description}`,
  });
  return new AuthenticationRequiredError({
    scopes: ['https://vault.azure.net/.default'],
    message: serverError.message,
    cause: serverError,
  });
}

const SECRET_VALUE = 's3cr3t-value-never-shown';

interface Case {
  name: string;
  err: unknown;
  kind: VaultErrorKind;
  message: RegExp;
  statusCode?: number;
  retryAfterMs?: number;
}

const cases: Case[] = [
  {
    name: '404 SecretNotFound',
    err: kvError(404, {
      code: 'SecretNotFound',
      message: 'A secret with (name/id) db was not found in this key vault.',
    }),
    kind: 'NotFound',
    message: /secret "db" was not found in Key Vault \(SecretNotFound\)/,
    statusCode: 404,
  },
  {
    name: '403 on a disabled secret',
    err: kvError(403, {
      code: 'Forbidden',
      message: 'Operation get is not allowed on a disabled secret.',
      inner: 'SecretDisabled',
    }),
    kind: 'Disabled',
    message: /secret "db" is disabled in Key Vault/,
    statusCode: 403,
  },
  {
    name: '403 by RBAC',
    err: kvError(403, {
      code: 'Forbidden',
      message: 'Caller is not authorized to perform action on resource.',
      inner: 'ForbiddenByRbac',
    }),
    kind: 'Forbidden',
    message:
      /assign the "Key Vault Secrets User" role on the vault.*\(Forbidden\/ForbiddenByRbac\)/,
    statusCode: 403,
  },
  {
    name: '403 by access policy',
    err: kvError(403, {
      code: 'Forbidden',
      message: 'The user, group or application does not have secrets get permission.',
      inner: 'AccessDenied',
    }),
    kind: 'Forbidden',
    message: /access policy for this identity with the secret permissions get and list/,
  },
  {
    name: '403 without a hint says both ways to grant access',
    err: kvError(403, { code: 'Forbidden', message: 'Access denied.' }),
    kind: 'Forbidden',
    message:
      /"Key Vault Secrets User" role.*\(RBAC vaults\), or add an access policy.*get and list/,
  },
  {
    name: '403 by the vault firewall',
    err: kvError(403, {
      code: 'Forbidden',
      message: 'Client address is not authorized.',
      inner: 'ForbiddenByFirewall',
    }),
    kind: 'Forbidden',
    message: /network rules/,
  },
  {
    name: '403 with public network access disabled is a network refusal, not a disabled secret',
    err: kvError(403, {
      code: 'Forbidden',
      message:
        'Public network access is disabled and request is not from a trusted service nor via an approved private link.',
      inner: 'ForbiddenByConnection',
    }),
    kind: 'Forbidden',
    message: /network rules/,
  },
  {
    name: '403 with only the inner code SecretDisabled',
    err: kvError(403, { code: 'Forbidden', message: 'Forbidden', inner: 'SecretDisabled' }),
    kind: 'Disabled',
    message: /is disabled in Key Vault/,
  },
  {
    name: '401 after a token',
    err: kvError(401, { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' }),
    kind: 'Unauthenticated',
    message: /refused the token/,
    statusCode: 401,
  },
  {
    name: '429 with Retry-After seconds',
    err: kvError(
      429,
      {
        code: 'Throttled',
        message: 'Request was not processed because too many requests were received.',
      },
      { 'Retry-After': '7' },
    ),
    kind: 'Throttled',
    message: /throttling/,
    statusCode: 429,
    retryAfterMs: 7_000,
  },
  {
    name: '429 with retry-after-ms',
    err: kvError(429, undefined, { 'retry-after-ms': '1500' }),
    kind: 'Throttled',
    message: /throttling/,
    retryAfterMs: 1_500,
  },
  {
    name: '429 with x-ms-retry-after-ms',
    err: kvError(429, undefined, { 'x-ms-retry-after-ms': '250' }),
    kind: 'Throttled',
    message: /throttling/,
    retryAfterMs: 250,
  },
  {
    name: '429 without Retry-After',
    err: kvError(429, undefined),
    kind: 'Throttled',
    message: /throttling/,
  },
  {
    name: '500',
    err: kvError(500, { code: 'InternalServerError', message: 'oops' }),
    kind: 'Transient',
    message: /answered 500/,
  },
  { name: '503', err: kvError(503, undefined), kind: 'Transient', message: /answered 503/ },
  { name: '408', err: kvError(408, undefined), kind: 'Transient', message: /answered 408/ },
  {
    name: 'ECONNRESET',
    err: networkError('ECONNRESET'),
    kind: 'Transient',
    message: /could not reach Key Vault.*ECONNRESET/,
  },
  {
    name: 'ECONNREFUSED',
    err: networkError('ECONNREFUSED'),
    kind: 'Transient',
    message: /ECONNREFUSED/,
  },
  { name: 'ETIMEDOUT', err: networkError('ETIMEDOUT'), kind: 'Transient', message: /ETIMEDOUT/ },
  { name: 'EAI_AGAIN', err: networkError('EAI_AGAIN'), kind: 'Transient', message: /EAI_AGAIN/ },
  {
    name: 'socket hang up',
    err: new RestError('socket hang up', { code: RestError.REQUEST_SEND_ERROR }),
    kind: 'Transient',
    message: /could not reach Key Vault/,
  },
  {
    name: 'a Node system error without RestError',
    err: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    kind: 'Transient',
    message: /ECONNRESET/,
  },
  {
    name: 'a request timeout (AbortError)',
    err: new AbortError(
      'The operation was aborted. Rejecting from abort signal callback while making request.',
    ),
    kind: 'Transient',
    message: /did not answer in time/,
  },
  {
    name: 'AADSTS700016 unknown application',
    err: entraError(
      400,
      700016,
      "Application with identifier '1111' was not found in the directory 'contoso'.",
    ),
    kind: 'Unauthenticated',
    message:
      /\(AADSTS700016\): application \(client id\) 1111-client does not exist in tenant t-1; check the client id/,
    statusCode: 400,
  },
  {
    name: 'AADSTS70021 names the presented issuer and subject',
    err: msalRefusal(
      70021,
      "No matching federated identity record found for presented assertion. Assertion Issuer: 'https://kube.example/issuer'. Assertion Subject: 'system:serviceaccount:payments:app'. Assertion Audience: 'api://AzureADTokenExchange'.",
    ),
    kind: 'Unauthenticated',
    message:
      /\(AADSTS70021\).*--issuer "https:\/\/kube\.example\/issuer" --subject "system:serviceaccount:payments:app" --audiences api:\/\/AzureADTokenExchange/,
  },
  {
    name: 'AADSTS70021 without details falls back to the hints',
    err: entraError(
      400,
      70021,
      'No matching federated identity record found for presented assertion.',
    ),
    kind: 'Unauthenticated',
    message: /--issuer "https:\/\/hinted\/issuer" --subject "system:serviceaccount:ns:hinted"/,
  },
  {
    name: 'AADSTS700024 expired assertion',
    err: entraError(400, 700024, 'Client assertion is not within its valid time range.'),
    kind: 'Unauthenticated',
    message: /\(AADSTS700024\).*has expired or is not yet valid/,
  },
  {
    name: 'AADSTS7000215 invalid client secret',
    err: entraError(401, 7000215, 'Invalid client secret provided.'),
    kind: 'Unauthenticated',
    message: /\(AADSTS7000215\).*client secret.*is wrong/,
    statusCode: 401,
  },
  {
    name: 'CredentialUnavailableError (no workload identity configured)',
    err: new CredentialUnavailableError(
      'WorkloadIdentityCredential: is unavailable. tenantId, clientId, and federatedTokenFilePath are required parameters.',
    ),
    kind: 'Unauthenticated',
    message: /workload identity is not set up/,
  },
  {
    name: "a credential of another tenant than the vault's (a wrong tenantId)",
    err: new CredentialUnavailableError(
      'The current credential is not configured to acquire tokens for tenant 72f988bf-0000-4000-8000-00000000cafe. To enable acquiring tokens for this tenant add it to the AdditionallyAllowedTenants on the credential options, or add "*" to AdditionallyAllowedTenants to allow acquiring tokens for any tenant.',
    ),
    kind: 'Unauthenticated',
    message:
      /^the vault's authentication challenge names tenant 72f988bf-0000-4000-8000-00000000cafe, but the identity \(client id [^)]*\) is in tenant t-1\b.*set spec\.vault\.identity\.tenantId/,
  },
  {
    name: 'a chain of credentials that all failed',
    err: new AggregateAuthenticationError(
      [entraError(400, 700016, 'Application not found.')],
      'ChainedTokenCredential failed',
    ),
    kind: 'Unauthenticated',
    message: /AADSTS700016/,
  },
  {
    name: 'Entra ID unreachable',
    err: new CredentialUnavailableError('could not reach login', {
      cause: networkError('ECONNREFUSED'),
    }),
    kind: 'Transient',
    message: /Entra ID is unreachable or busy/,
  },
  {
    name: 'Entra ID throttling (429)',
    err: new AuthenticationError(429, 'Too Many Requests'),
    kind: 'Throttled',
    message:
      /Entra ID is throttling token requests for application \(client id\) 1111-client in tenant t-1/,
    statusCode: 429,
  },
  {
    name: 'a challenge naming another resource (a host posing as a vault)',
    err: new Error(
      "The challenge resource 'vault.azure.net' does not match the requested domain. Set disableChallengeResourceVerification to true in your client options to disable. See https://aka.ms/azsdk/blog/vault-uri for more information.",
    ),
    kind: 'UntrustedHost',
    message:
      /challenge names resource "vault\.azure\.net", which this vault host does not belong to/,
  },
  {
    name: 'Entra ID answering 503',
    err: new AuthenticationError(503, 'Service Unavailable'),
    kind: 'Transient',
    message: /Entra ID is unreachable or busy/,
  },
  {
    // What ClientSecretCredential throws while Entra ID is down: MSAL's ServerError carries the
    // HTTP status as `status`, and a 5xx is an outage to wait out, not a refusal to fix.
    name: 'Entra ID answering 503 through MSAL (AADSTS90033)',
    err: new AuthenticationRequiredError({
      scopes: ['https://vault.azure.net/.default'],
      message: 'temporarily_unavailable',
      cause: Object.assign(new Error('AADSTS90033: A transient error has occurred.'), {
        name: 'ServerError',
        errorCode: 'temporarily_unavailable',
        errorNo: 90033,
        status: 503,
      }),
    }),
    kind: 'Transient',
    message: /Entra ID is unreachable or busy/,
  },
  {
    name: "Entra ID's transient error (AADSTS90033) without a status",
    err: msalRefusal(90033, 'A transient error has occurred. Please try again.'),
    kind: 'Transient',
    message: /Entra ID is unreachable or busy/,
  },
  {
    name: '400 bad request',
    err: kvError(400, { code: 'BadParameter', message: 'bad' }),
    kind: 'Invalid',
    message: /refused the request.*400 \(BadParameter\)/,
  },
  {
    name: 'a TypeError',
    err: new TypeError('x is undefined'),
    kind: 'Invalid',
    message: /unexpected failure.*TypeError/,
  },
  { name: 'a thrown string', err: 'boom', kind: 'Invalid', message: /unexpected failure/ },
];

describe('classifyVaultError', () => {
  it.each(cases)('$name -> $kind', ({ err, kind, message, statusCode, retryAfterMs }) => {
    const classified = classifyVaultError(err, 'db', {
      clientId: '1111-client',
      tenantId: 't-1',
      issuer: 'https://hinted/issuer',
      subject: 'system:serviceaccount:ns:hinted',
    });
    expect(classified).toBeInstanceOf(VaultError);
    expect(classified.kind).toBe(kind);
    expect(classified.message).toMatch(message);
    expect(classified.objectName).toBe('db');
    expect(classified.cause).toBe(err);
    if (statusCode !== undefined) expect(classified.statusCode).toBe(statusCode);
    expect(classified.retryAfterMs).toBe(retryAfterMs);
  });

  it('reads Retry-After given as an HTTP date', () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const classified = classifyVaultError(kvError(429, undefined, { 'retry-after': at }));
    expect(classified.retryAfterMs).toBeGreaterThan(20_000);
    expect(classified.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('returns a VaultError unchanged', () => {
    const original = new VaultError('Throttled', 'budget exhausted');
    expect(classifyVaultError(original, 'db')).toBe(original);
  });

  it('talks about the vault when no object is named', () => {
    expect(classifyVaultError(kvError(403, { code: 'Forbidden', message: 'no' })).message).toMatch(
      /may not read the vault/,
    );
  });

  it('never repeats a value that a service message carried', () => {
    const errors = [
      kvError(400, { code: 'BadParameter', message: `value ${SECRET_VALUE} rejected` }),
      kvError(403, { code: 'Forbidden', message: `disabled ${SECRET_VALUE}` }),
      kvError(500, { code: 'InternalServerError', message: SECRET_VALUE }),
      entraError(400, 70021, `Assertion ${SECRET_VALUE}`),
      new RestError(SECRET_VALUE, { code: 'ECONNRESET' }),
    ];
    for (const err of errors)
      expect(classifyVaultError(err, 'db').message).not.toContain(SECRET_VALUE);
  });
});

describe('Entra ID refusals: a message built from parts for every known code', () => {
  const hints = {
    clientId: '1111-client',
    tenantId: 't-1',
    issuer: 'https://kube.example/issuer',
    subject: 'system:serviceaccount:payments:app',
  };
  // What each message must say: the clause and the fix, with the parts kvsync knows.
  const expected: Record<string, RegExp[]> = {
    AADSTS70021: [/no federated credential/, /az identity federated-credential create/],
    AADSTS700211: [/trusts the issuer "https:\/\/kube\.example\/issuer"/, /--issuer "https/],
    AADSTS700213: [
      /has the subject "system:serviceaccount:payments:app"/,
      /--subject "system:serviceaccount:payments:app"/,
    ],
    AADSTS7002138: [/case-sensitively/, /exactly "system:serviceaccount:payments:app"/],
    AADSTS700016: [/1111-client does not exist in tenant t-1/, /check the client id/],
    AADSTS700024: [/expired or is not yet valid/, /clock/],
    AADSTS700027: [/signature/, /JWKS/],
    AADSTS50166: [/could not read the OIDC discovery document/, /reachable from the internet/],
    AADSTS7000215: [/client secret of application \(client id\) 1111-client is wrong/, /value/],
    AADSTS7000222: [/has expired/, /az ad app credential reset --id 1111-client --append/],
    AADSTS90002: [/tenant t-1 does not exist/, /AZURE_AUTHORITY_HOST/],
    AADSTS900023: [/tenant t-1 does not exist/, /check the tenant id/],
    AADSTS50020: [/from another tenant/, /vault's tenant/],
    AADSTS500011: [/resource "https:\/\/vault\.azure\.net" is not known in tenant t-1/, /cloud/],
  };

  it('covers every code in the table', () => {
    expect(Object.keys(expected).sort()).toEqual([...KNOWN_ENTRA_CODES].sort());
  });

  it.each(Object.entries(expected))('%s', (code, parts) => {
    const description =
      code === 'AADSTS500011'
        ? 'The resource principal named https://vault.azure.net was not found in the tenant named t-1.'
        : 'Something Entra ID says.';
    const number = Number(code.slice('AADSTS'.length));
    const classified = classifyVaultError(entraError(400, number, description), 'db', hints);
    expect(classified.kind).toBe('Unauthenticated');
    expect(classified.message).toContain(`Entra ID refused a token (${code}): `);
    for (const part of parts) expect(classified.message).toMatch(part);
    expect(classified.message).not.toContain('Something Entra ID says');
  });

  it('keeps the subject whole, however long (AADSTS700213 names it)', () => {
    const subject = `system:serviceaccount:${'n'.repeat(63)}:${'s'.repeat(200)}`;
    const err = entraError(
      401,
      700213,
      `No matching federated identity record found for presented assertion subject '${subject}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    );
    const message = classifyVaultError(err, 'db', { clientId: '1111-client' }).message;
    expect(message).toContain(`has the subject "${subject}"`);
    expect(message).toContain(`--subject "${subject}"`);
    expect(message).toContain(
      `--identity-name "$(az identity list --query "[?clientId=='1111-client'].name" -o tsv)"`,
    );
  });

  it('an unknown code keeps its code and first sentence whole, without trace lines', () => {
    const sentence = `The thing ${'x'.repeat(300)} went wrong for 'a.b' at https://example.com/x.y.`;
    const err = entraError(400, 9999999, `${sentence} Second sentence.\r\nTrace ID: abc`);
    const message = classifyVaultError(err, 'db', hints).message;
    expect(message).toBe(
      `Entra ID refused a token (AADSTS9999999): "${sentence}"; see https://login.microsoftonline.com/error?code=9999999`,
    );
  });

  it('a challenge naming another tenant says both tenants and what to set', () => {
    const err = new CredentialUnavailableError(
      'The current credential is not configured to acquire tokens for tenant t-2. To enable acquiring tokens for this tenant add it to the AdditionallyAllowedTenants on the credential options, or add "*" to AdditionallyAllowedTenants to allow acquiring tokens for any tenant.',
    );
    const message = classifyVaultError(err, 'db', hints).message;
    expect(message).toMatch(
      /challenge names tenant t-2, but the identity \(client id 1111-client\) is in tenant t-1/,
    );
    expect(message).toMatch(
      /spec\.vault\.identity\.tenantId or the ServiceAccount annotation azure\.workload\.identity\/tenant-id to t-2/,
    );
    expect(message).not.toContain('not set up');
  });
});
