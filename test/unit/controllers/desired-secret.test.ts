import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  comparable,
  desiredSecret,
  mayWrite,
  needsWrite,
  replacement,
} from '../../../src/controllers/vault-secret/desired-secret.ts';
import { digestSecret } from '../../../src/kube/secret-digest.ts';
import { vaultSecret } from './fixtures.ts';

const data = new Map([['password', Buffer.from('pw')]]);

function existing(
  overrides: Partial<V1Secret['metadata']> = {},
  extra: Partial<V1Secret> = {},
): V1Secret {
  return {
    metadata: {
      name: 'app',
      namespace: 'team',
      resourceVersion: '7',
      labels: { 'app.kubernetes.io/managed-by': 'kvsync' },
      annotations: { 'kvsync.io/vaultsecret': 'app' },
      ownerReferences: [
        {
          apiVersion: 'kvsync.io/v1alpha1',
          kind: 'VaultSecret',
          name: 'app',
          uid: 'uid-1',
          controller: true,
        },
      ],
      ...overrides,
    },
    type: 'Opaque',
    data: { password: Buffer.from('pw').toString('base64') },
    ...extra,
  };
}

describe('desiredSecret', () => {
  it('owns the Secret under Owner and labels it as kvsync-managed', () => {
    const secret = desiredSecret(vaultSecret({ target: { labels: { app: 'x' } } }), data);
    expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ uid: 'uid-1', controller: true });
    expect(secret.metadata?.labels).toEqual({ app: 'x', 'app.kubernetes.io/managed-by': 'kvsync' });
    expect(secret.type).toBe('Opaque');
  });

  it('leaves type and owner out under Merge, and the owner out under Orphan', () => {
    const merge = desiredSecret(vaultSecret({ target: { creationPolicy: 'Merge' } }), data);
    expect(merge.type).toBeUndefined();
    expect(merge.metadata?.ownerReferences).toBeUndefined();
    expect(
      desiredSecret(vaultSecret({ target: { creationPolicy: 'Orphan' } }), data).metadata
        ?.ownerReferences,
    ).toBeUndefined();
  });
});

describe('mayWrite', () => {
  it.each([
    ['its own Secret', existing(), {}, true],
    [
      'an unlabelled Secret under Owner',
      existing({ labels: {}, annotations: {}, ownerReferences: [] }),
      {},
      false,
    ],
    [
      "another VaultSecret's Secret",
      existing({ annotations: { 'kvsync.io/vaultsecret': 'other' } }),
      {},
      false,
    ],
    [
      'a Secret controlled by another owner',
      existing({
        ownerReferences: [
          { apiVersion: 'v1', kind: 'X', name: 'x', uid: 'other', controller: true },
        ],
      }),
      {},
      false,
    ],
    [
      'an unlabelled Secret under Merge',
      existing({ labels: {}, annotations: {}, ownerReferences: [] }),
      { target: { creationPolicy: 'Merge' as const } },
      true,
    ],
  ])('%s', (_, current, spec, expected) => {
    expect(mayWrite(current, vaultSecret(spec))).toBe(expected);
  });
});

describe('needsWrite', () => {
  const desired = desiredSecret(vaultSecret(), data);
  it.each([
    ['nothing changed', existing(), false],
    ['a value was edited', existing({}, { data: { password: 'eA==' } }), true],
    [
      'a key was added by hand',
      existing({}, { data: { password: Buffer.from('pw').toString('base64'), extra: 'eA==' } }),
      true,
    ],
    ['our label was removed', existing({ labels: {} }), true],
    [
      'someone added a label',
      existing({ labels: { 'app.kubernetes.io/managed-by': 'kvsync', team: 'x' } }),
      false,
    ],
  ])('%s', (_, current, expected) => {
    expect(needsWrite(digestSecret(current), desired, 'Owner', 'uid-1')).toBe(expected);
  });

  it('ignores keys others added under Merge, not an edit of its own', () => {
    const merge = desiredSecret(vaultSecret({ target: { creationPolicy: 'Merge' } }), data);
    const theirs = { theirs: 'eA==' };
    const password = Buffer.from('pw').toString('base64');
    const live = (own: Record<string, string>) =>
      comparable(existing({}, { data: { ...own, ...theirs } }), merge, 'Merge');
    expect(needsWrite(live({ password }), merge, 'Merge', 'uid-1')).toBe(false);
    expect(needsWrite(live({ password: 'eA==' }), merge, 'Merge', 'uid-1')).toBe(true);
    expect(needsWrite(live({}), merge, 'Merge', 'uid-1')).toBe(true);
  });

  it('drops its owner reference when the policy becomes Orphan', () => {
    const orphan = desiredSecret(vaultSecret({ target: { creationPolicy: 'Orphan' } }), data);
    expect(needsWrite(digestSecret(existing()), orphan, 'Orphan', 'uid-1')).toBe(true);
    expect(replacement(existing(), orphan, 'uid-1').metadata?.ownerReferences ?? []).toEqual([]);
  });
});

describe('replacement', () => {
  it('writes the desired data and keeps metadata others added and the cached resourceVersion', () => {
    const current = existing({
      labels: { 'app.kubernetes.io/managed-by': 'kvsync', team: 'x' },
      annotations: { 'kvsync.io/vaultsecret': 'app', note: 'n' },
    });
    const desired = desiredSecret(vaultSecret(), data);
    const next = replacement(digestSecret(current), desired, 'uid-1');
    expect(next.data).toEqual(desired.data);
    expect(next.metadata).toMatchObject({
      resourceVersion: '7',
      labels: { team: 'x' },
      annotations: { note: 'n' },
    });
    expect(next.metadata?.ownerReferences).toHaveLength(1);
  });
});
