// What each implemented Key Vault operation does to a vault and answers, once the caller is
// authenticated and allowed. Request bodies are parsed here and never logged.
import type { FakeVault } from './fake-vault.ts';
import { keyVaultErrors } from './key-vault-errors.ts';
import {
  certificateBundle,
  certificateItem,
  deletedSecretBundle,
  secretBundle,
  secretItem,
} from './key-vault-json.ts';
import type { Route } from './key-vault-routes.ts';
import type { Page, SecretPatch, SecretVersionRecord } from './vault-store.ts';

export interface OperationResult {
  status: number;
  body: unknown;
}

const MAX_PAGE = 25;
const MAX_SECRET_BYTES = 25 * 1024;
const MAX_TAGS = 15;

export function execute(
  vault: FakeVault,
  route: Route,
  query: URLSearchParams,
  rawBody: string,
): OperationResult {
  const { store, url } = vault;
  const name = route.name ?? '';
  const ok = (body: unknown) => ({ status: 200, body });
  const page = <T>(result: Page<T>, item: (record: T) => unknown, path: string) =>
    ok({
      value: result.items.map(item),
      nextLink: result.next === undefined ? null : nextLink(url, path, query, result.next),
    });
  const continuation = query.get('$skiptoken') ?? undefined;

  switch (route.operation) {
    case 'getSecret':
    case 'getSecretVersion': {
      const record = store.secret(name, route.version);
      if (!record.enabled) throw keyVaultErrors.disabled('get');
      checkOutContentType(record, query.get('outContentType'));
      return ok(secretBundle(url, record));
    }
    case 'listSecrets':
      return page(
        store.listSecrets(continuation, maxResults(query)),
        (r) => secretItem(url, r, false),
        '/secrets',
      );
    case 'listSecretVersions':
      return page(
        store.listSecretVersions(name, continuation, maxResults(query)),
        (r) => secretItem(url, r, true),
        `/secrets/${name}/versions`,
      );
    case 'setSecret': {
      const body = parseBody(rawBody);
      if (typeof body.value !== 'string')
        throw keyVaultErrors.badParameter('The secret value is required.');
      if (Buffer.byteLength(body.value) > MAX_SECRET_BYTES) {
        throw keyVaultErrors.badParameter(
          `The secret value exceeds the maximum size of ${MAX_SECRET_BYTES} bytes.`,
        );
      }
      return ok(
        secretBundle(url, store.setSecret(name, { value: body.value, ...parsePatch(body) })),
      );
    }
    case 'updateSecretProperties':
      return ok(
        secretBundle(
          url,
          store.updateSecret(name, route.version, parsePatch(parseBody(rawBody))),
          false,
        ),
      );
    case 'deleteSecret':
      return ok(deletedSecretBundle(url, store.deleteSecret(name)));
    case 'getDeletedSecret':
      return ok(deletedSecretBundle(url, store.deletedSecret(name)));
    case 'purgeDeletedSecret':
      store.purgeDeletedSecret(name);
      return { status: 204, body: undefined };
    case 'recoverDeletedSecret':
      return ok(secretBundle(url, store.recoverDeletedSecret(name), false));
    case 'getCertificate':
    case 'getCertificateVersion':
      return ok(certificateBundle(url, store.certificate(name, route.version)));
    case 'listCertificates':
      return page(
        store.listCertificates(continuation, maxResults(query)),
        (r) => certificateItem(url, r, false),
        '/certificates',
      );
    case 'listCertificateVersions':
      return page(
        store.listCertificateVersions(name, continuation, maxResults(query)),
        (r) => certificateItem(url, r, true),
        `/certificates/${name}/versions`,
      );
  }
}

const FORMAT_NAMES: Readonly<Record<string, string>> = {
  'application/x-pkcs12': 'PFX',
  'application/x-pem-file': 'PEM',
};

/**
 * API 2025-07-01's `outContentType` converts only a certificate's PFX backing secret to PEM; any
 * other secret is 'Unsupported' (whatever its contentType) and refused with 400 BadParameter.
 */
function checkOutContentType(record: SecretVersionRecord, wanted: string | null): void {
  if (!wanted) return;
  const source = record.managed ? FORMAT_NAMES[record.contentType ?? ''] : undefined;
  const target = FORMAT_NAMES[wanted] ?? wanted;
  if (source === target) return;
  if (source === 'PFX' && target === 'PEM') {
    throw keyVaultErrors.notUnderstood(`outContentType=${wanted} (PFX to PEM is not implemented)`);
  }
  throw keyVaultErrors.badParameter(
    `The '${source ?? 'Unsupported'}' to '${target}' transformation is not supported. Only PFX to PEM transformation is supported.`,
  );
}

function maxResults(query: URLSearchParams): number {
  const raw = query.get('maxresults');
  if (raw === null) return MAX_PAGE;
  const max = Number(raw);
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) {
    throw keyVaultErrors.badParameter(
      `Invalid maxresults value: ${raw}. The value must be between 1 and ${MAX_PAGE}.`,
    );
  }
  return max;
}

function nextLink(
  vaultUrl: string,
  path: string,
  query: URLSearchParams,
  continuation: string,
): string {
  // Key Vault's own layout: the port spelled out, api-version first, then `$skiptoken`, then
  // maxresults if given.
  const apiVersion = encodeURIComponent(query.get('api-version') ?? '');
  const max = query.get('maxresults');
  return `${vaultUrl}:443${path}?api-version=${apiVersion}&$skiptoken=${continuation}${max === null ? '' : `&maxresults=${max}`}`;
}

type JsonObject = Record<string, unknown>;

function parseBody(raw: string): JsonObject {
  try {
    const body: unknown = JSON.parse(raw);
    if (body !== null && typeof body === 'object' && !Array.isArray(body))
      return body as JsonObject;
  } catch {
    // refused below
  }
  throw keyVaultErrors.badParameter('The request body is not a JSON object.');
}

function parsePatch(body: JsonObject): SecretPatch {
  const attributes = (body.attributes ?? {}) as JsonObject;
  const tags = body.tags as Record<string, unknown> | undefined;
  if (tags !== undefined) {
    const entries = Object.entries(tags);
    if (entries.length > MAX_TAGS || entries.some(([, value]) => typeof value !== 'string')) {
      throw keyVaultErrors.badParameter(`Tags must be at most ${MAX_TAGS} string values.`);
    }
  }
  return {
    contentType: optional(body.contentType, 'string', 'contentType'),
    tags: tags as Record<string, string> | undefined,
    enabled: optional(attributes.enabled, 'boolean', 'attributes.enabled'),
    notBefore: optional(attributes.nbf, 'number', 'attributes.nbf'),
    expires: optional(attributes.exp, 'number', 'attributes.exp'),
  };
}

function optional<T extends 'string' | 'boolean' | 'number'>(
  value: unknown,
  type: T,
  field: string,
): (T extends 'string' ? string : T extends 'boolean' ? boolean : number) | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type)
    throw keyVaultErrors.badParameter(`Property ${field} must be a ${type}.`);
  return value as never;
}
