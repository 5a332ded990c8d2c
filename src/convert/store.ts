// Pure: the Azure Key Vault provider of an ESO SecretStore or ClusterSecretStore -> the `vault`
// section of a VaultSecret in a given namespace (the same store can serve many namespaces).
import type { VaultReference } from '../api/vault-secret.ts';
import { patterns } from '../api/vault-secret-schema.ts';
import { isAllowedVaultHost, parseVaultUrl } from '../keyvault/vault-url.ts';
import { type Fields, fieldsOf, Findings, text, kubernetesName } from './fields.ts';

const guid = new RegExp(patterns.guid);

const azureFields = [
  'vaultUrl',
  'tenantId',
  'authType',
  'authSecretRef',
  'serviceAccountRef',
  'identityId',
  'environmentType',
];

/** Problems of the store itself, whatever namespace uses it. */
export function storeProblems(spec: Fields | undefined): Findings {
  const findings = new Findings();
  const provider = fieldsOf(spec?.get('provider'));
  const names = [...(provider?.keys() ?? [])];
  if (names.length !== 1 || !provider?.has('azurekv')) {
    findings.problem(
      `provider ${names.join(', ') || '(none)'}: kvsync reads Azure Key Vault only (provider azurekv)`,
    );
    return findings;
  }
  const azure = fieldsOf(provider.get('azurekv'));
  findings.unknownFields(azure, 'azurekv.', azureFields, new Map([['useAzureSDK', true]]));
  const url = text(azure, 'vaultUrl');
  if (url === undefined) {
    findings.problem('azurekv.vaultUrl is missing');
  } else if (!new RegExp(patterns.vaultUrl).test(url)) {
    findings.problem(`azurekv.vaultUrl "${url}" is not an https vault base URL`);
  } else if (!isAllowedVaultHost(parseVaultUrl(url).hostname)) {
    findings.note(
      `vault host ${parseVaultUrl(url).hostname} is not an Azure Key Vault host: the operator must allow its suffix (--vault-suffixes)`,
    );
  }
  const environment = text(azure, 'environmentType') ?? 'PublicCloud';
  if (environment !== 'PublicCloud') {
    findings.note(
      `environmentType ${environment}: kvsync takes the cloud from the vault URL and the operator's AZURE_AUTHORITY_HOST; set it for this cloud`,
    );
  }
  const authType = text(azure, 'authType') ?? 'ServicePrincipal';
  if (!['ServicePrincipal', 'WorkloadIdentity', 'ManagedIdentity'].includes(authType)) {
    findings.problem(`authType ${authType} is not an Azure Key Vault auth type kvsync knows`);
  }
  if (fieldsOf(azure?.get('authSecretRef'))?.has('clientCertificate')) {
    findings.problem(
      'authSecretRef.clientCertificate: kvsync authenticates with workload identity or a client secret, not a client certificate',
    );
  }
  return findings;
}

/**
 * Where the identity is read from: a VaultSecret's own namespace, or, for a ClusterVaultSecret's
 * template, kvsync's namespace (client secrets) and kvsync's own identity, never a ServiceAccount.
 */
export type IdentityScope = { readonly namespace: string | undefined } | 'cluster';

/** The vault and identity for a VaultSecret in `scope`; problems and notes go to `findings`. */
export function vaultFor(
  spec: Fields | undefined,
  scope: IdentityScope,
  findings: Findings,
): VaultReference {
  const azure = fieldsOf(fieldsOf(spec?.get('provider'))?.get('azurekv'));
  const raw = text(azure, 'vaultUrl') ?? '';
  const url = raw.endsWith('/') ? raw : `${raw}/`;
  const tenantId = text(azure, 'tenantId');
  const authType = text(azure, 'authType') ?? 'ServicePrincipal';
  const secretRefs = fieldsOf(azure?.get('authSecretRef'));
  const ids = {
    ...(tenantId !== undefined && guid.test(tenantId) ? { tenantId } : {}),
  };
  if (tenantId !== undefined && !guid.test(tenantId)) {
    findings.problem(`azurekv.tenantId "${tenantId}" is not a GUID`);
  }

  if (authType === 'ServicePrincipal') {
    const clientSecret = fieldsOf(secretRefs?.get('clientSecret'));
    const name = text(clientSecret, 'name');
    if (name === undefined) {
      findings.problem('ServicePrincipal auth without authSecretRef.clientSecret');
      return { url };
    }
    sameNamespace(clientSecret, scope, `client secret ${name}`, findings);
    requireKeys(name, secretRefs, ids.tenantId === undefined, findings);
    return { url, identity: { clientSecretRef: { name }, ...ids } };
  }

  const account = fieldsOf(azure?.get('serviceAccountRef'));
  const accountName = text(account, 'name');
  if (authType === 'WorkloadIdentity' && accountName !== undefined && scope === 'cluster') {
    findings.problem(
      `WorkloadIdentity with serviceAccountRef ${accountName}: a ClusterVaultSecret never reads with a ServiceAccount; give the store a ServicePrincipal (a clientSecretRef to a Secret in kvsync's namespace) or let kvsync read with the operator's identity (authType ManagedIdentity), then convert again`,
    );
    return { url };
  }
  if (authType === 'WorkloadIdentity' && accountName !== undefined) {
    if (!kubernetesName.test(accountName)) {
      findings.problem(`serviceAccountRef.name "${accountName}" is not a ServiceAccount name`);
    }
    sameNamespace(account, scope, `ServiceAccount ${accountName}`, findings);
    if (account?.has('audiences')) {
      findings.problem(
        'serviceAccountRef.audiences: kvsync requests tokens for api://AzureADTokenExchange only',
      );
    }
    if (secretRefs?.has('clientId') || secretRefs?.has('tenantId')) {
      findings.note(
        'authSecretRef.clientId/tenantId: kvsync reads them from the ServiceAccount annotations azure.workload.identity/client-id and tenant-id (or spec.vault.identity.clientId/tenantId); set them there',
      );
    }
    return { url, identity: { serviceAccountName: accountName, ...ids } };
  }

  const borrowed =
    authType === 'ManagedIdentity'
      ? `ManagedIdentity${text(azure, 'identityId') ? ` ${text(azure, 'identityId')}` : ''}`
      : 'WorkloadIdentity without serviceAccountRef';
  const where =
    scope === 'cluster'
      ? 'in every namespace the ClusterVaultSecret selects'
      : 'only in namespaces listed in --default-identity-namespaces';
  findings.note(
    `${borrowed}: kvsync reads with the operator's own workload identity, which works ${where}; give that identity read access to the vault`,
  );
  return { url };
}

/** kvsync reads credentials only from the VaultSecret's own namespace (a ClusterVaultSecret: its own). */
function sameNamespace(
  ref: Fields | undefined,
  scope: IdentityScope,
  what: string,
  findings: Findings,
): void {
  const refNamespace = text(ref, 'namespace');
  if (scope === 'cluster') {
    findings.note(
      `before applying: ${what} must be in kvsync's namespace${refNamespace ? ` (ESO read it from ${refNamespace})` : ''}`,
    );
    return;
  }
  const { namespace } = scope;
  if (refNamespace === undefined || refNamespace === namespace) return;
  findings.problem(
    `${what} is in namespace ${refNamespace}: kvsync reads identities only from the VaultSecret's own namespace (${namespace ?? 'default'})`,
  );
}

/** kvsync reads one Secret with fixed keys; say what to add when ESO's differ. */
function requireKeys(
  name: string,
  refs: Fields | undefined,
  needsTenant: boolean,
  findings: Findings,
): void {
  const expected = new Map([
    ['clientId', 'clientId'],
    ['clientSecret', 'clientSecret'],
    ...(needsTenant ? [['tenantId', 'tenantId'] as const] : []),
  ]);
  for (const [field, key] of expected) {
    const ref = fieldsOf(refs?.get(field));
    if (text(ref, 'name') === name && text(ref, 'key') === key) continue;
    const source = ref ? ` (ESO read ${text(ref, 'name')}/${text(ref, 'key')})` : '';
    findings.note(`before applying: Secret ${name} needs the key ${key}${source}`);
  }
}
