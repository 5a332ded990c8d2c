// Pure: what each Entra ID refusal (AADSTS code) means for kvsync and the exact fix, built from
// parts kvsync knows (client id, tenant, the issuer and subject it presented), never cut from
// Entra's text. Codes are those the token endpoint answers in the federated (workload identity)
// and client-secret flows; an unknown code keeps its code and Entra's first sentence whole.

/** What is known when a refusal is described; every field is a name or id, never a secret. */
export interface RefusalContext {
  readonly clientId?: string | undefined;
  readonly tenantId?: string | undefined;
  /** The ServiceAccount token's issuer and subject, as presented to Entra ID. */
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
  readonly audience?: string | undefined;
  /** The resource a token was asked for, when Entra named it. */
  readonly resource?: string | undefined;
}

interface Refusal {
  /** What is wrong, as a clause. */
  readonly what: (context: RefusalContext) => string;
  /** What to do about it. */
  readonly fix: (context: RefusalContext) => string;
}

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

const CLIENT_ID_SOURCES =
  'the ServiceAccount annotation azure.workload.identity/client-id, spec.vault.identity.clientId, ' +
  'key clientId of the clientSecretRef Secret, or AZURE_CLIENT_ID';
const TENANT_ID_SOURCES =
  'the ServiceAccount annotation azure.workload.identity/tenant-id, spec.vault.identity.tenantId, ' +
  'key tenantId of the clientSecretRef Secret, or AZURE_TENANT_ID';

const app = (c: RefusalContext) =>
  c.clientId ? `application (client id) ${c.clientId}` : 'the application';
const inTenant = (c: RefusalContext) => (c.tenantId ? ` in tenant ${c.tenantId}` : '');
/** `issuer "…", subject "…"`, leaving out what is not known. */
const claims = (c: RefusalContext, which: readonly ('issuer' | 'subject')[]) =>
  which.flatMap((claim) => (c[claim] === undefined ? [] : [`${claim} "${c[claim]}"`])).join(', ');
const presented = (c: RefusalContext, which: readonly ('issuer' | 'subject')[]) => {
  const known = claims(c, which);
  return `the ServiceAccount token kvsync presented${known ? ` (${known})` : ''}`;
};

/** The `az` line that adds the federated credential Entra ID did not find. */
export function federatedCredentialCommand(c: RefusalContext): string {
  const byClientId = (field: string) =>
    c.clientId
      ? `"$(az identity list --query "[?clientId=='${c.clientId}'].${field}" -o tsv)"`
      : `<${field === 'name' ? 'identity-name' : 'resource-group'}>`;
  const issuer = c.issuer
    ? `"${c.issuer}"`
    : '"$(az aks show -g <resource-group> -n <cluster> --query oidcIssuerProfile.issuerUrl -o tsv)"';
  const subject = c.subject ?? 'system:serviceaccount:<namespace>:<name>';
  return (
    `az identity federated-credential create --identity-name ${byClientId('name')} ` +
    `--resource-group ${byClientId('resourceGroup')} --name ${credentialName(subject)} ` +
    `--issuer ${issuer} --subject "${subject}" --audiences ${TOKEN_EXCHANGE_AUDIENCE}`
  );
}

/** `kvsync-<namespace>-<name>`, within Entra's 3-120 characters of letters, digits, - and _. */
function credentialName(subject: string): string {
  const parts = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
  const name = parts ? `kvsync-${parts[1]}-${parts[2]}` : 'kvsync';
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 120);
}

const addFederatedCredential: Refusal['fix'] = (c) =>
  `add the federated credential: ${federatedCredentialCommand(c)}`;

const tenantNotFound: Refusal = {
  what: (c) => `the tenant${c.tenantId ? ` ${c.tenantId}` : ''} does not exist in this cloud`,
  fix: () =>
    `check the tenant id (${TENANT_ID_SOURCES}) and that AZURE_AUTHORITY_HOST is the login ` +
    "host of the vault's cloud",
};

const REFUSALS = new Map<string, Refusal>([
  [
    'AADSTS70021',
    {
      what: (c) =>
        `no federated credential of ${app(c)} matches ${presented(c, ['issuer', 'subject'])} and audience ` +
        `"${c.audience ?? TOKEN_EXCHANGE_AUDIENCE}"`,
      fix: addFederatedCredential,
    },
  ],
  [
    'AADSTS700211',
    {
      what: (c) =>
        `no federated credential of ${app(c)} trusts the issuer ${c.issuer ? `"${c.issuer}" ` : ''}` +
        `of ${presented(c, ['subject'])}`,
      fix: (c) =>
        `${addFederatedCredential(c)} (the issuer must be the cluster's OIDC issuer URL exactly, ` +
        'character, including any trailing slash)',
    },
  ],
  [
    'AADSTS700213',
    {
      what: (c) =>
        `no federated credential of ${app(c)} has the subject ${c.subject ? `"${c.subject}" ` : ''}` +
        `of ${presented(c, ['issuer'])}`,
      fix: addFederatedCredential,
    },
  ],
  [
    'AADSTS7002138',
    {
      what: (c) =>
        `a federated credential of ${app(c)} matches the subject of ${presented(c, ['subject'])} ` +
        'only when case is ignored, and Entra ID compares subjects case-sensitively',
      fix: (c) =>
        `replace it with one whose subject is exactly ${c.subject ? `"${c.subject}"` : 'that subject'}`,
    },
  ],
  [
    'AADSTS700016',
    {
      what: (c) => `${app(c)} does not exist${inTenant(c)}`,
      fix: () =>
        `check the client id (${CLIENT_ID_SOURCES}) and that the tenant id is the tenant ` +
        'the application is registered in',
    },
  ],
  [
    'AADSTS700024',
    {
      what: () =>
        'the ServiceAccount token kvsync presented (client assertion) has expired or is not yet ' +
        'valid by Entra ID’s clock',
      fix: () => "check the clock of kvsync's node (NTP)",
    },
  ],
  [
    'AADSTS700027',
    {
      what: (c) =>
        `the signature of the ServiceAccount token kvsync presented did not verify with the keys ` +
        `Entra ID read from its issuer${c.issuer ? ` "${c.issuer}"` : ''}`,
      fix: () =>
        "check that the federated credential's issuer is this cluster's OIDC issuer and that its " +
        'discovery document and JWKS are public and current (after a key rotation, Entra ID ' +
        'refreshes them within 24 hours)',
    },
  ],
  [
    'AADSTS50166',
    {
      what: (c) =>
        'Entra ID could not read the OIDC discovery document or keys of the issuer' +
        `${c.issuer ? ` "${c.issuer}"` : ' of the ServiceAccount token kvsync presented'}`,
      fix: () =>
        "make the cluster's OIDC issuer (/.well-known/openid-configuration and its jwks_uri) " +
        'reachable from the internet without authentication',
    },
  ],
  [
    'AADSTS7000215',
    {
      what: (c) => `the client secret of ${app(c)} is wrong`,
      fix: () =>
        "store the secret's value (not its id) under key clientSecret of the Secret named by " +
        'spec.vault.identity.clientSecretRef (or AZURE_CLIENT_SECRET)',
    },
  ],
  [
    'AADSTS7000222',
    {
      what: (c) => `the client secret of ${app(c)} has expired`,
      fix: (c) =>
        `create a new one (az ad app credential reset --id ${c.clientId ?? '<client-id>'} ` +
        '--append) and store its value under key clientSecret of the referenced Secret',
    },
  ],
  ['AADSTS90002', tenantNotFound],
  ['AADSTS900023', tenantNotFound],
  [
    'AADSTS50020',
    {
      what: (c) => `${app(c)} is from another tenant and is not known${inTenant(c)}`,
      fix: () =>
        `use an identity registered in the vault's tenant, or set the tenant id (${TENANT_ID_SOURCES}) ` +
        'to the tenant the identity belongs to',
    },
  ],
  [
    'AADSTS500011',
    {
      what: (c) =>
        `the resource ${c.resource ? `"${c.resource}" ` : ''}is not known${inTenant(c)}, so no ` +
        'token can be issued for it',
      fix: () =>
        "check that AZURE_AUTHORITY_HOST and the tenant id belong to the vault's cloud (e.g. " +
        'login.microsoftonline.us for .vault.usgovcloudapi.net)',
    },
  ],
]);

/** The clause and fix for a known code, or undefined. */
export function describeRefusal(
  code: string,
  context: RefusalContext,
): { what: string; fix: string } | undefined {
  const refusal = REFUSALS.get(code);
  return refusal && { what: refusal.what(context), fix: refusal.fix(context) };
}

/** Every code with an entry, for tests and documentation. */
export const KNOWN_ENTRA_CODES: readonly string[] = [...REFUSALS.keys()];
