// Pure: a queue message's text -> Key Vault events. Event Grid has delivered to Storage Queues as
// plain JSON at one time and base64 at another, in its own schema or as CloudEvents 1.0, with
// PascalCase or camelCase data; all of it is accepted. Reasons for refusal never quote content.
import type {
  EventChange,
  EventTypeLabel,
  HandledEventType,
  KeyVaultEvent,
  ObjectKind,
} from './key-vault-event.ts';
import { handledEventTypes, otherKeyVaultEventTypes } from './key-vault-event.ts';

export type Decoded =
  | { readonly outcome: 'event'; readonly event: KeyVaultEvent }
  /** A well-formed event kvsync has nothing to do for (a key, an access policy, another service). */
  | { readonly outcome: 'ignored'; readonly type: EventTypeLabel; readonly id: string }
  | { readonly outcome: 'malformed'; readonly reason: string };

/** Event Grid batches only for webhooks; a queue message holds one event, an array is tolerated. */
const maxEventsPerMessage = 100;

export function decodeMessage(text: string): Decoded[] {
  const json = parseBody(text);
  if (json === undefined) return [malformed('neither JSON nor base64-encoded JSON')];
  const items = Array.isArray(json) ? json : [json];
  if (items.length === 0) return [malformed('an empty array')];
  if (items.length > maxEventsPerMessage) return [malformed('too many events in one message')];
  return items.map(decodeEvent);
}

function parseBody(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(trimmed);
  const compact = trimmed.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  const decoded = Buffer.from(compact, 'base64')
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim();
  return decoded.startsWith('{') || decoded.startsWith('[') ? parseJson(decoded) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decodeEvent(item: unknown): Decoded {
  if (!isObject(item)) return malformed('an event is not a JSON object');
  const cloudEvent = field(item, 'specversion') !== undefined;
  const id = text(field(item, 'id'));
  const rawType = text(field(item, cloudEvent ? 'type' : 'eventType'));
  if (id === undefined) return malformed('an event has no id');
  if (rawType === undefined) return malformed('an event has no type');

  const type = rawType.replace(/^Microsoft\.KeyVault\./i, '');
  const handled = handledEventTypes.find((known) => known.toLowerCase() === type.toLowerCase());
  if (!handled) return { outcome: 'ignored', type: otherTypeLabel(type), id };

  const data = field(item, 'data');
  if (!isObject(data)) return malformed(`a ${handled} event has no data object`);
  const object = parseObjectId(text(field(data, 'id')));
  if (!object) return malformed(`a ${handled} event has no Key Vault object URL in data.Id`);
  if (object.kind === 'key') return { outcome: 'ignored', type: handled, id };

  const event: KeyVaultEvent = {
    id,
    type: handled,
    change: changeOf(handled),
    kind: object.kind,
    vaultHost: object.vaultHost,
    name: object.name,
    version: object.version ?? versionText(field(data, 'version')),
    time: date(field(item, cloudEvent ? 'time' : 'eventTime')),
    notBefore: epochDate(field(data, 'nbf')),
    expiresOn: epochDate(field(data, 'exp')),
  };
  return { outcome: 'event', event };
}

function changeOf(type: HandledEventType): EventChange {
  if (type.endsWith('NewVersionCreated')) return 'NewVersion';
  return type.endsWith('NearExpiry') ? 'NearExpiry' : 'Expired';
}

function otherTypeLabel(type: string): EventTypeLabel {
  const lower = type.toLowerCase();
  return otherKeyVaultEventTypes.find((known) => known.toLowerCase() === lower) ?? 'other';
}

const objectName = /^[0-9a-zA-Z-]{1,127}$/;
const objectVersion = /^[0-9a-zA-Z]{1,64}$/;
const collections: Record<string, ObjectKind | 'key'> = {
  secrets: 'secret',
  certificates: 'certificate',
  keys: 'key',
};

/** `https://<vault host>/<secrets|certificates|keys>/<name>[/<version>]` */
export function parseObjectId(
  id: string | undefined,
):
  | { kind: ObjectKind | 'key'; vaultHost: string; name: string; version: string | undefined }
  | undefined {
  if (id === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '') return undefined;
  const [collection, name, version, ...rest] = url.pathname.split('/').filter(Boolean);
  const kind = collection === undefined ? undefined : collections[collection.toLowerCase()];
  if (kind === undefined || name === undefined || !objectName.test(name) || rest.length > 0) {
    return undefined;
  }
  if (version !== undefined && !objectVersion.test(version)) return undefined;
  return { kind, vaultHost: url.host, name, version };
}

/** A key looked up regardless of case: Event Grid has sent `Id` and `id`, `EXP` and `exp`. */
function field(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function versionText(value: unknown): string | undefined {
  const version = text(value);
  return version !== undefined && objectVersion.test(version) ? version : undefined;
}

function date(value: unknown): Date | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  const parsed = new Date(raw);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** NBF/EXP: Unix seconds as a number or a string; an ISO date is tolerated. Informational only. */
function epochDate(value: unknown): Date | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value * 1000) : undefined;
  const raw = text(value);
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return new Date(Number(raw) * 1000);
  return date(raw);
}

function malformed(reason: string): Decoded {
  return { outcome: 'malformed', reason };
}
