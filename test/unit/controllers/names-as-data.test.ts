// Names that come from a VaultSecret or from vault content are data: every entry point, fed the
// names JavaScript objects inherit, either yields exactly the data asked for or a clear reason —
// never an internal error, a lost key or a value from Object.prototype.
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { VaultSecretSpec } from '../../../src/api/vault-secret.ts';
import { desiredSecret, needsWrite } from '../../../src/controllers/vault-secret/desired-secret.ts';
import { classifyFailure } from '../../../src/controllers/vault-secret/failure.ts';
import { planSync, readId } from '../../../src/controllers/vault-secret/plan.ts';
import {
  buildSecretData,
  ContentError,
} from '../../../src/controllers/vault-secret/secret-data.ts';
import { checkSecretType } from '../../../src/controllers/vault-secret/typed-target.ts';
import type { ObjectProperties, SecretValue } from '../../../src/keyvault/types.ts';
import { digestSecret } from '../../../src/kube/secret-digest.ts';
import { matchesFind } from '../../../src/keyvault/vault-mirror.ts';
import { secretValue, vaultSecret } from './fixtures.ts';

const NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** `{ [name]: value }` as JSON.parse builds it: an own property even for "__proto__". */
const record = (...entries: [string, string][]): Record<string, string> =>
  Object.fromEntries(entries);

type Outcome =
  | { ok: true; data: Record<string, string>; secret: V1Secret }
  | { ok: false; reason: string; message: string };

/** The reconciler's pure path, and the Secret as the API server would store and return it. */
function sync(
  spec: Partial<VaultSecretSpec>,
  vault: Record<string, string>,
  found: ObjectProperties[] = [],
): Outcome {
  try {
    const vs = vaultSecret(spec);
    const plan = planSync(vs);
    const values = new Map<string, SecretValue>();
    for (const [name, value] of Object.entries(vault)) {
      values.set(readId({ kind: 'secret', name, version: undefined }), secretValue(name, value));
    }
    const findIndex = plan.sources.findIndex((s) => s.type === 'find');
    const { data } = buildSecretData({
      plan,
      values,
      found: new Map(findIndex >= 0 ? [[findIndex, found]] : []),
      certificates: new Map(),
    });
    const problem = checkSecretType(vs.spec.target?.type ?? 'Opaque', data);
    if (problem) throw new ContentError('InvalidContent', problem.message);
    const desired = desiredSecret(vs, data);
    const stored = JSON.parse(JSON.stringify(desired)) as V1Secret;
    // What kvsync wrote must read back as unchanged, or it would write on every reconcile.
    expect(needsWrite(digestSecret(stored), desired, 'Owner', vs.metadata.uid)).toBe(false);
    const text = Object.fromEntries(
      Object.entries(stored.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(Object.keys(text).length).toBe(data.size);
    return { ok: true, data: text, secret: stored };
  } catch (error) {
    const failure = classifyFailure(error, 0);
    if (failure.internal) throw error;
    return { ok: false, reason: failure.reason, message: failure.message };
  }
}

const plain = (name: string, property?: string) => ({
  key: 'out',
  secret: { name, ...(property === undefined ? {} : { property }) },
});

describe.each(NAMES)('the name %s', (name) => {
  it('as a Secret key from data[].key', () => {
    const outcome = sync({ data: [{ key: name, secret: { name: 'pw' } }] }, { pw: 'v' });
    expect(outcome).toMatchObject({ ok: true, data: record([name, 'v']) });
  });

  it('as a JSON property (present, and absent)', () => {
    const json = JSON.stringify(record([name, 'v'], ['other', 'w']));
    expect(sync({ data: [plain('cfg', name)] }, { cfg: json })).toMatchObject({
      ok: true,
      data: { out: 'v' },
    });
    expect(sync({ data: [plain('cfg', name)] }, { cfg: '{"other":"w"}' })).toMatchObject({
      ok: false,
      reason: 'InvalidContent',
      message: `secret cfg has no JSON property "${name}"`,
    });
  });

  it('as a JSON field expanded by dataFrom', () => {
    const json = `{${JSON.stringify(name)}:"a","ok":"b"}`;
    expect(sync({ dataFrom: [{ secret: { name: 'cfg' } }] }, { cfg: json })).toMatchObject({
      ok: true,
      data: record([name, 'a'], ['ok', 'b']),
    });
  });

  it('as a vault secret name found by dataFrom.find', () => {
    const found = [secretValue(name, 'v').properties];
    expect(sync({ dataFrom: [{ find: { nameRegex: '.*' } }] }, { [name]: 'v' }, found)).toEqual(
      expect.objectContaining({ ok: true, data: record([name, 'v']) }),
    );
  });

  it('as a find tag, required or carried', () => {
    const tagged = (tags: Record<string, string>) =>
      secretValue('s', 'v', 'a', { tags }).properties;
    const selector = { tags: record([name, 'x']) };
    expect(matchesFind(tagged({}), selector)).toBe(false);
    expect(matchesFind(tagged(record([name, 'x'])), selector)).toBe(true);
    expect(matchesFind(tagged(record([name, 'y'])), selector)).toBe(false);
  });

  it('as a template value (.name and index), present and absent', () => {
    const template = (source: string) => ({
      data: [{ key: 'pw', secret: { name: 'pw' } }],
      target: { template: { data: { out: source } } },
    });
    for (const source of [`{{ .${name} }}`, `{{ index . "${name}" }}`]) {
      expect(sync(template(source), { pw: 'v' })).toMatchObject({
        ok: false,
        reason: 'TemplateError',
      });
    }
    const withValue = {
      data: [{ key: name, secret: { name: 'pw' } }],
      target: { template: { data: { out: `{{ index . "${name}" }}!` } } },
    };
    expect(sync(withValue, { pw: 'v' })).toMatchObject({ ok: true, data: { out: 'v!' } });
  });

  it('as a template function name, piped or leading', () => {
    for (const source of [`{{ .pw | ${name} }}`, `{{ ${name} .pw }}`]) {
      const outcome = sync(
        {
          data: [{ key: 'pw', secret: { name: 'pw' } }],
          target: { template: { data: { out: source } } },
        },
        { pw: 'v' },
      );
      expect(outcome).toMatchObject({ ok: false, reason: 'TemplateError' });
      expect(outcome).toHaveProperty(
        'message',
        expect.stringContaining(`unknown function ${name}`),
      );
    }
  });

  it('as a json template field, present and absent', () => {
    const spec = {
      data: [{ key: 'cfg', secret: { name: 'cfg' } }],
      target: { template: { data: { out: `{{ .cfg | json "${name}" }}` } } },
    };
    expect(sync(spec, { cfg: JSON.stringify(record([name, 'v'])) })).toMatchObject({
      ok: true,
      data: { out: 'v' },
    });
    expect(sync(spec, { cfg: '{}' })).toMatchObject({ ok: false, reason: 'TemplateError' });
  });

  it('as a template key', () => {
    const spec = {
      data: [{ key: 'pw', secret: { name: 'pw' } }],
      target: { template: { data: record([name, '{{ .pw }}']) } },
    };
    expect(sync(spec, { pw: 'v' })).toMatchObject({
      ok: true,
      data: record(['pw', 'v'], [name, 'v']),
    });
  });

  it('as target.type: a custom type, written as such', () => {
    const outcome = sync(
      { data: [{ key: 'pw', secret: { name: 'pw' } }], target: { type: name } },
      { pw: 'v' },
    );
    expect(outcome).toMatchObject({ ok: true, secret: { type: name } });
  });

  it('as a label and an annotation key', () => {
    const outcome = sync(
      {
        data: [{ key: 'pw', secret: { name: 'pw' } }],
        target: { labels: record([name, 'x']), annotations: record([name, 'y']) },
      },
      { pw: 'v' },
    );
    if (name === '__proto__') {
      // Not a Kubernetes label key: reported before any Key Vault call.
      expect(outcome).toMatchObject({
        ok: false,
        reason: 'InvalidSpec',
        message: 'target.labels: "__proto__" is not a valid label key',
      });
      return;
    }
    expect(outcome).toMatchObject({ ok: true });
    if (!outcome.ok) return;
    expect(Object.hasOwn(outcome.secret.metadata?.labels ?? {}, name)).toBe(true);
    expect(outcome.secret.metadata?.annotations?.[name]).toBe('y');
  });
});

describe('the cases that broke on main', () => {
  it('{{ .password | toString }} is a TemplateError, not a crash', () => {
    expect(
      sync(
        {
          data: [{ key: 'password', secret: { name: 'pw' } }],
          target: { template: { data: { out: '{{ .password | toString }}' } } },
        },
        { pw: 'v' },
      ),
    ).toMatchObject({ ok: false, reason: 'TemplateError' });
  });

  it('a JSON field "__proto__" expanded by dataFrom is a key of the Secret', () => {
    const outcome = sync(
      { dataFrom: [{ secret: { name: 'cfg' } }] },
      { cfg: '{"__proto__":"a","ok":"b"}' },
    );
    expect(outcome).toMatchObject({ ok: true });
    if (outcome.ok)
      expect(Object.keys(outcome.secret.data ?? {}).sort()).toEqual(['__proto__', 'ok']);
  });

  it('target.type constructor is a Secret of type constructor', () => {
    expect(
      sync(
        { data: [{ key: 'pw', secret: { name: 'pw' } }], target: { type: 'constructor' } },
        {
          pw: 'v',
        },
      ),
    ).toMatchObject({ ok: true, secret: { type: 'constructor' } });
  });
});
