// The Key Vault REST surface the double implements: method + path -> operation. Anything else is
// "not understood" and answered loudly by the server, so gaps in the double show up in tests.
import { keyVaultErrors } from './key-vault-errors.ts';

export const OPERATIONS = [
  'getSecret',
  'getSecretVersion',
  'listSecrets',
  'listSecretVersions',
  'setSecret',
  'updateSecretProperties',
  'deleteSecret',
  'getDeletedSecret',
  'purgeDeletedSecret',
  'recoverDeletedSecret',
  'getCertificate',
  'getCertificateVersion',
  'listCertificates',
  'listCertificateVersions',
] as const;

export type Operation = (typeof OPERATIONS)[number];

export interface Route {
  operation: Operation;
  name: string | undefined;
  version: string | undefined;
}

interface OperationInfo {
  /** The RBAC data action Key Vault names in a 403. */
  action: string;
  /** Reads need no write permission; lists need access to the whole vault. */
  kind: 'read' | 'list' | 'write';
}

const SECRETS = 'Microsoft.KeyVault/vaults/secrets';
const CERTIFICATES = 'Microsoft.KeyVault/vaults/certificates';

export const OPERATION_INFO: Record<Operation, OperationInfo> = {
  getSecret: { action: `${SECRETS}/getSecret/action`, kind: 'read' },
  getSecretVersion: { action: `${SECRETS}/getSecret/action`, kind: 'read' },
  listSecrets: { action: `${SECRETS}/readMetadata/action`, kind: 'list' },
  listSecretVersions: { action: `${SECRETS}/readMetadata/action`, kind: 'read' },
  setSecret: { action: `${SECRETS}/setSecret/action`, kind: 'write' },
  updateSecretProperties: { action: `${SECRETS}/update/action`, kind: 'write' },
  deleteSecret: { action: `${SECRETS}/delete`, kind: 'write' },
  getDeletedSecret: { action: 'Microsoft.KeyVault/vaults/deletedSecrets/read', kind: 'read' },
  purgeDeletedSecret: { action: 'Microsoft.KeyVault/vaults/deletedSecrets/delete', kind: 'write' },
  recoverDeletedSecret: {
    action: 'Microsoft.KeyVault/vaults/deletedSecrets/recover/action',
    kind: 'write',
  },
  getCertificate: { action: `${CERTIFICATES}/read`, kind: 'read' },
  getCertificateVersion: { action: `${CERTIFICATES}/read`, kind: 'read' },
  listCertificates: { action: `${CERTIFICATES}/read`, kind: 'list' },
  listCertificateVersions: { action: `${CERTIFICATES}/read`, kind: 'read' },
};

const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** Undefined when the double does not implement the request. */
export function matchRoute(method: string, pathname: string): Route | undefined {
  // A trailing slash changes nothing: the SDK asks for "latest" as `/secrets/name/`.
  const segments = pathname.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  const [collection, name, third, ...rest] = segments;
  if (rest.length > 0 || collection === undefined) return undefined;
  if (name !== undefined && !OBJECT_NAME.test(name)) {
    throw keyVaultErrors.badParameter(`The request URI contains an invalid name: ${name}`);
  }
  const isVersion = third !== undefined && third !== 'versions' && third !== 'recover';
  const shape = [collection, name && '{name}', isVersion ? '{version}' : third]
    .filter(Boolean)
    .join('/');
  const operation = ROUTES[`${method} ${shape}`];
  return operation && { operation, name, version: isVersion ? third : undefined };
}

const ROUTES: Record<string, Operation | undefined> = {
  'GET secrets': 'listSecrets',
  'GET secrets/{name}': 'getSecret',
  'GET secrets/{name}/{version}': 'getSecretVersion',
  'GET secrets/{name}/versions': 'listSecretVersions',
  'PUT secrets/{name}': 'setSecret',
  'PATCH secrets/{name}': 'updateSecretProperties',
  'PATCH secrets/{name}/{version}': 'updateSecretProperties',
  'DELETE secrets/{name}': 'deleteSecret',
  'GET deletedsecrets/{name}': 'getDeletedSecret',
  'DELETE deletedsecrets/{name}': 'purgeDeletedSecret',
  'POST deletedsecrets/{name}/recover': 'recoverDeletedSecret',
  'GET certificates': 'listCertificates',
  'GET certificates/{name}': 'getCertificate',
  'GET certificates/{name}/{version}': 'getCertificateVersion',
  'GET certificates/{name}/versions': 'listCertificateVersions',
};
