// Pure: an ESO target.template (engineVersion v2) -> kvsync's target type, labels, annotations,
// template keys, and certificate items. ESO's documented way to turn a Key Vault certificate into
// a TLS Secret, `{{ .tls | b64dec | pkcs12cert }}` / `pkcs12key` over `secret/<certificate>`, is
// exactly what kvsync's `certificate` item does, so that pattern becomes one. Any other template
// is kept when kvsync's template language parses it (same `{{ .key }}` syntax, a subset of the
// functions), else the object is skipped with the parser's reason.
import type { DataItem } from '../api/vault-secret.ts';
import { reservedKeyPrefix } from '../api/vault-secret-schema.ts';
import { parseTemplate, TemplateError } from '../controllers/vault-secret/template.ts';
import { type Fields, fieldsOf, type Findings, list, stringMap, text } from './fields.ts';

export interface ConvertedTemplate {
  readonly type: string | undefined;
  readonly labels: Map<string, string> | undefined;
  readonly annotations: Map<string, string> | undefined;
  /** Template key -> kvsync template text. */
  readonly data: Map<string, string>;
}

/** A data item being converted: its secret, and whether ESO base64-decoded it. */
export interface PendingItem {
  item: DataItem;
  readonly decoded: boolean;
}

const templateFields = ['type', 'engineVersion', 'metadata', 'data', 'mergePolicy', 'templateFrom'];
const VALUE = String.raw`(?:\.([A-Za-z_][A-Za-z0-9_]*)|index\s+\.\s+"([^"\\]+)")`;
const PKCS12 = new RegExp(
  String.raw`^\{\{-?\s*${VALUE}\s*(\|\s*b64dec\s*)?\|\s*pkcs12(cert|key)\s*-?\}\}$`,
);

/**
 * Converts `template` against the data items (Secret key -> item), replacing the secrets that
 * the pkcs12 pattern turns into certificates. `sourcesKnown` is false when dataFrom adds keys
 * nobody can list before sync.
 */
export function convertTemplate(
  template: Fields | undefined,
  items: Map<string, PendingItem>,
  sourcesKnown: boolean,
  findings: Findings,
): ConvertedTemplate {
  const empty = {
    type: undefined,
    labels: undefined,
    annotations: undefined,
    data: new Map<string, string>(),
  };
  if (!template) return empty;
  findings.unknownFields(template, 'target.template.', templateFields);
  const engine = text(template, 'engineVersion') ?? 'v2';
  if (engine !== 'v2') {
    findings.problem(`target.template.engineVersion ${engine}: kvsync converts v2 templates only`);
  }
  if (list(template, 'templateFrom').length > 0) {
    findings.problem(
      'target.template.templateFrom: kvsync templates are inline (target.template.data) only',
    );
  }
  const metadata = fieldsOf(template.get('metadata'));
  findings.unknownFields(metadata, 'target.template.metadata.', ['labels', 'annotations']);
  const labels = reservedFree(metadata?.get('labels'), 'labels', findings);
  const annotations = reservedFree(metadata?.get('annotations'), 'annotations', findings);

  const raw = stringMap(template.get('data') ?? {});
  if (!raw) findings.problem('target.template.data must map keys to template text');
  const data = certificatesFromPkcs12(raw ?? new Map<string, string>(), items, findings);
  checkTemplates(data, items, sourcesKnown, findings);

  const merge = text(template, 'mergePolicy') ?? 'Replace';
  const kept = [...items.keys()].filter((key) => items.get(key)?.item.secret !== undefined);
  if (merge === 'Replace' && data.size > 0 && (kept.length > 0 || !sourcesKnown)) {
    const which = sourcesKnown ? kept.join(', ') : 'the dataFrom keys';
    findings.note(
      `the Secret also keeps the source keys (${which}): kvsync writes fetched keys beside template keys, where ESO's mergePolicy Replace wrote only the template's`,
    );
  }
  return { type: text(template, 'type'), labels, annotations, data };
}

function reservedFree(
  value: unknown,
  what: string,
  findings: Findings,
): Map<string, string> | undefined {
  if (value === undefined) return undefined;
  const map = stringMap(value);
  if (!map) {
    findings.problem(`target.template.metadata.${what} must map names to strings`);
    return undefined;
  }
  for (const key of map.keys()) {
    if (key.startsWith(reservedKeyPrefix)) {
      findings.problem(`target.template.metadata.${what} ${key}: ${reservedKeyPrefix} is kvsync's`);
    }
  }
  return map;
}

/** Finds `{{ .x | b64dec | pkcs12cert }}` + `pkcs12key` pairs; returns the other templates. */
function certificatesFromPkcs12(
  raw: Map<string, string>,
  items: Map<string, PendingItem>,
  findings: Findings,
): Map<string, string> {
  const pairs = new Map<string, { cert?: string; key?: string; texts: string[] }>();
  for (const [key, source] of raw) {
    const match = PKCS12.exec(source.trim());
    if (!match) continue;
    const value = match[1] ?? match[2] ?? '';
    const decodedHere = match[3] !== undefined;
    if (items.get(value)?.decoded === decodedHere) continue; // decoded twice or never: not a PFX
    const pair = pairs.get(value) ?? { texts: [] };
    if (match[4] === 'cert') pair.cert = key;
    else pair.key = key;
    pair.texts.push(key);
    pairs.set(value, pair);
  }
  const rest = new Map(raw);
  for (const [value, pair] of pairs) {
    const pending = items.get(value);
    const secret = pending?.item.secret;
    const usedElsewhere = [...rest].some(
      ([key, source]) => !pair.texts.includes(key) && source.includes(value),
    );
    if (!secret || secret.property || !pair.cert || !pair.key || usedElsewhere) continue;
    items.delete(value);
    items.set(pair.cert, {
      decoded: false,
      item: {
        certificate: {
          name: secret.name,
          ...(secret.version ? { version: secret.version } : {}),
          // pkcs12cert returns the whole chain the PFX holds, root included.
          includeRoot: true,
          keys: { certificate: pair.cert, privateKey: pair.key },
        },
      },
    });
    for (const key of pair.texts) rest.delete(key);
    findings.note(
      `${pair.cert}/${pair.key} from pkcs12cert/pkcs12key of ${secret.name} became certificate ${secret.name} (PEM chain leaf first, PKCS#8 key)`,
    );
  }
  return rest;
}

function checkTemplates(
  data: Map<string, string>,
  items: Map<string, PendingItem>,
  sourcesKnown: boolean,
  findings: Findings,
): void {
  for (const [key, source] of data) {
    if (items.has(key)) {
      findings.problem(
        `template key ${key} is also a data key: kvsync keeps fetched keys, so each key needs one source`,
      );
      continue;
    }
    let references: readonly string[];
    try {
      references = parseTemplate(source, key).references;
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      findings.problem(`target.template.data: ${error.message}`);
      continue;
    }
    if (/\burlquery\b/.test(source)) {
      findings.note(
        `template ${key}: urlquery becomes kvsync's urlencode, which writes a space as %20 where Go wrote +`,
      );
    }
    for (const name of references) {
      const item = items.get(name);
      if (item?.decoded) {
        findings.problem(
          `template ${key} reads ${name}, which ESO base64-decoded first: kvsync templates see fetched values, write b64dec in the template instead`,
        );
      } else if (!item && sourcesKnown) {
        findings.problem(`template ${key} reads ${name}, which no data item fetches`);
      }
    }
  }
}
