import { describe, expect, it } from 'vitest';
import { decodeMessage, parseObjectId } from '../../../src/events/decode.ts';

const secretId =
  'https://payments-kv.vault.azure.net/secrets/db-password/9c1e0a3f5b7d4e2a8c6b1d0f3e5a7c9b';

// Key Vault's documented Event Grid sample (learn.microsoft.com, Key Vault as Event Grid source).
const eventGrid = {
  id: '00eccf70-95a7-4e7c-8299-2eb17ee9ad64',
  topic: '/subscriptions/xxx/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/payments-kv',
  subject: 'db-password',
  eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
  eventTime: '2026-11-25T10:00:00.1036736Z',
  data: {
    Id: secretId,
    VaultName: 'payments-kv',
    ObjectType: 'Secret',
    ObjectName: 'db-password',
    Version: '9c1e0a3f5b7d4e2a8c6b1d0f3e5a7c9b',
    NBF: '1559081980',
    EXP: '1559082102',
  },
  dataVersion: '1',
  metadataVersion: '1',
};

const cloudEvent = {
  specversion: '1.0',
  id: 'ce-1',
  source: eventGrid.topic,
  subject: 'db-password',
  type: 'Microsoft.KeyVault.SecretNewVersionCreated',
  time: '2026-11-25T10:00:00Z',
  data: {
    id: secretId,
    vaultName: 'payments-kv',
    objectType: 'Secret',
    objectName: 'db-password',
    version: '9c1e0a3f5b7d4e2a8c6b1d0f3e5a7c9b',
    nbf: 1559081980,
    exp: null,
  },
};

const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const expected = {
  kind: 'secret',
  vaultHost: 'payments-kv.vault.azure.net',
  name: 'db-password',
  version: '9c1e0a3f5b7d4e2a8c6b1d0f3e5a7c9b',
  change: 'NewVersion',
  type: 'SecretNewVersionCreated',
};

describe('decodeMessage', () => {
  it.each([
    [
      'Event Grid schema, raw JSON',
      JSON.stringify(eventGrid),
      '00eccf70-95a7-4e7c-8299-2eb17ee9ad64',
    ],
    ['Event Grid schema, base64', base64(eventGrid), '00eccf70-95a7-4e7c-8299-2eb17ee9ad64'],
    ['CloudEvents 1.0, raw JSON', JSON.stringify(cloudEvent), 'ce-1'],
    ['CloudEvents 1.0, base64', base64(cloudEvent), 'ce-1'],
    ['stray whitespace around JSON', `\n  ${JSON.stringify(eventGrid)}  \r\n`, eventGrid.id],
    ['base64 wrapped over lines', base64(eventGrid).replace(/(.{60})/g, '$1\n'), eventGrid.id],
    ['a one-event array', JSON.stringify([eventGrid]), eventGrid.id],
    ['a byte-order mark', `\uFEFF${JSON.stringify(cloudEvent)}`, 'ce-1'],
  ])('%s', (_, text, id) => {
    const [decoded, ...rest] = decodeMessage(text);
    expect(rest).toEqual([]);
    expect(decoded).toMatchObject({ outcome: 'event', event: { ...expected, id } });
  });

  it.each([
    ['Event Grid: strings', eventGrid, new Date(1559081980_000), new Date(1559082102_000)],
    ['CloudEvents: a number and null', cloudEvent, new Date(1559081980_000), undefined],
    [
      'ISO dates and blanks',
      { ...eventGrid, data: { ...eventGrid.data, NBF: ' ', EXP: '2027-01-01T00:00:00Z' } },
      undefined,
      new Date('2027-01-01T00:00:00Z'),
    ],
    [
      'nonsense is ignored, not fatal',
      { ...eventGrid, data: { ...eventGrid.data, NBF: 'soon', EXP: {} } },
      undefined,
      undefined,
    ],
  ])('NBF/EXP: %s', (_, event, notBefore, expiresOn) => {
    const [decoded] = decodeMessage(JSON.stringify(event));
    expect(decoded).toMatchObject({ outcome: 'event', event: { notBefore, expiresOn } });
  });

  it.each([
    ['CertificateNewVersionCreated', 'certificates', 'certificate', 'NewVersion'],
    ['CertificateNearExpiry', 'certificates', 'certificate', 'NearExpiry'],
    ['CertificateExpired', 'certificates', 'certificate', 'Expired'],
    ['SecretNearExpiry', 'secrets', 'secret', 'NearExpiry'],
    ['SecretExpired', 'secrets', 'secret', 'Expired'],
  ])('%s', (type, collection, kind, change) => {
    const event = {
      ...eventGrid,
      eventType: `Microsoft.KeyVault.${type}`,
      data: {
        ...eventGrid.data,
        Id: `https://payments-kv.vault.azure.net/${collection}/web-tls/abc123`,
      },
    };
    const [decoded] = decodeMessage(JSON.stringify(event));
    expect(decoded).toMatchObject({
      outcome: 'event',
      event: { type, kind, change, name: 'web-tls', version: 'abc123' },
    });
  });

  it('reads camelCase or PascalCase in the envelope too, and the time', () => {
    const pascal = {
      Id: 'x-1',
      EventType: eventGrid.eventType,
      EventTime: eventGrid.eventTime,
      Data: eventGrid.data,
    };
    const [decoded] = decodeMessage(JSON.stringify(pascal));
    expect(decoded).toMatchObject({
      outcome: 'event',
      event: { id: 'x-1', name: 'db-password', time: new Date('2026-11-25T10:00:00.103Z') },
    });
  });

  it('takes the version from data.Version when data.Id has none, and keeps the port of an emulator', () => {
    const event = {
      ...eventGrid,
      data: { id: ' https://kv.vault.localtest:8443/secrets/api-key ', version: ' v2 ' },
    };
    const [decoded] = decodeMessage(JSON.stringify(event));
    expect(decoded).toMatchObject({
      outcome: 'event',
      event: { vaultHost: 'kv.vault.localtest:8443', name: 'api-key', version: 'v2' },
    });
  });

  it.each([
    ['a key', 'Microsoft.KeyVault.KeyNewVersionCreated', 'KeyNewVersionCreated'],
    [
      'an access policy change',
      'Microsoft.KeyVault.VaultAccessPolicyChanged',
      'VaultAccessPolicyChanged',
    ],
    ['another service', 'Microsoft.Storage.BlobCreated', 'other'],
  ])('ignores %s, with a bounded type label', (_, eventType, type) => {
    expect(decodeMessage(JSON.stringify({ ...eventGrid, eventType }))).toEqual([
      { outcome: 'ignored', type, id: eventGrid.id },
    ]);
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{"id": '],
    ['base64 of not JSON', Buffer.from('hello world').toString('base64')],
    ['plain text', 'the password is hunter2'],
    ['a JSON string', '"SecretNewVersionCreated"'],
    ['an empty array', '[]'],
    ['a number array', '[1]'],
    ['no id', JSON.stringify({ ...eventGrid, id: '  ' })],
    ['no type', JSON.stringify({ ...eventGrid, eventType: undefined })],
    ['no data', JSON.stringify({ ...eventGrid, data: 'x' })],
    ['no data.Id', JSON.stringify({ ...eventGrid, data: { VaultName: 'kv', ObjectName: 'x' } })],
    [
      'an http data.Id',
      JSON.stringify({ ...eventGrid, data: { Id: secretId.replace('https', 'http') } }),
    ],
    [
      'a data.Id with a bad name',
      JSON.stringify({ ...eventGrid, data: { Id: 'https://kv.vault.azure.net/secrets/a_b' } }),
    ],
    [
      'a data.Id of another collection',
      JSON.stringify({ ...eventGrid, data: { Id: 'https://kv.vault.azure.net/storage/x' } }),
    ],
  ])('refuses %s without quoting it', (_, text) => {
    const decoded = decodeMessage(text);
    expect(decoded.every((item) => item.outcome === 'malformed')).toBe(true);
    for (const item of decoded) {
      if (item.outcome !== 'malformed') continue;
      expect(item.reason).not.toContain('hunter2');
      expect(item.reason).not.toContain('a_b');
    }
  });
});

describe('parseObjectId', () => {
  it.each([
    [secretId, { kind: 'secret', vaultHost: 'payments-kv.vault.azure.net', name: 'db-password' }],
    [
      'https://KV.Vault.Azure.Net/Certificates/web/1',
      { kind: 'certificate', vaultHost: 'kv.vault.azure.net', name: 'web', version: '1' },
    ],
    [
      'https://kv.vault.azure.net/keys/signing',
      { kind: 'key', name: 'signing', version: undefined },
    ],
    ['https://kv.vault.azure.net/secrets/x/1/extra', undefined],
    ['https://kv.vault.azure.net/secrets/x?api-version=7', undefined],
    ['not a url', undefined],
  ])('%s', (id, expectedResult) => {
    const parsed = parseObjectId(id);
    if (expectedResult === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toMatchObject(expectedResult);
  });
});
