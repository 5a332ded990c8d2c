import { describe, expect, it } from 'vitest';
import type { VaultSecret } from '../../../../src/api/vault-secret.ts';
import {
  desiredVaultSecret,
  planRollout,
  type NamespaceView,
} from '../../../../src/controllers/cluster-vault-secret/plan.ts';
import { cluster, foreignCopy, keptCopy } from './fixtures.ts';

const ns = (
  name: string,
  labels: Record<string, string> = {},
  terminating = false,
): NamespaceView => ({
  name,
  labels,
  terminating,
});
const shared = { shared: 'yes' };

function lookup(...copies: VaultSecret[]) {
  const byNamespace = new Map(copies.map((c) => [c.metadata.namespace, c]));
  return (namespace: string) => byNamespace.get(namespace);
}

describe('planRollout', () => {
  it('selects by label and by name, sorted, and creates what is missing', () => {
    const owner = cluster({ namespaces: ['listed'] });
    const plan = planRollout(
      owner,
      [ns('b', shared), ns('a', shared), ns('other'), ns('listed')],
      lookup(),
    );
    expect(plan.selected).toEqual(['a', 'b', 'listed']);
    expect(plan.apply).toEqual(['a', 'b', 'listed']);
    expect(plan.remove).toEqual([]);
  });

  it('leaves an up-to-date copy alone and brings a changed one back to the template', () => {
    const owner = cluster();
    const edited = keptCopy(owner, 'b');
    const drifted = { ...edited, spec: { ...edited.spec, refreshInterval: '10s' } };
    const plan = planRollout(
      owner,
      [ns('a', shared), ns('b', shared)],
      lookup(keptCopy(owner, 'a'), drifted),
    );
    expect(plan.apply).toEqual(['b']);
  });

  it('rolls a template change out to every namespace', () => {
    const before = cluster();
    const after = cluster({ template: { ...before.spec.template, refreshInterval: '5m' } });
    const plan = planRollout(
      after,
      [ns('a', shared), ns('b', shared)],
      lookup(keptCopy(before, 'a'), keptCopy(before, 'b')),
    );
    expect(plan.apply).toEqual(['a', 'b']);
  });

  it('removes its own copy where the namespace is no longer selected, by uid', () => {
    const owner = cluster();
    const plan = planRollout(owner, [ns('gone')], lookup(keptCopy(owner, 'gone')));
    expect(plan.selected).toEqual([]);
    expect(plan.remove).toEqual([{ namespace: 'gone', uid: 'vs-gone' }]);
  });

  it("never touches someone else's VaultSecret of that name: a conflict where selected, nothing elsewhere", () => {
    const owner = cluster();
    const plan = planRollout(
      owner,
      [ns('selected', shared), ns('unselected')],
      lookup(foreignCopy(owner, 'selected'), foreignCopy(owner, 'unselected')),
    );
    expect([...plan.conflicts]).toEqual(['selected']);
    expect(plan.apply).toEqual([]);
    expect(plan.remove).toEqual([]);
  });

  it('treats a copy claiming the same name but another uid as foreign', () => {
    const owner = cluster();
    const recreated = { ...owner, metadata: { ...owner.metadata, uid: 'new-uid' } };
    const plan = planRollout(recreated, [ns('a', shared)], lookup(keptCopy(owner, 'a')));
    expect([...plan.conflicts]).toEqual(['a']);
  });

  it('skips namespaces being deleted', () => {
    const owner = cluster();
    const plan = planRollout(owner, [ns('ending', shared, true)], lookup());
    expect(plan.selected).toEqual([]);
    expect(plan.apply).toEqual([]);
  });
});

describe('desiredVaultSecret', () => {
  it('is the template, named like the ClusterVaultSecret, labelled and controlled by it', () => {
    const owner = cluster();
    expect(desiredVaultSecret(owner, 'team')).toEqual({
      apiVersion: 'kvsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: {
        name: 'telemetry',
        namespace: 'team',
        labels: { 'kvsync.io/cluster-vault-secret': 'telemetry' },
        ownerReferences: [
          {
            apiVersion: 'kvsync.io/v1alpha1',
            kind: 'ClusterVaultSecret',
            name: 'telemetry',
            uid: 'cvs-uid',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: owner.spec.template,
    });
  });
});
