// The reader on the real SecretClient, with Key Vault simulated at the HTTP client: proves the
// budget sees every HTTP request, SDK retries are off, pages are 25 and errors are classified.
import type { TokenCredential } from '@azure/core-auth';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { createVaultBudget } from '../../../src/keyvault/budget.ts';
import { VaultError } from '../../../src/keyvault/errors.ts';
import { createSecretReader, type VaultRequestEvent } from '../../../src/keyvault/secret-reader.ts';
import type { ObjectProperties } from '../../../src/keyvault/types.ts';

const VAULT = 'https://kv1.vault.azure.net';
const HOST = 'kv1.vault.azure.net';

const credential: TokenCredential = {
  getToken: () =>
    Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

type Fault = { status: number; headers?: Record<string, string>; body?: unknown };

/** Just enough Key Vault: challenge, get latest/version, list with nextLink, scripted faults. */
function fakeVault(secretCount: number) {
  const requests: string[] = [];
  const timeouts: number[] = [];
  const faults: Fault[] = [];
  const httpClient: HttpClient = {
    sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}${decodeURIComponent(url.search)}`);
      timeouts.push(request.timeout);
      const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) =>
        Promise.resolve({
          request,
          status,
          headers: createHttpHeaders({ 'content-type': 'application/json', ...headers }),
          ...(body === undefined ? {} : { bodyAsText: JSON.stringify(body) }),
        });
      if (!request.headers.get('authorization')) {
        return reply(401, undefined, {
          'www-authenticate':
            'Bearer authorization="https://login.microsoftonline.com/tenant-1", resource="https://vault.azure.net"',
        });
      }
      const fault = faults.shift();
      if (fault) return reply(fault.status, fault.body, fault.headers);
      const attributes = { enabled: true, created: 1_700_000_000, updated: 1_700_000_100 };
      if (url.pathname === '/secrets') {
        const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
        const max = Number(url.searchParams.get('maxresults') ?? 25);
        const names = Array.from(
          { length: secretCount },
          (_, i) => `s-${String(i).padStart(3, '0')}`,
        );
        const page = names.slice(skip, skip + max);
        const next =
          skip + max < names.length
            ? `${VAULT}/secrets?api-version=7.4&$skiptoken=${skip + max}&maxresults=${max}`
            : null;
        return reply(200, {
          value: page.map((name) => ({
            id: `${VAULT}/secrets/${name}`,
            attributes,
            tags: { team: 'a' },
          })),
          nextLink: next,
        });
      }
      const [, , name, version] = url.pathname.split('/');
      return reply(200, {
        value: `value-of-${name}`,
        id: `${VAULT}/secrets/${name}/${version || 'v1'}`,
        contentType: 'text/plain',
        attributes,
      });
    },
  };
  return { httpClient, requests, timeouts, faults };
}

function setup(secretCount = 0, signal?: AbortSignal) {
  const vault = fakeVault(secretCount);
  const events: VaultRequestEvent[] = [];
  const budget = createVaultBudget();
  let acquired = 0;
  const countingBudget = {
    ...budget,
    acquire: (host: string, signal?: Parameters<typeof budget.acquire>[1]) => {
      acquired += 1;
      return budget.acquire(host, signal);
    },
  };
  const reader = createSecretReader({
    vaultUrl: VAULT,
    credential,
    budget: countingBudget,
    clientOptions: { httpClient: vault.httpClient, serviceVersion: '7.4' },
    onRequest: (e) => events.push(e),
    ...(signal ? { signal } : {}),
  });
  return { reader, vault, events, budget, acquired: () => acquired };
}

async function collect(
  pages: AsyncIterable<readonly ObjectProperties[]>,
): Promise<ObjectProperties[][]> {
  const out: ObjectProperties[][] = [];
  for await (const page of pages) out.push([...page]);
  return out;
}

describe('createSecretReader', () => {
  it('reads the latest version through the challenge, one budget token per HTTP request', async () => {
    const { reader, vault, events, acquired } = setup();
    const secret = await reader.getSecret('db-password');
    expect(secret.value).toBe('value-of-db-password');
    expect(secret.properties).toMatchObject({
      name: 'db-password',
      version: 'v1',
      enabled: true,
      contentType: 'text/plain',
      managed: false,
    });
    expect(secret.properties.updatedOn).toEqual(new Date(1_700_000_100_000));
    expect(vault.requests).toEqual([
      'GET /secrets/db-password/?api-version=7.4',
      'GET /secrets/db-password/?api-version=7.4',
    ]);
    expect(acquired()).toBe(2);
    expect(events.map((e) => [e.vault, e.operation, e.code])).toEqual([
      [HOST, 'getSecret', '401'],
      [HOST, 'getSecret', '200'],
    ]);
    expect(reader.vaultUrl).toBe(`${VAULT}/`);
  });

  it('sends nothing once its signal is aborted, list pages after the first included', async () => {
    const aborting = new AbortController();
    const { reader, vault } = setup(60, aborting.signal);
    const pages = reader.listSecretPages()[Symbol.asyncIterator]();
    expect((await pages.next()).value).toHaveLength(25);
    const sent = [...vault.requests];
    aborting.abort(new Error('lost the Lease'));
    await expect(pages.next()).rejects.toThrow();
    await expect(reader.getSecret('db-password')).rejects.toThrow();
    expect(vault.requests).toEqual(sent);
  });

  it('bounds every request by the request timeout', async () => {
    const { reader, vault } = setup(30);
    await reader.getSecret('db');
    await collect(reader.listSecretPages());
    expect(new Set(vault.timeouts)).toEqual(new Set([30_000]));
  });

  it('reads a given version', async () => {
    const { reader, vault } = setup();
    const secret = await reader.getSecret('db', 'abc123');
    expect(secret.properties.version).toBe('abc123');
    expect(vault.requests.at(-1)).toBe('GET /secrets/db/abc123?api-version=7.4');
  });

  it('lists in pages of 25, one request per page, versions left undefined', async () => {
    const { reader, vault, events } = setup(60);
    const pages = await collect(reader.listSecretPages());
    expect(pages.map((p) => p.length)).toEqual([25, 25, 10]);
    expect(pages[0]![0]).toMatchObject({
      name: 's-000',
      version: undefined,
      tags: { team: 'a' },
      enabled: true,
    });
    const listRequests = vault.requests.filter((r) => r.startsWith('GET /secrets?'));
    expect(listRequests).toHaveLength(4); // the challenge, then three pages
    expect(listRequests.every((r) => r.includes('maxresults=25'))).toBe(true);
    expect(events.filter((e) => e.code === '200').map((e) => e.operation)).toEqual([
      'listSecrets',
      'listSecrets',
      'listSecrets',
    ]);
  });

  it('fails fast on 503: the SDK does not retry, kvsync does', async () => {
    const { reader, vault } = setup();
    await reader.getSecret('warm-up'); // challenge done
    const before = vault.requests.length;
    vault.faults.push({
      status: 503,
      body: { error: { code: 'ServiceUnavailable', message: 'busy' } },
    });
    await expect(reader.getSecret('db')).rejects.toMatchObject({
      kind: 'Transient',
      statusCode: 503,
    });
    expect(vault.requests.length - before).toBe(1);
  });

  it('fails fast on 429 and pauses the vault for its Retry-After', async () => {
    const { reader, vault, budget } = setup();
    await reader.getSecret('warm-up');
    const before = vault.requests.length;
    vault.faults.push({
      status: 429,
      headers: { 'retry-after': '2' },
      body: { error: { code: 'Throttled', message: 'Too many requests' } },
    });
    const started = Date.now();
    const err = await reader.getSecret('db').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect(err).toMatchObject({ kind: 'Throttled', retryAfterMs: 2_000, objectName: 'db' });
    expect(vault.requests.length - before).toBe(1);
    expect(budget.pausedUntil(HOST)).toBeGreaterThanOrEqual(started + 1_900);
  });

  it.each([
    [
      { status: 404, body: { error: { code: 'SecretNotFound', message: 'not found' } } },
      'NotFound',
    ],
    [
      {
        status: 403,
        body: {
          error: {
            code: 'Forbidden',
            message: 'Operation get is not allowed on a disabled secret.',
          },
        },
      },
      'Disabled',
    ],
    [
      {
        status: 403,
        body: {
          error: { code: 'Forbidden', message: 'denied', innererror: { code: 'ForbiddenByRbac' } },
        },
      },
      'Forbidden',
    ],
  ])('classifies %j as %s', async (fault, kind) => {
    const { reader, vault } = setup();
    vault.faults.push(fault);
    await expect(reader.getSecret('db')).rejects.toMatchObject({ kind, objectName: 'db' });
  });

  it('classifies a failing list page', async () => {
    const { reader, vault } = setup(60);
    vault.faults.push({ status: 500, body: { error: { code: 'InternalError', message: 'x' } } });
    await expect(collect(reader.listSecretPages())).rejects.toMatchObject({ kind: 'Transient' });
  });

  it.each([['a/b'], ['../keys/x'], [''], ['x'.repeat(128)]])(
    'refuses the object name %j before sending anything',
    async (name) => {
      const { reader, vault } = setup();
      await expect(reader.getSecret(name)).rejects.toMatchObject({ kind: 'Invalid' });
      expect(vault.requests).toEqual([]);
    },
  );

  it('refuses a version that is not a Key Vault version', async () => {
    const { reader, vault } = setup();
    await expect(reader.getSecret('db', '../x')).rejects.toMatchObject({ kind: 'Invalid' });
    expect(vault.requests).toEqual([]);
  });
});
