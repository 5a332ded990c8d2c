import { describe, expect, it } from 'vitest';
import { planSync, InvalidSpecError, readId } from '../../../src/controllers/vault-secret/plan.ts';
import {
  buildSecretData,
  ContentError,
} from '../../../src/controllers/vault-secret/secret-data.ts';
import type { VaultSecretSpec } from '../../../src/api/vault-secret.ts';
import type { ObjectProperties, SecretValue } from '../../../src/keyvault/types.ts';
import { secretValue, vaultSecret } from './fixtures.ts';

function build(
  spec: Partial<VaultSecretSpec>,
  vault: Record<string, string>,
  found: ObjectProperties[] = [],
) {
  const plan = planSync(vaultSecret(spec));
  const values = new Map<string, SecretValue>();
  for (const [name, value] of Object.entries(vault)) {
    values.set(readId({ kind: 'secret', name, version: undefined }), secretValue(name, value));
  }
  const findIndex = plan.sources.findIndex((s) => s.type === 'find');
  const data = buildSecretData({
    plan,
    values,
    found: new Map(findIndex >= 0 ? [[findIndex, found]] : []),
    certificates: new Map(),
  });
  return { ...data, text: Object.fromEntries([...data.data].map(([k, v]) => [k, v.toString()])) };
}

describe('planSync', () => {
  it('refuses what only kvsync can check', () => {
    expect(() => planSync(vaultSecret({ dataFrom: [{ find: { nameRegex: '([' } }] }))).toThrow(
      InvalidSpecError,
    );
    expect(() => planSync(vaultSecret({ dataFrom: [{ find: { nameRegex: '([' } }] }))).toThrow(
      /nameRegex is not a valid regular expression/,
    );
  });

  it('reads nameRegex as RE2, as the CRD says: Perl-only syntax is refused, named', () => {
    expect(() =>
      planSync(vaultSecret({ dataFrom: [{ find: { nameRegex: '^(?!internal-)' } }] })),
    ).toThrow(/dataFrom\[0\]\.find\.nameRegex is not a valid regular expression: .*\(\?!/);
    expect(() => planSync(vaultSecret({ dataFrom: [{ find: { nameRegex: '(a)\\1' } }] }))).toThrow(
      InvalidSpecError,
    );
  });

  it('matches nameRegex anywhere in the name, in linear time even for a pathological pattern', () => {
    const selector = (nameRegex: string) => {
      const [source] = planSync(vaultSecret({ dataFrom: [{ find: { nameRegex } }] })).sources;
      if (source?.type !== 'find' || !source.selector.nameRegex) throw new Error('no find');
      return source.selector.nameRegex;
    };
    expect(selector('^payments-').test('payments-db')).toBe(true);
    expect(selector('db').test('payments-db-password')).toBe(true);
    expect(selector('^db$').test('payments-db')).toBe(false);
    // With a backtracking engine this takes ~2^100 steps; RE2 answers at once (or the test hangs).
    expect(selector('^(a+)+$').test(`${'a'.repeat(100)}!`)).toBe(false);
  });

  it('reads a pinned version as such and the rest as latest', () => {
    const plan = planSync(
      vaultSecret({
        data: [
          { key: 'a', secret: { name: 'x', version: 'f'.repeat(32) } },
          { key: 'b', secret: { name: 'y' } },
        ],
      }),
    );
    expect(plan.sources.map((s) => (s.type === 'value' ? readId(s.read) : ''))).toEqual([
      `x@${'f'.repeat(32)}`,
      'y@latest',
    ]);
  });
});

describe('buildSecretData', () => {
  it('takes a JSON property by dotted path, stringifying non-strings', () => {
    const { text } = build(
      {
        data: [
          { key: 'host', secret: { name: 'cfg', property: 'db.host' } },
          { key: 'port', secret: { name: 'cfg', property: 'db.port' } },
        ],
      },
      { cfg: JSON.stringify({ db: { host: 'h', port: 5432 } }) },
    );
    expect(text).toEqual({ host: 'h', port: '5432' });
  });

  it('expands a JSON object and lets explicit data win over dataFrom', () => {
    const { text } = build(
      {
        data: [{ key: 'A', secret: { name: 'explicit' } }],
        dataFrom: [{ secret: { name: 'bulk' } }],
      },
      { explicit: 'mine', bulk: JSON.stringify({ A: 'theirs', B: true }) },
    );
    expect(text).toEqual({ A: 'mine', B: 'true' });
  });

  it('strips prefixes from found names', () => {
    const found = [secretValue('app-x', '1').properties, secretValue('app-y', '2').properties];
    const { text } = build(
      { dataFrom: [{ find: { nameRegex: '^app-' }, rewrite: { stripPrefix: 'app-' } }] },
      { 'app-x': '1', 'app-y': '2' },
      found,
    );
    expect(text).toEqual({ x: '1', y: '2' });
  });

  it.each([
    [
      { data: [{ key: 'k', secret: { name: 'cfg', property: 'missing' } }] },
      { cfg: '{}' },
      'secret cfg has no JSON property "missing"',
    ],
    [
      { data: [{ key: 'k', secret: { name: 'cfg', property: 'a' } }] },
      { cfg: 'not json s3cr3t' },
      'secret cfg is not valid JSON',
    ],
    [
      { dataFrom: [{ secret: { name: 'cfg' } }] },
      { cfg: '[1,2]' },
      'secret cfg is not a JSON object',
    ],
    [
      { dataFrom: [{ secret: { name: 'cfg' } }] },
      { cfg: '{"bad key":"s3cr3t"}' },
      'key "bad key" from cfg is not a valid Secret key',
    ],
    [
      { dataFrom: [{ secret: { name: 'cfg' } }] },
      { cfg: '{"..x":"s3cr3t"}' },
      'key "..x" from cfg is not a valid Secret key',
    ],
  ] as const)('fails clearly without quoting values: %#', (spec, vault, message) => {
    let error: unknown;
    try {
      build(spec as unknown as Partial<VaultSecretSpec>, vault);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ContentError);
    expect((error as ContentError).message).toBe(message);
    expect((error as ContentError).message).not.toContain('s3cr3t');
  });

  it('records what was synced, pinned or not, with expiry', () => {
    const { objects } = build({ data: [{ key: 'k', secret: { name: 'a' } }] }, { a: 'v' });
    expect(objects).toEqual([
      {
        name: 'a',
        kind: 'secret',
        version: 'a'.repeat(32),
        updatedOn: new Date('2026-11-01T00:00:00Z'),
        expiresOn: undefined,
        pinned: false,
      },
    ]);
  });
});
