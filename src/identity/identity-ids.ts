// Pure: which Entra application (client id) and tenant an identity uses, from the spec's overrides,
// the ServiceAccount's workload identity annotations or the client secret's keys, with errors that
// name exactly what is missing. Ids become part of cache keys and URLs, so their shape is checked.
import { IdentityError } from './types.ts';

export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// A tenant is a GUID or a verified domain (contoso.onmicrosoft.com).
const TENANT =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-zA-Z0-9][a-zA-Z0-9.-]{0,252}[a-zA-Z0-9])$/;

export interface EntraIds {
  readonly clientId: string;
  readonly tenantId: string;
}

export interface IdOverrides {
  readonly clientId?: string | undefined;
  readonly tenantId?: string | undefined;
}

export function serviceAccountIds(
  serviceAccount: {
    namespace: string;
    name: string;
    annotations: Readonly<Record<string, string>>;
  },
  overrides: IdOverrides,
  operatorTenantId: string | undefined,
): EntraIds {
  const where = `ServiceAccount ${serviceAccount.name} in namespace ${serviceAccount.namespace}`;
  const clientId =
    overrides.clientId ?? blankToUndefined(serviceAccount.annotations[CLIENT_ID_ANNOTATION]);
  if (clientId === undefined) {
    throw new IdentityError(
      'IdentityError',
      `${where} has no annotation ${CLIENT_ID_ANNOTATION}: annotate it with the client id of the ` +
        'Entra ID application it is federated with, or set spec.vault.identity.clientId',
    );
  }
  const tenantId =
    overrides.tenantId ??
    blankToUndefined(serviceAccount.annotations[TENANT_ID_ANNOTATION]) ??
    operatorTenantId;
  if (tenantId === undefined) {
    throw new IdentityError(
      'IdentityError',
      `${where} has no annotation ${TENANT_ID_ANNOTATION} and kvsync has no default tenant ` +
        '(AZURE_TENANT_ID): annotate it with the tenant id, or set spec.vault.identity.tenantId',
    );
  }
  checkIds({ clientId, tenantId }, (field) =>
    overrides[field] !== undefined
      ? `spec.vault.identity.${field}`
      : `the ${field === 'clientId' ? CLIENT_ID_ANNOTATION : TENANT_ID_ANNOTATION} annotation of ${where}`,
  );
  return { clientId, tenantId };
}

export const CLIENT_SECRET_KEYS = ['tenantId', 'clientId', 'clientSecret'] as const;

export interface ClientSecretContent extends EntraIds {
  readonly clientSecret: string;
}

/** Names the Secret's missing keys (never a value). Spec overrides stand in for the ids. */
export function clientSecretContent(
  secret: { namespace: string; name: string; data: Readonly<Record<string, string>> },
  overrides: IdOverrides,
): ClientSecretContent {
  const value = (key: (typeof CLIENT_SECRET_KEYS)[number]): string | undefined =>
    (key === 'clientSecret' ? undefined : overrides[key]) ?? blankToUndefined(secret.data[key]);
  const missing = CLIENT_SECRET_KEYS.filter((key) => value(key) === undefined);
  if (missing.length > 0) {
    const keys = missing.map((key) => `"${key}"`).join(', ');
    throw new IdentityError(
      'IdentityError',
      `Secret ${secret.name} in namespace ${secret.namespace} (spec.vault.identity.clientSecretRef) ` +
        `has no ${missing.length === 1 ? 'key' : 'keys'} ${keys}, or ${missing.length === 1 ? 'it is' : 'they are'} empty: ` +
        'it needs tenantId, clientId and clientSecret',
    );
  }
  const content = {
    tenantId: value('tenantId')!,
    clientId: value('clientId')!,
    clientSecret: value('clientSecret')!,
  };
  checkIds(content, (field) =>
    overrides[field] !== undefined
      ? `spec.vault.identity.${field}`
      : `key "${field}" of Secret ${secret.name} in namespace ${secret.namespace}`,
  );
  return content;
}

function checkIds(ids: EntraIds, source: (field: keyof EntraIds) => string): void {
  if (!GUID.test(ids.clientId)) {
    throw new IdentityError('IdentityError', `${source('clientId')} is not a client id (a GUID)`);
  }
  if (!TENANT.test(ids.tenantId)) {
    throw new IdentityError(
      'IdentityError',
      `${source('tenantId')} is not a tenant id (a GUID or domain)`,
    );
  }
}

function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
