// The fake Key Vault held to the recorded service: every recorded request of a session is sent to
// a fresh fake vault in the recorded order (with a real token, or none where Key Vault saw none),
// and the answers are compared in status, error code, the headers the SDK reads, and the body's
// shape: the same fields with the same JSON types, and ids and nextLinks of the same form.
// Versions the fake made are substituted for recorded ones, and a recorded nextLink is followed
// as the fake's own nextLink, so the session plays out as it did.
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';
import type { FakeVault } from '../support/azure/fake-vault.ts';
import type { RecordedCase } from './recorded-cases.ts';
import { header, isChallenge, type RecordedEntry, type Recording } from './recordings.ts';

export interface DoubleAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface DoubleRun {
  /** One line per difference, `#<entry> <method> <path>: <what differs>`. */
  readonly differences: string[];
  /** Recorded list continuations the fake had no nextLink for: it holds fewer objects. */
  readonly notReached: number[];
}

/** Headers the SDK reads (challenge, deserialization) or logs (request id). */
const COMPARED_HEADERS = ['content-type', 'www-authenticate', 'x-ms-request-id'];
const VERSION = /^[0-9a-f]{32}$/;

export async function replayAgainstDouble(
  testCase: RecordedCase,
  recording: Recording,
  vault: FakeVault,
  auth: { agent: Agent; token: string },
): Promise<DoubleRun> {
  await testCase.seedDouble?.(vault, recording);
  const versions = new Map<string, string>();
  const nextLinks = new Map<string, string | null>();
  const itemShapes = recordedListItems(recording);
  const run: DoubleRun = { differences: [], notReached: [] };
  for (const [index, entry] of recording.entries.entries()) {
    if (testCase.notComparable?.[index] !== undefined) continue;
    const recorded = new URL(entry.RequestUri);
    const url = doubleUrl(recorded, vault.url, versions, nextLinks);
    if (url === undefined) {
      run.notReached.push(index);
      continue;
    }
    const answer = await send(entry, url, auth, !isChallenge(entry));
    const where = `#${index} ${entry.RequestMethod} ${recorded.pathname}`;
    const context = { ignored: testCase.ignoredFields ?? {}, itemShapes, out: new Set<string>() };
    compareAnswer(entry, answer, context);
    run.differences.push(...[...context.out].map((difference) => `${where}: ${difference}`));
    learnVersion(entry.ResponseBody, answer.body, versions);
    const next = (answer.body as { nextLink?: string | null } | undefined)?.nextLink;
    if (next !== undefined) nextLinks.set(recorded.pathname, next);
  }
  return run;
}

function doubleUrl(
  recorded: URL,
  vaultUrl: string,
  versions: ReadonlyMap<string, string>,
  nextLinks: ReadonlyMap<string, string | null>,
): string | undefined {
  if (recorded.searchParams.has('$skiptoken')) return nextLinks.get(recorded.pathname) ?? undefined;
  const path = recorded.pathname
    .split('/')
    .map((segment) => versions.get(segment) ?? segment)
    .join('/');
  return `${vaultUrl}${path}${recorded.search}`;
}

function send(
  entry: RecordedEntry,
  url: string,
  auth: { agent: Agent; token: string },
  authorized: boolean,
): Promise<DoubleAnswer> {
  return requestJson(entry.RequestMethod, url, entry.RequestBody, {
    agent: auth.agent,
    ...(authorized ? { token: auth.token } : {}),
  });
}

/** One HTTPS request with a JSON body (null: none); the answer's body parsed as JSON. */
export function requestJson(
  method: string,
  url: string,
  body: unknown,
  auth: { agent: Agent; token?: string },
): Promise<DoubleAnswer> {
  const payload = body === null ? '' : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-length': String(Buffer.byteLength(payload)) };
  if (payload) headers['content-type'] = 'application/json';
  if (auth.token !== undefined) headers.authorization = `Bearer ${auth.token}`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, agent: auth.agent, headers });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? (JSON.parse(text) as unknown) : null,
        });
      });
    });
    req.once('error', reject);
    req.end(payload);
  });
}

interface CompareContext {
  readonly ignored: Readonly<Record<string, string>>;
  /** Every item the recording listed, by kind, to compare the fake's list items with. */
  readonly itemShapes: ReadonlyMap<string, unknown>;
  readonly out: Set<string>;
}

function compareAnswer(entry: RecordedEntry, answer: DoubleAnswer, context: CompareContext): void {
  const { out } = context;
  if (answer.status !== entry.StatusCode) {
    out.add(`status ${answer.status}, recorded ${entry.StatusCode}`);
  }
  const codes = (body: unknown) => {
    const error = (body as { error?: { code?: string; innererror?: { code?: string } } } | null)
      ?.error;
    return error && `${error.code}${error.innererror ? `/${error.innererror.code}` : ''}`;
  };
  if (codes(answer.body) !== codes(entry.ResponseBody)) {
    out.add(`error ${codes(answer.body)}, recorded ${codes(entry.ResponseBody)}`);
  }
  for (const name of COMPARED_HEADERS) {
    const recorded = header(entry, name);
    const actual = answer.headers[name] as string | undefined;
    if ((recorded === undefined) !== (actual === undefined)) {
      out.add(
        `header ${name} ${actual === undefined ? 'missing' : 'present'}, recorded ${recorded === undefined ? 'absent' : 'present'}`,
      );
    } else if (recorded !== undefined && headerForm(name, recorded) !== headerForm(name, actual!)) {
      out.add(
        `header ${name}: ${headerForm(name, actual!)}, recorded ${headerForm(name, recorded)}`,
      );
    }
  }
  if (answer.status === entry.StatusCode)
    compareShape(entry.ResponseBody, answer.body, '', context);
}

function headerForm(name: string, value: string): string {
  if (name === 'content-type') return value.toLowerCase();
  if (name === 'www-authenticate') {
    return value
      .replace(
        /authorization="https:\/\/[^"/]+\/[0-9a-f-]{36}"/,
        'authorization="<authority>/<tenant>"',
      )
      .replace(/resource="https:\/\/[^"]+"/, 'resource="<resource>"');
  }
  return 'present';
}

function compareShape(
  recorded: unknown,
  actual: unknown,
  path: string,
  context: CompareContext,
): void {
  if (context.ignored[path] !== undefined) return;
  const at = path || 'body';
  // A listing ends where the fake's objects end, so whether a page has a nextLink is not comparable.
  if (path === 'nextLink' && (recorded === null || actual === null)) return;
  if (kindOf(recorded) !== kindOf(actual)) {
    context.out.add(`${at}: ${kindOf(actual)}, recorded ${kindOf(recorded)}`);
    return;
  }
  if (typeof recorded === 'string' && /^https:\/\//.test(recorded)) {
    if (urlForm(recorded) !== urlForm(actual as string)) {
      context.out.add(`${at}: ${urlForm(actual as string)}, recorded ${urlForm(recorded)}`);
    }
  } else if (Array.isArray(recorded)) {
    for (const item of actual as unknown[]) {
      const like =
        path === 'value' ? context.itemShapes.get(itemKind(item)) : (recorded as unknown[])[0];
      if (like !== undefined) compareShape(like, item, `${path}[]`, context);
    }
  } else if (kindOf(recorded) === 'object') {
    const [r, a] = [recorded as Record<string, unknown>, actual as Record<string, unknown>];
    for (const key of new Set([...Object.keys(r), ...Object.keys(a)])) {
      const child = path ? `${path}.${key}` : key;
      if (context.ignored[child] !== undefined) continue;
      if (!(key in a)) context.out.add(`${child}: missing`);
      else if (!(key in r)) context.out.add(`${child}: not in the recording`);
      else compareShape(r[key], a[key], child, context);
    }
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** A certificate's backing secret lists with more fields than a plain secret. */
function itemKind(item: unknown): string {
  return (item as { managed?: boolean }).managed ? 'managed' : 'plain';
}

function recordedListItems(recording: Recording): Map<string, unknown> {
  const shapes = new Map<string, unknown>();
  for (const entry of recording.entries) {
    const items = (entry.ResponseBody as { value?: unknown } | null)?.value;
    if (!Array.isArray(items)) continue;
    for (const item of items) if (!shapes.has(itemKind(item))) shapes.set(itemKind(item), item);
  }
  return shapes;
}

/** `https://<vault>[:port]/secrets/<name>/<version>?api-version=…&$skiptoken=…&maxresults=1` */
export function urlForm(url: string): string {
  const match = /^https:\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (!match) return url;
  const port = /:\d+$/.exec(match[1]!)?.[0] ?? '';
  // `/<collection>/<name>/<version or more>`: objects are named differently across a listing.
  const path = match[2]!
    .split('/')
    .map((segment, i) => (VERSION.test(segment) ? '<version>' : i === 2 ? '<name>' : segment))
    .join('/');
  const query = (match[3] ?? '')
    .split('&')
    .filter(Boolean)
    .map((pair) => (pair.startsWith('maxresults=') ? pair : `${pair.split('=')[0]}=…`))
    .join('&');
  return `https://<vault>${port}${path}${query ? `?${query}` : ''}`;
}

function learnVersion(recorded: unknown, actual: unknown, versions: Map<string, string>): void {
  const version = (body: unknown) => {
    const id = (body as { id?: unknown } | null)?.id;
    const last = typeof id === 'string' ? id.split('/').at(-1) : undefined;
    return last !== undefined && VERSION.test(last) ? last : undefined;
  };
  const [from, to] = [version(recorded), version(actual)];
  if (from !== undefined && to !== undefined) versions.set(from, to);
}
