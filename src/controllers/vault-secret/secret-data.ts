// Pure: fetched Key Vault values -> the Secret's data, following the plan. Failures name the
// object and what to fix, never a value.
import type { Reason } from '../../api/reasons.ts';
import { isSecretKey, rewriteKey } from '../../api/vault-secret.ts';
import type { TlsMaterial } from '../../keyvault/certificate/index.ts';
import { CertificateError } from '../../keyvault/certificate/errors.ts';
import type { ObjectProperties, SecretValue } from '../../keyvault/types.ts';
import type { ObjectRead, SyncPlan } from './plan.ts';
import { readId } from './plan.ts';
import { renderTemplate, TemplateError } from './template.ts';

export type ContentReason =
  typeof Reason.InvalidContent | typeof Reason.CertificateError | typeof Reason.TemplateError;

export class ContentError extends Error {
  override readonly name = 'ContentError';
  readonly reason: ContentReason;
  readonly objectName: string | undefined;

  constructor(reason: ContentReason, message: string, objectName?: string) {
    super(message);
    this.reason = reason;
    this.objectName = objectName;
  }
}

/** What was synced, for `status.objects` and the expiry gauge. */
export interface SyncedObject {
  readonly name: string;
  readonly kind: 'secret' | 'certificate';
  readonly version: string;
  readonly updatedOn: Date | undefined;
  readonly expiresOn: Date | undefined;
  /** Whether a pinned version was asked for: such an object never rotates. */
  readonly pinned: boolean;
}

export interface BuildInput {
  readonly plan: SyncPlan;
  /** By readId. */
  readonly values: ReadonlyMap<string, SecretValue>;
  /** The listing matches of each `find` source, by its index in plan.sources. */
  readonly found: ReadonlyMap<number, readonly ObjectProperties[]>;
  /** The conversion of each `certificate` source, by its index in plan.sources. */
  readonly certificates: ReadonlyMap<number, TlsMaterial | CertificateError>;
}

export interface BuiltData {
  readonly data: Map<string, Buffer>;
  readonly objects: SyncedObject[];
}

export function buildSecretData({ plan, values, found, certificates }: BuildInput): BuiltData {
  const data = new Map<string, Buffer>();
  const explicit = new Set<string>();
  const objects = new Map<string, SyncedObject>();
  const valueOf = (read: ObjectRead): SecretValue => {
    const value = values.get(readId(read));
    if (!value) throw new Error(`internal: ${readId(read)} was not fetched`);
    return value;
  };
  const record = (read: ObjectRead, value: SecretValue, expiresOn?: Date): void => {
    const { properties } = value;
    objects.set(readId(read), {
      name: read.name,
      kind: read.kind,
      version: properties.version,
      updatedOn: properties.updatedOn,
      expiresOn: expiresOn ?? properties.expiresOn,
      pinned: read.version !== undefined,
    });
  };
  const put = (key: string, content: Buffer, fromData: boolean, objectName: string): void => {
    if (!isSecretKey(key)) {
      throw new ContentError(
        'InvalidContent',
        `key "${key}" from ${objectName} is not a valid Secret key`,
        objectName,
      );
    }
    if (!fromData && explicit.has(key)) return;
    if (fromData) explicit.add(key);
    data.set(key, content);
  };

  for (const [index, source] of plan.sources.entries()) {
    switch (source.type) {
      case 'value': {
        const value = valueOf(source.read);
        record(source.read, value);
        const content =
          source.property === undefined
            ? Buffer.from(value.value, 'utf8')
            : jsonProperty(value.value, source.property, source.read.name);
        put(source.key, content, true, source.read.name);
        break;
      }
      case 'certificate': {
        const value = valueOf(source.read);
        const { output } = source;
        const tls = converted(certificates.get(index), source.read.name);
        record(source.read, value, tls.leaf.notAfter);
        if (output.format === 'pfx') {
          put(output.certificateKey, tls.pfx ?? Buffer.alloc(0), true, source.read.name);
          break;
        }
        put(output.certificateKey, Buffer.from(tls.certificateChainPem), true, source.read.name);
        put(output.privateKeyKey, Buffer.from(tls.privateKeyPem), true, source.read.name);
        if (output.caKey !== undefined && tls.caPem !== undefined) {
          put(output.caKey, Buffer.from(tls.caPem), true, source.read.name);
        }
        break;
      }
      case 'json': {
        const value = valueOf(source.read);
        record(source.read, value);
        for (const [key, content] of jsonObjectEntries(value.value, source.read.name)) {
          put(rewriteKey(key, source.rewrite), content, false, source.read.name);
        }
        break;
      }
      case 'find': {
        for (const properties of found.get(index) ?? []) {
          const read: ObjectRead = { kind: 'secret', name: properties.name, version: undefined };
          const value = valueOf(read);
          record(read, value);
          put(
            rewriteKey(properties.name, source.rewrite),
            Buffer.from(value.value, 'utf8'),
            false,
            properties.name,
          );
        }
        break;
      }
    }
  }
  applyTemplates(plan.templates, data);
  return { data, objects: [...objects.values()] };
}

function applyTemplates(templates: ReadonlyMap<string, string>, data: Map<string, Buffer>): void {
  if (templates.size === 0) return;
  const inputs = new Map(data);
  for (const [key, source] of templates) {
    try {
      data.set(key, renderTemplate(source, inputs, key));
    } catch (error) {
      if (error instanceof TemplateError) throw new ContentError('TemplateError', error.message);
      throw error;
    }
  }
}

function converted(tls: TlsMaterial | CertificateError | undefined, name: string): TlsMaterial {
  if (tls instanceof CertificateError) {
    throw new ContentError('CertificateError', `certificate ${name}: ${tls.message}`, name);
  }
  if (!tls) throw new Error(`internal: certificate ${name} was not converted`);
  return tls;
}

function parseJsonObject(text: string, objectName: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ContentError('InvalidContent', `secret ${objectName} is not valid JSON`, objectName);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ContentError(
      'InvalidContent',
      `secret ${objectName} is not a JSON object`,
      objectName,
    );
  }
  return parsed as Record<string, unknown>;
}

function jsonProperty(text: string, property: string, objectName: string): Buffer {
  let current: unknown = parseJsonObject(text, objectName);
  for (const part of property.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) {
      throw new ContentError(
        'InvalidContent',
        `secret ${objectName} has no JSON property "${property}"`,
        objectName,
      );
    }
    current = (current as Record<string, unknown>)[part];
  }
  return jsonScalar(current);
}

function jsonObjectEntries(text: string, objectName: string): [string, Buffer][] {
  return Object.entries(parseJsonObject(text, objectName)).map(([key, value]) => [
    key,
    jsonScalar(value),
  ]);
}

function jsonScalar(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}
