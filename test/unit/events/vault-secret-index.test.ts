import { describe, expect, it } from 'vitest';
import type { VaultSecret } from '../../../src/api/vault-secret.ts';
import type { MatchEvent } from '../../../src/events/vault-secret-index.ts';
import { VaultSecretIndex } from '../../../src/events/vault-secret-index.ts';

function vaultSecret(
  name: string,
  spec: Partial<VaultSecret['spec']>,
  url = 'https://kv.vault.azure.net/',
): VaultSecret {
  return {
    apiVersion: 'kvsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name, namespace: 'ns' },
    spec: { vault: { url }, ...spec },
  };
}

const newVersion = (name: string, kind: 'secret' | 'certificate' = 'secret'): MatchEvent => ({
  vaultHost: 'kv.vault.azure.net',
  kind,
  name,
  version: 'v9',
  change: 'NewVersion',
});

function index(): VaultSecretIndex {
  const index = new VaultSecretIndex();
  index.update(
    'ns/latest',
    vaultSecret('latest', { data: [{ key: 'a', secret: { name: 'db' } }] }),
  );
  index.update(
    'ns/pinned',
    vaultSecret('pinned', { data: [{ key: 'a', secret: { name: 'db', version: 'v1' } }] }),
  );
  index.update('ns/json', vaultSecret('json', { dataFrom: [{ secret: { name: 'settings' } }] }));
  index.update('ns/tls', vaultSecret('tls', { data: [{ certificate: { name: 'web' } }] }));
  index.update(
    'ns/finder',
    vaultSecret('finder', {
      dataFrom: [{ find: { nameRegex: '^payments-', tags: { team: 'p' } } }],
    }),
  );
  index.update(
    'ns/elsewhere',
    vaultSecret(
      'elsewhere',
      { data: [{ key: 'a', secret: { name: 'db' } }] },
      'https://other.vault.azure.net',
    ),
  );
  return index;
}

describe('VaultSecretIndex', () => {
  it.each<[string, MatchEvent, string[]]>([
    ['a new version reaches readers of the latest version only', newVersion('db'), ['ns/latest']],
    ['dataFrom secrets are readers too', newVersion('settings'), ['ns/json']],
    [
      'a certificate event reaches certificate readers',
      newVersion('web', 'certificate'),
      ['ns/tls'],
    ],
    ['a new version of the backing secret reaches them too', newVersion('web'), ['ns/tls']],
    ['a new secret matching a find pattern', newVersion('payments-db'), ['ns/finder']],
    ['finds never see certificates', newVersion('payments-cert', 'certificate'), []],
    [
      'vault hosts are compared case-insensitively',
      { ...newVersion('db'), vaultHost: 'KV.vault.azure.net' },
      ['ns/latest'],
    ],
    ['another vault', { ...newVersion('db'), vaultHost: 'x.vault.azure.net' }, []],
    [
      'expiry of a pinned version reaches its reader',
      { ...newVersion('db'), change: 'NearExpiry', version: 'v1' },
      ['ns/latest', 'ns/pinned'],
    ],
    [
      'expiry of another version does not',
      { ...newVersion('db'), change: 'Expired', version: 'v7' },
      ['ns/latest'],
    ],
  ])('%s', (_, event, keys) => {
    expect(index().match(event).sort()).toEqual(keys.sort());
  });

  it('follows edits and deletions', () => {
    const idx = index();
    idx.update(
      'ns/latest',
      vaultSecret('latest', { data: [{ key: 'a', secret: { name: 'other' } }] }),
    );
    expect(idx.match(newVersion('db'))).toEqual([]);
    expect(idx.match(newVersion('other'))).toEqual(['ns/latest']);
    idx.update('ns/latest', undefined);
    expect(idx.match(newVersion('other'))).toEqual([]);
  });

  it('a find without a name pattern hears of every new secret in its vault (tags are unknown)', () => {
    const idx = index();
    idx.update('ns/all', vaultSecret('all', { dataFrom: [{ find: { tags: { team: 'p' } } }] }));
    expect(idx.match(newVersion('anything'))).toEqual(['ns/all']);
    expect(idx.match(newVersion('db')).sort()).toEqual(['ns/all', 'ns/latest']);
  });

  it('leaves out specs kvsync cannot sync anyway', () => {
    const idx = new VaultSecretIndex();
    idx.update(
      'ns/bad-url',
      vaultSecret('bad-url', { data: [{ key: 'a', secret: { name: 'db' } }] }, 'http://kv'),
    );
    idx.update(
      'ns/bad-regex',
      vaultSecret('bad-regex', { dataFrom: [{ find: { nameRegex: '(' } }] }),
    );
    expect(idx.size).toBe(0);
  });
});
