// Every Entra ID refusal kvsync can meet, produced by the Entra double the way Entra answers it
// (AADSTS code, description, OAuth error, HTTP status), received by the real @azure/identity
// credentials inside the real SecretClient, and turned by kvsync into a message that names what
// is wrong and the exact fix.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import type { TokenCredential } from '@azure/core-auth';
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultBudget } from '../../../src/keyvault/budget.ts';
import type { IdentityHints } from '../../../src/keyvault/classify-error.ts';
import { classifyVaultError } from '../../../src/keyvault/classify-error.ts';
import { VaultError, type VaultErrorKind } from '../../../src/keyvault/errors.ts';
import { createSecretReader } from '../../../src/keyvault/secret-reader.ts';
import {
  serviceAccountSubject,
  startAzureDoubles,
  type AzureDoubles,
  type TestIssuer,
} from '../../support/azure/index.ts';

let azure: AzureDoubles;
let issuer: TestIssuer;
/** Another cluster's issuer: its keys sign tokens that claim `issuer`. */
let impostor: TestIssuer;
const NAMESPACE = 'payments';
const SERVICE_ACCOUNT = 'reader';
const SUBJECT = serviceAccountSubject(NAMESPACE, SERVICE_ACCOUNT);
/** Nothing listens on the discard port. */
const UNREACHABLE_ISSUER = 'https://127.0.0.1:9';
const UNKNOWN_TENANT = '0b0e0000-0000-4000-8000-000000000000';

beforeAll(async () => {
  azure = await startAzureDoubles();
  issuer = await azure.startTestIssuer();
  impostor = await azure.startTestIssuer();
  azure.keyVault.createVault('refusals').setSecret('db-password', `v-${randomUUID()}`);
  azure.keyVault.createVault('elsewhere', { tenantId: randomUUID() });
  azure.keyVault.createVault('lost-tenant', { tenantId: UNKNOWN_TENANT });
});

afterAll(async () => {
  await azure?.close();
});

interface Scenario {
  readonly credential: TokenCredential;
  readonly hints: IdentityHints;
  /** Default: read from vault `refusals`. */
  readonly vault?: string;
}

/** An app federated as `credentials` say, and the ServiceAccount token kvsync would present. */
function federated(
  credentials: { issuer?: string; subject?: string; audiences?: string[] }[],
  token: {
    claimedIssuer?: string;
    expiresInSeconds?: number;
    raw?: string;
    signer?: TestIssuer;
  } = {},
): Scenario {
  const app = azure.entra.registerApp({
    federatedCredentials: credentials.map((c) => ({
      issuer: c.issuer ?? issuer.issuer,
      subject: c.subject ?? SUBJECT,
      ...(c.audiences ? { audiences: c.audiences } : {}),
    })),
  });
  azure.keyVault.vault('refusals').grant(app.clientId);
  const assertion = () =>
    token.raw !== undefined
      ? Promise.resolve(token.raw)
      : (token.signer ?? issuer).token({
          namespace: NAMESPACE,
          serviceAccount: SERVICE_ACCOUNT,
          ...(token.claimedIssuer === undefined ? {} : { claimedIssuer: token.claimedIssuer }),
          ...(token.expiresInSeconds === undefined
            ? {}
            : { expiresInSeconds: token.expiresInSeconds }),
        });
  return {
    credential: new ClientAssertionCredential(
      azure.tenantId,
      app.clientId,
      assertion,
      azure.clientOptions,
    ),
    hints: {
      clientId: app.clientId,
      tenantId: azure.tenantId,
      issuer: token.claimedIssuer ?? issuer.issuer,
      subject: SUBJECT,
    },
  };
}

function withSecret(
  options: { secret?: string; tenantId?: string; clientId?: string } = {},
  configure: (clientId: string, secret: string) => void = () => {},
): Scenario {
  const secret = `cs-${randomUUID()}`;
  const app = azure.entra.registerApp({ clientSecret: secret });
  azure.keyVault.vault('refusals').grant(app.clientId);
  configure(app.clientId, secret);
  const clientId = options.clientId ?? app.clientId;
  const tenantId = options.tenantId ?? azure.tenantId;
  return {
    credential: new ClientSecretCredential(
      tenantId,
      clientId,
      options.secret ?? secret,
      azure.clientOptions,
    ),
    hints: { clientId, tenantId },
  };
}

interface Case {
  readonly name: string;
  readonly scenario: () => Scenario;
  /** What the double answered, as Entra does: status and the description's opening (absent
   * where MSAL does not pass Entra's answer on). */
  readonly status?: number;
  readonly description?: RegExp;
  readonly kind?: VaultErrorKind;
  /** The parts kvsync's message must carry. */
  readonly message: (s: Scenario) => (string | RegExp)[];
}

const fixLine = (s: Scenario) =>
  `az identity federated-credential create --identity-name "$(az identity list --query "[?clientId=='${s.hints.clientId}'].name" -o tsv)"`;

const cases: Case[] = [
  {
    name: 'AADSTS70021: issuer and subject match, the audience does not',
    scenario: () => federated([{ audiences: ['api://something-else'] }]),
    status: 400,
    description:
      /^AADSTS70021: No matching federated identity record found for presented assertion\. Assertion Issuer: '.*'\. Assertion Subject: '.*'\. Assertion Audience: 'api:\/\/AzureADTokenExchange'\./,
    message: (s) => [
      '(AADSTS70021)',
      `issuer "${issuer.issuer}", subject "${SUBJECT}") and audience "api://AzureADTokenExchange"`,
      fixLine(s),
      `--issuer "${issuer.issuer}" --subject "${SUBJECT}" --audiences api://AzureADTokenExchange`,
    ],
  },
  {
    name: 'AADSTS700211: no federated credential trusts the issuer',
    scenario: () => federated([{ issuer: 'https://oidc.other-cluster.example/' }]),
    status: 401,
    description:
      /^AADSTS700211: No matching federated identity record found for presented assertion issuer '.*'\./,
    message: (s) => [
      '(AADSTS700211)',
      `trusts the issuer "${issuer.issuer}"`,
      fixLine(s),
      `--issuer "${issuer.issuer}" --subject "${SUBJECT}"`,
    ],
  },
  {
    name: 'AADSTS700213: the issuer is trusted, not the subject',
    scenario: () => federated([{ subject: serviceAccountSubject(NAMESPACE, 'someone-else') }]),
    status: 401,
    description:
      /^AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:payments:reader'\. Check your federated identity credential Subject, Audience and Issuer against the presented assertion\./,
    message: (s) => [
      '(AADSTS700213)',
      `has the subject "${SUBJECT}"`,
      fixLine(s),
      `--name kvsync-payments-reader --issuer "${issuer.issuer}" --subject "${SUBJECT}"`,
    ],
  },
  {
    name: 'AADSTS7002138: the subject matches only when case is ignored',
    scenario: () => federated([{ subject: SUBJECT.toUpperCase() }]),
    status: 401,
    description:
      /^AADSTS7002138: .* matches with case-insensitive comparison, but not with case-sensitive comparison\./,
    message: () => ['(AADSTS7002138)', `exactly "${SUBJECT}"`],
  },
  {
    name: 'AADSTS700016: the client id is not an application of the tenant',
    scenario: () => withSecret({ clientId: randomUUID() }),
    status: 400,
    description:
      /^AADSTS700016: Application with identifier '.*' was not found in the directory '.*'\./,
    message: (s) => [
      '(AADSTS700016)',
      `application (client id) ${s.hints.clientId} does not exist in tenant ${azure.tenantId}`,
      'azure.workload.identity/client-id',
    ],
  },
  {
    name: 'AADSTS700024: the ServiceAccount token has expired',
    scenario: () => federated([{}], { expiresInSeconds: -120 }),
    status: 400,
    description: /^AADSTS700024: Client assertion is not within its valid time range\./,
    message: () => ['(AADSTS700024)', 'has expired or is not yet valid', 'clock'],
  },
  {
    name: 'AADSTS700027: the signature does not verify with the issuer’s keys',
    scenario: () => federated([{}], { signer: impostor, claimedIssuer: issuer.issuer }),
    status: 401,
    description: /^AADSTS700027: Client assertion failed signature validation\./,
    message: () => ['(AADSTS700027)', `keys Entra ID read from its issuer "${issuer.issuer}"`],
  },
  {
    name: 'AADSTS50166: Entra ID cannot reach the issuer',
    scenario: () =>
      federated([{ issuer: UNREACHABLE_ISSUER }], { claimedIssuer: UNREACHABLE_ISSUER }),
    status: 401,
    description: /^AADSTS50166: Request to External OIDC endpoint failed\./,
    message: () => ['(AADSTS50166)', `of the issuer "${UNREACHABLE_ISSUER}"`, 'reachable'],
  },
  {
    name: 'AADSTS7000215: a wrong client secret',
    scenario: () => withSecret({ secret: `wrong-${randomUUID()}` }),
    status: 401,
    description:
      /^AADSTS7000215: Invalid client secret provided\. Ensure the secret being sent in the request is the client secret value, not the client secret ID/,
    message: (s) => [
      '(AADSTS7000215)',
      `the client secret of application (client id) ${s.hints.clientId} is wrong`,
      'clientSecretRef',
    ],
  },
  {
    name: 'AADSTS7000222: an expired client secret',
    scenario: () =>
      withSecret({}, (clientId, secret) => azure.entra.expireClientSecret(clientId, secret)),
    status: 401,
    description: /^AADSTS7000222: The provided client secret keys for app '.*' are expired\./,
    message: (s) => [
      '(AADSTS7000222)',
      'has expired',
      `az ad app credential reset --id ${s.hints.clientId} --append`,
    ],
  },
  {
    name: 'AADSTS90002: the tenant does not exist',
    scenario: () => ({ ...withSecret({ tenantId: UNKNOWN_TENANT }), vault: 'lost-tenant' }),
    message: () => [
      `no OpenID configuration for tenant ${UNKNOWN_TENANT}`,
      `the tenant ${UNKNOWN_TENANT} does not exist in this cloud (AADSTS90002)`,
      'AZURE_AUTHORITY_HOST',
    ],
  },
  {
    name: 'AADSTS50020: an account of another tenant',
    scenario: () =>
      withSecret({}, (clientId) => {
        azure.entra.app(clientId)!.foreign = true;
      }),
    status: 400,
    description:
      /^AADSTS50020: User account '.*' from identity provider '.*' does not exist in tenant '.*'/,
    message: (s) => [
      '(AADSTS50020)',
      `application (client id) ${s.hints.clientId} is from another tenant`,
    ],
  },
  {
    name: 'Entra ID throttling: 429 with Retry-After',
    scenario: () => {
      // Until cleared: the SDK itself waits out Retry-After and retries three times.
      azure.entra.failTokenRequests({ status: 429, retryAfterSeconds: 1 });
      return withSecret();
    },
    status: 429,
    kind: 'Throttled',
    message: (s) => [
      `Entra ID is throttling token requests for application (client id) ${s.hints.clientId} in tenant ${azure.tenantId}`,
    ],
  },
  {
    name: 'an unknown code (AADSTS50027): the code and the first sentence, whole',
    scenario: () => federated([{}], { raw: 'not-a-jwt' }),
    status: 400,
    description: /^AADSTS50027: JWT token is invalid or malformed\./,
    message: () => [
      'Entra ID refused a token (AADSTS50027): "JWT token is invalid or malformed."; see https://login.microsoftonline.com/error?code=50027',
    ],
  },
];

describe('Entra ID refusals through the real SDK', () => {
  it.each(cases)('$name', async ({ scenario, status, description, kind, message }) => {
    const setup = scenario();
    const failure = await read(setup).finally(() => azure.entra.failTokenRequests(undefined));
    expect(failure.kind).toBe(kind ?? 'Unauthenticated');
    if (status !== undefined) expect(failure.statusCode).toBe(status);
    if (description) expect(entraDescription(failure.cause)).toMatch(description);
    for (const part of message(setup)) {
      if (typeof part === 'string') expect(failure.message).toContain(part);
      else expect(failure.message).toMatch(part);
    }
    // Nothing of Entra's trace lines, and nothing cut off.
    expect(failure.message).not.toMatch(/Trace ID|Correlation ID|…/);
  });

  it('AADSTS90002: the double answers an unknown tenant’s OpenID configuration as Entra does', async () => {
    const answer = await rawRequest(
      'GET',
      `${azure.authorityHost}/${UNKNOWN_TENANT}/v2.0/.well-known/openid-configuration`,
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error_codes: [90002],
      error_description: expect.stringMatching(
        new RegExp(`^AADSTS90002: Tenant '${UNKNOWN_TENANT}' not found\\.`),
      ) as unknown,
    });
  });

  it('AADSTS500011: a resource the tenant does not know', async () => {
    const setup = withSecret();
    const refusal = await setup.credential
      .getToken('https://unknown-resource.localtest/.default')
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(entraDescription(refusal)).toMatch(
      /^AADSTS500011: The resource principal named https:\/\/unknown-resource\.localtest was not found in the tenant named/,
    );
    const failure = classifyVaultError(refusal, undefined, setup.hints);
    expect(failure.statusCode).toBe(400);
    expect(failure.message).toContain(
      `(AADSTS500011): the resource "https://unknown-resource.localtest" is not known in tenant ${azure.tenantId}`,
    );
  });

  it('a vault in another tenant: both tenants and what to set, no request to Entra ID', async () => {
    const setup = withSecret();
    const other = azure.keyVault.vault('elsewhere').tenantId;
    azure.entra.resetCounters();
    const failure = await read({ ...setup, vault: 'elsewhere' });
    expect(failure.kind).toBe('Unauthenticated');
    expect(failure.message).toContain(
      `the vault's authentication challenge names tenant ${other}, but the identity (client id ${setup.hints.clientId}) is in tenant ${azure.tenantId}`,
    );
    expect(failure.message).toContain(
      `set spec.vault.identity.tenantId or the ServiceAccount annotation azure.workload.identity/tenant-id to ${other}`,
    );
    expect(azure.entra.tokenRequests()).toBe(0);
  });
});

function rawRequest(
  method: string,
  url: string,
  body?: string,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: azure.agent,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the token endpoint, as MSAL for Go and .NET call it', () => {
  it('accepts `<resource>/.default openid offline_access profile` and issues a token for the resource', async () => {
    const secret = `cs-${randomUUID()}`;
    const app = azure.entra.registerApp({ clientSecret: secret });
    const form = new URLSearchParams({
      client_id: app.clientId,
      client_secret: secret,
      grant_type: 'client_credentials',
      scope: `${azure.keyVaultResource}/.default openid offline_access profile`,
    });
    const answer = await rawRequest(
      'POST',
      `${azure.authorityHost}/${azure.tenantId}/oauth2/v2.0/token`,
      form.toString(),
    );
    expect(answer.status).toBe(200);
    const { access_token: token, token_type: type } = JSON.parse(answer.body) as {
      access_token: string;
      token_type: string;
    };
    expect(type).toBe('Bearer');
    expect(await azure.entra.verifyAccessToken(token)).toMatchObject({
      aud: azure.keyVaultResource,
      appid: app.clientId,
    });
  });
});

async function read(scenario: Scenario): Promise<VaultError> {
  const reader = createSecretReader({
    vaultUrl: azure.vaultUrl(scenario.vault ?? 'refusals'),
    credential: scenario.credential,
    budget: createVaultBudget(),
    clientOptions: azure.clientOptions,
    identityHints: scenario.hints,
  });
  const failure = await reader.getSecret('db-password').then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(failure).toBeInstanceOf(VaultError);
  return failure as VaultError;
}

/** Entra's error_description as MSAL received it, from the SDK error's causes. */
function entraDescription(err: unknown): string | undefined {
  for (let e = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    const response = (e as { errorResponse?: { errorDescription?: unknown } }).errorResponse;
    if (typeof response?.errorDescription === 'string') return response.errorDescription;
    // MSAL's ServerError: "Error(s): <codes> - Timestamp: … - Description: AADSTS…".
    const msal = (e as { errorMessage?: unknown }).errorMessage;
    const at = typeof msal === 'string' ? msal.indexOf('AADSTS') : -1;
    if (at >= 0) return (msal as string).slice(at);
  }
  return undefined;
}
