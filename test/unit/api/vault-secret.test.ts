import { describe, expect, it } from 'vitest';
import { defaults, refreshIntervalBounds } from '../../../src/api/vault-secret-schema.ts';
import {
  certificateOutputKeys,
  forceSyncAnnotation,
  forceSyncValue,
  outputKeyOf,
  outputKeysOf,
  parseDuration,
  pendingForceSync,
  refreshIntervalMs,
  rewriteKey,
  targetSecretName,
  type DataItem,
  type VaultSecret,
} from '../../../src/api/vault-secret.ts';

function vaultSecret(spec: Partial<VaultSecret['spec']> = {}): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name: 'payments', namespace: 'shop' },
    spec: { vault: { url: 'https://kv.vault.azure.net/' }, ...spec },
  };
}

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['10s', 10_000],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2h45m10s', 9_910_000],
    ['90m', 5_400_000],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1', '1d', '1.5h', '30m1h', '1h 30m', '-1h', '1H', '500ms', ' 1h', '1h\n'])(
    'refuses %j, which the CRD refuses too',
    (text) => {
      expect(() => parseDuration(text)).toThrow(RangeError);
    },
  );

  it('reads the bounds and the default the CRD states', () => {
    expect(parseDuration(refreshIntervalBounds.min)).toBe(10_000);
    expect(parseDuration(refreshIntervalBounds.max)).toBe(7 * 24 * 3_600_000);
    // Node timers overflow above 2^31-1 ms and would fire at once: the maximum stays below.
    expect(parseDuration(refreshIntervalBounds.max)).toBeLessThan(2 ** 31 - 1);
    expect(parseDuration(defaults.refreshInterval)).toBe(3_600_000);
  });
});

describe('refreshIntervalMs', () => {
  it('defaults to one hour when the API server has not defaulted the field', () => {
    expect(refreshIntervalMs(vaultSecret())).toBe(3_600_000);
  });

  it("uses the operator's default when the VaultSecret sets none", () => {
    expect(refreshIntervalMs(vaultSecret(), '15m')).toBe(900_000);
    expect(refreshIntervalMs(vaultSecret({ refreshInterval: '2h' }), '15m')).toBe(7_200_000);
  });

  it('is 0 for "sync once"', () => {
    expect(refreshIntervalMs(vaultSecret({ refreshInterval: '0' }))).toBe(0);
  });
});

describe('targetSecretName', () => {
  it('is the VaultSecret name without target.name', () => {
    expect(targetSecretName(vaultSecret())).toBe('payments');
    expect(targetSecretName(vaultSecret({ target: { type: 'Opaque' } }))).toBe('payments');
  });

  it('is target.name when given', () => {
    expect(targetSecretName(vaultSecret({ target: { name: 'payments-db' } }))).toBe('payments-db');
  });
});

describe('output keys of a data item', () => {
  const cases: [string, DataItem, string | undefined, string[]][] = [
    ['a secret', { key: 'password', secret: { name: 'db-password' } }, 'password', ['password']],
    [
      'a PEM certificate with default keys',
      { certificate: { name: 'web', format: 'pem' } },
      undefined,
      ['tls.crt', 'tls.key'],
    ],
    [
      'a certificate without format (pem is the default)',
      { certificate: { name: 'web' } },
      undefined,
      ['tls.crt', 'tls.key'],
    ],
    [
      'a PEM certificate with renamed keys and a CA key',
      {
        certificate: {
          name: 'web',
          keys: { certificate: 'cert.pem', privateKey: 'key.pem', ca: 'ca.crt' },
        },
      },
      undefined,
      ['cert.pem', 'key.pem', 'ca.crt'],
    ],
    [
      'a PEM certificate with only a CA key named',
      { certificate: { name: 'web', keys: { ca: 'ca.crt' } } },
      undefined,
      ['tls.crt', 'tls.key', 'ca.crt'],
    ],
    [
      'a PFX certificate',
      { key: 'keystore.pfx', certificate: { name: 'web', format: 'pfx' } },
      'keystore.pfx',
      ['keystore.pfx'],
    ],
  ];

  it.each(cases)('%s', (_name, item, single, all) => {
    expect(outputKeyOf(item)).toBe(single);
    expect(outputKeysOf(item)).toEqual(all);
  });

  it('names the PEM outputs with defaults applied', () => {
    expect(certificateOutputKeys({ name: 'web' })).toEqual({
      certificate: 'tls.crt',
      privateKey: 'tls.key',
      ca: undefined,
    });
  });
});

describe('rewriteKey', () => {
  it.each([
    ['payments-db', { stripPrefix: 'payments-' }, 'db'],
    ['other-db', { stripPrefix: 'payments-' }, 'other-db'],
    ['payments-', { stripPrefix: 'payments-' }, 'payments-'],
    ['payments-db', undefined, 'payments-db'],
    ['payments-db', {}, 'payments-db'],
  ])('%s with %j -> %s', (name, rewrite, key) => {
    expect(rewriteKey(name, rewrite)).toBe(key);
  });
});

describe('force-sync', () => {
  const annotated = (value: string | undefined, handled?: string): VaultSecret => ({
    ...vaultSecret(),
    metadata: {
      name: 'payments',
      namespace: 'shop',
      ...(value !== undefined ? { annotations: { [forceSyncAnnotation]: value } } : {}),
    },
    ...(handled !== undefined ? { status: { lastHandledForceSync: handled } } : {}),
  });

  it.each([
    ['no annotation', undefined, undefined, undefined],
    ['a first value', '1', undefined, '1'],
    ['a new value', '2', '1', '2'],
    ['the value already handled (a restart, a later reconcile)', '1', '1', undefined],
  ])('%s is pending: %s', (_, value, handled, pending) => {
    expect(pendingForceSync(annotated(value, handled))).toBe(pending);
  });

  it('records a value longer than the status field allows by its sha256', () => {
    const long = 'x'.repeat(300);
    const recorded = forceSyncValue(annotated(long));
    expect(recorded).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pendingForceSync(annotated(long, recorded))).toBeUndefined();
    expect(pendingForceSync(annotated(`${long}y`, recorded))).toMatch(/^sha256:/);
  });
});
