// Adoption: which existing Secrets a VaultSecret with target.adopt may take over, why not, and the
// one update that takes it over.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adoptionRefusal } from '../../../src/controllers/vault-secret/adopt.ts';
import {
  desiredSecret,
  mayWrite,
  needsWrite,
  replacement,
} from '../../../src/controllers/vault-secret/desired-secret.ts';
import { digestSecret } from '../../../src/kube/secret-digest.ts';
import { vaultSecret } from './fixtures.ts';

const externalSecret: V1OwnerReference = {
  apiVersion: 'external-secrets.io/v1',
  kind: 'ExternalSecret',
  name: 'app',
  uid: 'es-uid',
  controller: true,
  blockOwnerDeletion: true,
};

function esoSecret(
  annotations: Record<string, string> = { 'kvsync.io/adopt-by': 'app' },
  ownerReferences: V1OwnerReference[] = [externalSecret],
  type = 'Opaque',
): V1Secret {
  return {
    metadata: {
      name: 'app',
      namespace: 'team',
      resourceVersion: '12',
      labels: { 'reconcile.external-secrets.io/managed': 'true' },
      annotations,
      ownerReferences,
    },
    type,
    data: { password: Buffer.from('old').toString('base64') },
  };
}

const adopting = vaultSecret({ target: { adopt: true } });
const data = new Map([['password', Buffer.from('new')]]);

describe('adoptionRefusal', () => {
  it.each([
    ['an ExternalSecret-controlled Secret that consents', esoSecret(), undefined],
    ['an uncontrolled Secret that consents', esoSecret(undefined, []), undefined],
    [
      'a Secret without the annotation',
      esoSecret({}),
      'Secret app has not consented to adoption: annotate it with kvsync.io/adopt-by=app',
    ],
    [
      'a Secret that consents to another VaultSecret',
      esoSecret({ 'kvsync.io/adopt-by': 'other' }),
      'Secret app has not consented to adoption: annotate it with kvsync.io/adopt-by=app',
    ],
    [
      'a Secret controlled by something else',
      esoSecret(undefined, [{ ...externalSecret, apiVersion: 'apps/v1', kind: 'Deployment' }]),
      'Secret app is controlled by Deployment app; kvsync adopts only Secrets without a controller or controlled by an ExternalSecret',
    ],
    [
      'a Secret controlled by an ExternalSecret kind of another group',
      esoSecret(undefined, [{ ...externalSecret, apiVersion: 'evil.example/v1' }]),
      'Secret app is controlled by ExternalSecret app; kvsync adopts only Secrets without a controller or controlled by an ExternalSecret',
    ],
    [
      'a service-account token Secret',
      esoSecret(undefined, [], 'kubernetes.io/service-account-token'),
      'Secret app is of type kubernetes.io/service-account-token, which kvsync never writes',
    ],
  ])('%s', (_, current, expected) => {
    expect(adoptionRefusal(current, adopting)).toBe(expected);
  });

  it('refuses when the VaultSecret did not ask to adopt', () => {
    expect(adoptionRefusal(esoSecret(), vaultSecret())).toBe('target.adopt is not set');
    expect(mayWrite(esoSecret(), vaultSecret())).toBe(false);
  });
});

describe('taking over', () => {
  it('may write a consenting ExternalSecret Secret under Owner and Orphan', () => {
    expect(mayWrite(esoSecret(), adopting)).toBe(true);
    const orphan = vaultSecret({ target: { adopt: true, creationPolicy: 'Orphan' } });
    expect(mayWrite(esoSecret(), orphan)).toBe(true);
  });

  it("writes data, kvsync's markers and itself as the only controller in one object", () => {
    const desired = desiredSecret(adopting, data);
    expect(needsWrite(digestSecret(esoSecret()), desired, 'Owner', 'uid-1')).toBe(true);
    const next = replacement(esoSecret(), desired, 'uid-1');
    expect(next.metadata?.resourceVersion).toBe('12');
    expect(next.data).toEqual({ password: Buffer.from('new').toString('base64') });
    expect(next.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VaultSecret', uid: 'uid-1', controller: true }),
    ]);
    expect(next.metadata?.annotations).toMatchObject({
      'kvsync.io/vaultsecret': 'app',
      'kvsync.io/adopt-by': 'app',
    });
    // Once taken over it is kvsync's own Secret: no consent needed any more.
    expect(mayWrite({ ...next, metadata: { ...next.metadata, annotations: {} } }, adopting)).toBe(
      false,
    );
    expect(
      mayWrite(
        {
          ...next,
          metadata: { ...next.metadata, annotations: { 'kvsync.io/vaultsecret': 'app' } },
        },
        vaultSecret(),
      ),
    ).toBe(true);
  });

  it('keeps owner references that are not controllers', () => {
    const other = { ...externalSecret, kind: 'ConfigMap', uid: 'cm', controller: false };
    const next = replacement(
      esoSecret(undefined, [externalSecret, other]),
      desiredSecret(adopting, data),
      'uid-1',
    );
    expect(next.metadata?.ownerReferences?.map((ref) => ref.uid)).toEqual(['cm', 'uid-1']);
  });
});
