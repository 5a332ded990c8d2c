// The ClusterVaultSecret exemption from --default-identity-namespaces is only for VaultSecrets a
// ClusterVaultSecret really keeps: an ownerReference is a claim anyone can write.
import { describe, expect, it } from 'vitest';
import type { ClusterVaultSecret, NamespaceLabels } from '../../../src/api/cluster-vault-secret.ts';
import type { VaultSecret } from '../../../src/api/vault-secret.ts';
import {
  grantedByClusterVaultSecret,
  trustingClusterVaultSecrets,
  type ClusterTrustLookups,
} from '../../../src/identity/cluster-trust.ts';
import type { IdentityScope } from '../../../src/identity/types.ts';
import { cluster, keptCopy } from '../controllers/cluster-vault-secret/fixtures.ts';

const owner = cluster();
const namespaces = new Map<string, NamespaceLabels>([
  ['selected', { name: 'selected', labels: { shared: 'yes' } }],
  ['tenant', { name: 'tenant', labels: {} }],
]);
const lookups = (clusters: ClusterVaultSecret[] = [owner]): ClusterTrustLookups => ({
  clusterVaultSecret: (name) => clusters.find((c) => c.metadata.name === name),
  namespace: (name) => namespaces.get(name),
});

function moved(copy: VaultSecret, changes: Partial<VaultSecret['metadata']>): VaultSecret {
  return { ...copy, metadata: { ...copy.metadata, ...changes } };
}

describe('grantedByClusterVaultSecret', () => {
  const real = keptCopy(owner, 'selected');

  it('trusts the copy the ClusterVaultSecret keeps', () => {
    expect(grantedByClusterVaultSecret(real, lookups())).toBe(true);
  });

  it.each<[string, VaultSecret, ClusterVaultSecret[]?]>([
    ['no claim at all', { ...real, metadata: { ...real.metadata, ownerReferences: [] } }],
    ['a forged claim in a namespace the owner does not select', keptCopy(owner, 'tenant')],
    ['a forged claim under another name', moved(real, { name: 'my-own' })],
    [
      'a claim with another uid (an owner deleted and recreated, or guessed)',
      moved(real, {
        ownerReferences: [{ ...real.metadata.ownerReferences![0]!, uid: 'guessed' }],
      }),
    ],
    [
      'a claim that is not the controller',
      moved(real, {
        ownerReferences: [{ ...real.metadata.ownerReferences![0]!, controller: false }],
      }),
    ],
    ['an owner that does not exist', real, []],
    [
      'an owner being deleted',
      real,
      [{ ...owner, metadata: { ...owner.metadata, deletionTimestamp: new Date() } }],
    ],
    [
      'a kept copy a tenant edited to read something else',
      {
        ...real,
        spec: { ...real.spec, data: [{ key: 'db', secret: { name: 'prod-db-password' } }] },
      },
    ],
    ['a namespace not in the cache', moved(real, { namespace: 'unknown' })],
  ])('refuses %s', (_what, copy, clusters) => {
    expect(grantedByClusterVaultSecret(copy, lookups(clusters))).toBe(false);
  });
});

describe('trustingClusterVaultSecrets', () => {
  it('passes the cluster scope only for trusted copies', async () => {
    const scopes: (IdentityScope | undefined)[] = [];
    const resolver = trustingClusterVaultSecrets(
      {
        resolve: (_vs, scope) => {
          scopes.push(scope);
          return Promise.resolve({
            key: 'default',
            credential: { getToken: () => Promise.resolve(null) },
          });
        },
      },
      lookups(),
    );
    await resolver.resolve(keptCopy(owner, 'selected'));
    await resolver.resolve(keptCopy(owner, 'tenant'));
    expect(scopes).toEqual(['cluster', 'namespace']);
  });
});
