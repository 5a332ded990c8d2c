// Pure: one ESO ExternalSecret (external-secrets.io v1beta1 or v1) of the Azure Key Vault provider,
// with its store, -> one VaultSecret manifest. Everything that does not carry over exactly is a
// problem (the object is skipped: a partial VaultSecret would take keys away from the Secret it
// adopts) or a note (converted; what differs and what to do before applying).
import type {
  DataFromItem,
  SecretTarget,
  VaultReference,
  VaultSecretSpec,
} from '../api/vault-secret.ts';
import { apiVersion, isSecretKey, kind } from '../api/vault-secret.ts';
import { patterns } from '../api/vault-secret-schema.ts';
import { refreshIntervalOf } from './duration.ts';
import {
  type Fields,
  fieldsOf,
  type Findings,
  list,
  objectOf,
  stringMap,
  text,
  kubernetesName,
} from './fields.ts';
import { convertTemplate, type PendingItem } from './template.ts';

export interface VaultSecretManifest {
  apiVersion: typeof apiVersion;
  kind: typeof kind;
  metadata: { name: string; namespace?: string };
  spec: VaultSecretSpec;
}

const keyVaultName = new RegExp(patterns.keyVaultName);
const objectVersion = new RegExp(patterns.objectVersion);
const specFields = [
  'secretStoreRef',
  'target',
  'refreshInterval',
  'refreshPolicy',
  'data',
  'dataFrom',
];
const targetFields = ['name', 'creationPolicy', 'deletionPolicy', 'template', 'immutable'];
const remoteRefFields = ['key', 'property', 'version', 'decodingStrategy'];
/** Fields ESO fills with these values by default (kubectl get shows them). */
const refDefaults = new Map<string, unknown>([
  ['conversionStrategy', 'Default'],
  ['metadataPolicy', 'None'],
  ['nullBytePolicy', 'Ignore'],
]);
const decodingDefaults = new Map<string, unknown>([...refDefaults, ['decodingStrategy', 'None']]);
const ENCODED_SUFFIX = '.base64';

export function convertExternalSecret(
  name: string,
  namespace: string | undefined,
  spec: Fields | undefined,
  vault: VaultReference,
  findings: Findings,
): VaultSecretManifest {
  findings.unknownFields(spec, 'spec.', specFields);
  const policy = text(spec, 'refreshPolicy') ?? 'Periodic';
  if (policy !== 'Periodic') {
    findings.problem(
      `refreshPolicy ${policy}: kvsync refreshes periodically (refreshInterval "0" syncs once per spec change)`,
    );
  }
  const refreshInterval = refreshIntervalOf(text(spec, 'refreshInterval'), findings);
  const items = dataItems(list(spec, 'data'), findings);
  const dataFrom = list(spec, 'dataFrom').map((entry, i) => dataFromItem(entry, i, findings));
  const targetFieldsIn = fieldsOf(spec?.get('target'));
  const template = convertTemplate(
    fieldsOf(targetFieldsIn?.get('template')),
    items,
    dataFrom.length === 0,
    findings,
  );
  const decoding = decodingTemplates(items, template.data, findings);
  if (items.size === 0 && dataFrom.length === 0)
    findings.problem('nothing to sync: no data or dataFrom');

  const templateData = new Map([...template.data, ...decoding]);
  const target: SecretTarget = {
    ...targetOf(targetFieldsIn, name, findings),
    ...(template.type !== undefined ? { type: template.type } : {}),
    ...(template.labels ? { labels: objectOf(template.labels) } : {}),
    ...(template.annotations ? { annotations: objectOf(template.annotations) } : {}),
    ...(templateData.size > 0 ? { template: { data: objectOf(templateData) } } : {}),
  };
  return {
    apiVersion,
    kind,
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}) },
    spec: {
      vault,
      refreshInterval,
      target,
      ...(items.size > 0 ? { data: [...items.values()].map((pending) => pending.item) } : {}),
      ...(dataFrom.length > 0 ? { dataFrom: dataFrom.filter((item) => item !== undefined) } : {}),
    },
  };
}

function targetOf(target: Fields | undefined, name: string, findings: Findings): SecretTarget {
  findings.unknownFields(target, 'target.', targetFields);
  const creation = text(target, 'creationPolicy') ?? 'Owner';
  if (target?.get('immutable') === true) {
    findings.problem('target.immutable: kvsync rewrites the Secret when a value rotates');
  }
  const deletion = text(target, 'deletionPolicy') ?? 'Retain';
  if (deletion !== 'Retain') {
    findings.note(
      `deletionPolicy ${deletion}: kvsync keeps the last Secret when objects disappear from the vault (like Retain)`,
    );
  }
  const secretName = text(target, 'name') ?? name;
  if (!kubernetesName.test(secretName)) {
    findings.problem(`target.name "${secretName}" is not a Secret name`);
  }
  if (creation === 'Owner' || creation === 'Orphan') {
    return { name: secretName, creationPolicy: creation, adopt: true };
  }
  if (creation === 'Merge') {
    return { name: secretName, creationPolicy: 'Merge' };
  }
  findings.problem(`creationPolicy ${creation}: kvsync always writes the Secret it syncs`);
  return { name: secretName };
}

/** data[] -> Secret key -> item, in order. */
function dataItems(entries: unknown[], findings: Findings): Map<string, PendingItem> {
  const items = new Map<string, PendingItem>();
  entries.forEach((entry, index) => {
    const fields = fieldsOf(entry);
    const key = text(fields, 'secretKey') ?? '';
    const where = `data[${index}] (${key || 'no secretKey'}): `;
    findings.unknownFields(fields, where, ['secretKey', 'remoteRef', 'sourceRef']);
    sourceRefProblem(fields, where, findings);
    if (!isSecretKey(key)) findings.problem(`${where}"${key}" is not a valid Secret key`);
    if (items.has(key)) findings.problem(`${where}the key is written twice`);
    const ref = fieldsOf(fields?.get('remoteRef'));
    findings.unknownFields(ref, `${where}remoteRef.`, remoteRefFields, refDefaults);
    const name = objectName(text(ref, 'key'), where, findings);
    const version = versionOf(text(ref, 'version'), where, findings);
    const property = text(ref, 'property');
    if (property !== undefined && /[*?#|@\\]/.test(property)) {
      findings.problem(`${where}property "${property}" uses JSON path syntax kvsync does not have`);
    }
    const decoding = text(ref, 'decodingStrategy') ?? 'None';
    if (decoding !== 'None' && decoding !== 'Base64' && decoding !== 'Base64URL') {
      findings.problem(
        `${where}decodingStrategy ${decoding}: kvsync decodes only when told (Base64)`,
      );
    }
    items.set(key, {
      decoded: decoding === 'Base64' || decoding === 'Base64URL',
      item: {
        key,
        secret: {
          name,
          ...(version !== undefined ? { version } : {}),
          ...(property !== undefined ? { property } : {}),
        },
      },
    });
  });
  return items;
}

/** ESO decodes before writing; kvsync fetches under `<key>.base64` and decodes in a template. */
function decodingTemplates(
  items: Map<string, PendingItem>,
  templates: ReadonlyMap<string, string>,
  findings: Findings,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, pending] of [...items]) {
    if (!pending.decoded) continue;
    const encoded = `${key}${ENCODED_SUFFIX}`;
    if (items.has(encoded) || templates.has(key) || !isSecretKey(encoded)) {
      findings.problem(`data ${key}: no free key ${encoded} to decode it from`);
      continue;
    }
    items.delete(key);
    items.set(encoded, { decoded: false, item: { ...pending.item, key: encoded } });
    out.set(key, `{{ index . "${encoded}" | b64dec }}`);
    findings.note(`${key} is base64-decoded by a template; the Secret also keeps ${encoded}`);
  }
  return out;
}

function dataFromItem(entry: unknown, index: number, findings: Findings): DataFromItem | undefined {
  const fields = fieldsOf(entry);
  const where = `dataFrom[${index}]: `;
  findings.unknownFields(fields, where, ['extract', 'find', 'rewrite', 'sourceRef']);
  if (sourceRefProblem(fields, where, findings)) return undefined;
  const rewrite = rewriteOf(list(fields, 'rewrite'), where, findings);
  const extract = fieldsOf(fields?.get('extract'));
  const find = fieldsOf(fields?.get('find'));
  if (extract) {
    findings.unknownFields(extract, `${where}extract.`, ['key', 'version'], decodingDefaults);
    const version = versionOf(text(extract, 'version'), where, findings);
    const name = objectName(text(extract, 'key'), where, findings);
    return { secret: { name, ...(version !== undefined ? { version } : {}) }, ...rewrite };
  }
  if (find) {
    findings.unknownFields(find, `${where}find.`, ['name', 'tags'], decodingDefaults);
    const nameRegex = text(fieldsOf(find.get('name')), 'regexp');
    const tags = stringMap(find.get('tags'));
    if (find.has('tags') && !tags) findings.problem(`${where}find.tags must map names to strings`);
    const byTags = tags !== undefined && tags.size > 0;
    return {
      find: {
        ...(nameRegex !== undefined || !byTags ? { nameRegex: nameRegex ?? '.*' } : {}),
        ...(byTags ? { tags: objectOf(tags) } : {}),
      },
      ...rewrite,
    };
  }
  findings.problem(`${where}needs extract or find`);
  return undefined;
}

/** kvsync rewrites by stripping a literal prefix: ESO's `^prefix` -> "" regexp, nothing else. */
function rewriteOf(
  rewrites: unknown[],
  where: string,
  findings: Findings,
): { rewrite?: { stripPrefix: string } } {
  if (rewrites.length === 0) return {};
  const regexp = fieldsOf(fieldsOf(rewrites[0])?.get('regexp'));
  const source = text(regexp, 'source') ?? '';
  const literal = /^\^([A-Za-z0-9_-]+)$/.exec(source);
  if (rewrites.length > 1 || !literal || text(regexp, 'target') !== '') {
    findings.problem(
      `${where}rewrite: kvsync only strips a literal prefix (regexp source "^prefix", target "")`,
    );
    return {};
  }
  return { rewrite: { stripPrefix: literal[1] ?? '' } };
}

/** A per-item source: a generator, or another store (one VaultSecret reads one vault). */
function sourceRefProblem(fields: Fields | undefined, where: string, findings: Findings): boolean {
  const ref = fieldsOf(fields?.get('sourceRef'));
  if (!ref) return false;
  findings.problem(
    ref.has('generatorRef')
      ? `${where}sourceRef.generatorRef: generators have no kvsync equivalent`
      : `${where}sourceRef.storeRef: a VaultSecret reads one vault; split it into one VaultSecret per store`,
  );
  return true;
}

/** `name`, `secret/name` -> name; `cert/` and `key/` objects are not what kvsync reads. */
function objectName(key: string | undefined, where: string, findings: Findings): string {
  const match = /^(secret|cert|key)\/(.*)$/.exec(key ?? '');
  const type = match?.[1] ?? 'secret';
  const name = match?.[2] ?? key ?? '';
  if (type === 'cert') {
    findings.problem(
      `${where}cert/${name}: ESO writes the certificate's public DER bytes; kvsync writes certificates as PEM with their key (data[].certificate), a different value`,
    );
  } else if (type === 'key') {
    findings.problem(
      `${where}key/${name}: kvsync syncs secrets and certificates, not Key Vault keys`,
    );
  } else if (!keyVaultName.test(name)) {
    findings.problem(`${where}"${name}" is not a Key Vault object name`);
  }
  return name;
}

function versionOf(version: string | undefined, where: string, findings: Findings) {
  if (version === undefined || version === '') return undefined;
  if (!objectVersion.test(version))
    findings.problem(`${where}version "${version}" is not a Key Vault version`);
  return version;
}
