// The recorded Key Vault sessions under recordings/ (see recordings/README.md for their source):
// requests and the real service's answers, in the Azure SDK test recorder's format, trimmed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface RecordedEntry {
  readonly RequestUri: string;
  readonly RequestMethod: string;
  readonly RequestBody: unknown;
  readonly StatusCode: number;
  readonly ResponseHeaders: Readonly<Record<string, string>>;
  readonly ResponseBody: unknown;
}

export interface Recording {
  readonly file: string;
  readonly entries: readonly RecordedEntry[];
}

/** The host the recorder wrote into request URIs, and the one it wrote into response bodies. */
export const RECORDED_HOSTS = /^https:\/\/(sanitized|keyvault_name)\.vault\.azure\.net/i;

const DIRECTORY = path.join(import.meta.dirname, 'recordings');

export async function loadRecording(file: string): Promise<Recording> {
  const text = await readFile(path.join(DIRECTORY, file), 'utf8');
  const { Entries } = JSON.parse(text) as { Entries: RecordedEntry[] };
  return { file, entries: Entries };
}

/** The unauthenticated first request of a session, answered with Key Vault's challenge. */
export function isChallenge(entry: RecordedEntry): boolean {
  return entry.StatusCode === 401 && header(entry, 'www-authenticate') !== undefined;
}

export function header(entry: RecordedEntry, name: string): string | undefined {
  const found = Object.entries(entry.ResponseHeaders).find(([key]) => key.toLowerCase() === name);
  return found?.[1];
}

/** Method, path without a trailing slash, and query without api-version and maxresults. */
export function requestKey(method: string, url: URL): string {
  const query = [...url.searchParams]
    .filter(([name]) => name !== 'api-version' && name !== 'maxresults')
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join('&');
  return `${method.toUpperCase()} ${url.pathname.replace(/\/+$/, '')}?${query}`;
}
