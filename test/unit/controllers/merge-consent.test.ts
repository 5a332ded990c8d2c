import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mergeRefusal } from '../../../src/controllers/vault-secret/merge-consent.ts';
import { vaultSecret } from './fixtures.ts';

const merger = vaultSecret({ target: { creationPolicy: 'Merge', name: 'shared' } }, 'merger');

function secret(annotations: Record<string, string> | undefined, type?: string): V1Secret {
  return { metadata: { name: 'shared', namespace: 'team', annotations }, type };
}

describe('mergeRefusal', () => {
  it.each([
    ['names this VaultSecret', secret({ 'kvsync.io/merge-from': 'merger' })],
    ['names any VaultSecret ("*")', secret({ 'kvsync.io/merge-from': '*' })],
    ['a typed Secret that consents', secret({ 'kvsync.io/merge-from': '*' }, 'kubernetes.io/tls')],
  ])('lets a Secret that %s be merged into', (_, current) => {
    expect(mergeRefusal(current, merger)).toBeUndefined();
  });

  it.each([
    [
      'without the annotation',
      secret(undefined),
      'Secret shared does not consent to creationPolicy Merge: annotate it with kvsync.io/merge-from: merger (or "*")',
    ],
    [
      'naming another VaultSecret',
      secret({ 'kvsync.io/merge-from': 'other' }),
      'Secret shared consents to a Merge from "other" only: annotate it with kvsync.io/merge-from: merger (or "*")',
    ],
    [
      'of type service-account-token, even annotated',
      secret({ 'kvsync.io/merge-from': '*' }, 'kubernetes.io/service-account-token'),
      'Secret shared is of type kubernetes.io/service-account-token; kvsync never writes such Secrets',
    ],
    [
      'of type bootstrap token, even annotated',
      secret({ 'kvsync.io/merge-from': 'merger' }, 'bootstrap.kubernetes.io/token'),
      'Secret shared is of type bootstrap.kubernetes.io/token; kvsync never writes such Secrets',
    ],
  ])('refuses a Secret %s, saying what to do', (_, current, message) => {
    expect(mergeRefusal(current, merger)).toBe(message);
  });

  it('reads only its own annotation, not one inherited from Object', () => {
    const annotations = Object.create({ 'kvsync.io/merge-from': '*' }) as Record<string, string>;
    expect(mergeRefusal(secret(annotations), merger)).toMatch(/does not consent/);
  });
});
