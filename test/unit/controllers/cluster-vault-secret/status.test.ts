import { describe, expect, it } from 'vitest';
import {
  clusterStatusChanged,
  namespaceState,
  nextClusterStatus,
  type NamespaceState,
} from '../../../../src/controllers/cluster-vault-secret/status.ts';
import { cluster, keptCopy, readyStatus } from './fixtures.ts';

const now = new Date('2026-12-07T10:00:00Z');
const owner = cluster();
const conditionsOf = (status: ReturnType<typeof nextClusterStatus>) =>
  Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));
const messageOf = (status: ReturnType<typeof nextClusterStatus>, type: string) =>
  status.conditions?.find((c) => c.type === type)?.message;

describe('namespaceState', () => {
  it.each([
    ['no VaultSecret yet', undefined, 'pending'],
    ['not synced yet', keptCopy(owner, 'a'), 'pending'],
    [
      'Ready for an older generation',
      keptCopy(owner, 'a', readyStatus('True', 'Synced', { generation: 0 })),
      'pending',
    ],
    ['Ready', keptCopy(owner, 'a', readyStatus('True', 'Synced')), 'synced'],
    ['failed', keptCopy(owner, 'a', readyStatus('False', 'ObjectNotFound')), 'failed'],
  ])('%s: %s', (_what, copy, expected) => {
    expect(namespaceState(owner, 'a', copy, false).state).toBe(expected);
  });

  it('is pending while the copy still holds an older template, even if Ready', () => {
    const before = keptCopy(owner, 'a', readyStatus('True', 'Synced'));
    const changed = cluster({ template: { ...owner.spec.template, refreshInterval: '5m' } });
    expect(namespaceState(changed, 'a', before, false).state).toBe('pending');
  });

  it('reports a conflict as a failure that needs a human', () => {
    expect(namespaceState(owner, 'a', undefined, true)).toMatchObject({
      state: 'failed',
      reason: 'VaultSecretConflict',
      stalled: true,
    });
  });

  it("carries the VaultSecret's reason and Stalled", () => {
    const copy = keptCopy(owner, 'a', readyStatus('False', 'IdentityError', { stalled: true }));
    expect(namespaceState(owner, 'a', copy, false)).toMatchObject({
      reason: 'IdentityError',
      message: 'IdentityError message',
      stalled: true,
    });
  });
});

describe('nextClusterStatus', () => {
  const synced = (namespace: string): NamespaceState => ({ namespace, state: 'synced' });
  const pending = (namespace: string): NamespaceState => ({ namespace, state: 'pending' });
  const failed = (namespace: string, stalled = false): NamespaceState => ({
    namespace,
    state: 'failed',
    reason: 'ObjectNotFound',
    message: 'db-password was not found',
    stalled,
  });

  it('all synced: Ready, not Reconciling, not Stalled, with the counts', () => {
    const status = nextClusterStatus(owner, [synced('a'), synced('b')], now);
    expect(status).toMatchObject({
      observedGeneration: 2,
      selectedNamespaces: 2,
      syncedNamespaces: 2,
      failedNamespaces: 0,
      failures: [],
    });
    expect(conditionsOf(status)).toEqual({
      Ready: 'True Synced',
      Reconciling: 'False Synced',
      Stalled: 'False Synced',
    });
  });

  it('selecting nothing is Ready with zero counts', () => {
    expect(conditionsOf(nextClusterStatus(owner, [], now)).Ready).toBe('True Synced');
  });

  it('rolling out: Ready Unknown and Reconciling', () => {
    const status = nextClusterStatus(owner, [synced('a'), pending('b')], now);
    expect(conditionsOf(status)).toEqual({
      Ready: 'Unknown Progressing',
      Reconciling: 'True Progressing',
      Stalled: 'False Progressing',
    });
    expect(status.conditions?.[0]?.message).toBe(
      '1 of 2 namespaces synced, 0 failed, 1 in progress',
    );
  });

  it('lists the first few failures, counts all of them, and is Stalled only when one needs a human', () => {
    const states = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => failed(n));
    const status = nextClusterStatus(owner, [...states, synced('h')], now);
    expect(status.failedNamespaces).toBe(7);
    expect(status.failures?.map((f) => f.namespace)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(conditionsOf(status)).toMatchObject({
      Ready: 'False NamespacesFailed',
      Stalled: 'False NamespacesFailed',
    });
    const stalled = nextClusterStatus(owner, [failed('a', true)], now);
    expect(conditionsOf(stalled).Stalled).toBe('True NamespacesFailed');
  });

  it('is Reconciling while a kept VaultSecret is retried, Stalled when one needs a human, each naming its namespace', () => {
    const retrying = nextClusterStatus(owner, [synced('a'), failed('b')], now);
    expect(conditionsOf(retrying)).toEqual({
      Ready: 'False NamespacesFailed',
      Reconciling: 'True NamespacesFailed',
      Stalled: 'False NamespacesFailed',
    });
    expect(messageOf(retrying, 'Reconciling')).toContain('first: b: ObjectNotFound');
    const both = nextClusterStatus(owner, [failed('a'), failed('b', true)], now);
    expect(conditionsOf(both)).toMatchObject({
      Reconciling: 'True NamespacesFailed',
      Stalled: 'True NamespacesFailed',
    });
    expect(messageOf(both, 'Stalled')).toContain('first: b: ObjectNotFound');
    expect(messageOf(both, 'Reconciling')).toContain('first: a: ObjectNotFound');
  });

  it('keeps lastTransitionTime while a condition keeps its status, so nothing is rewritten', () => {
    const first = nextClusterStatus(owner, [synced('a')], now);
    const later = nextClusterStatus(
      { ...owner, status: first },
      [synced('a')],
      new Date(now.getTime() + 60_000),
    );
    expect(clusterStatusChanged(first, later)).toBe(false);
    const flipped = nextClusterStatus(
      { ...owner, status: first },
      [failed('a')],
      new Date(now.getTime() + 60_000),
    );
    expect(clusterStatusChanged(first, flipped)).toBe(true);
    expect(flipped.conditions?.[0]?.lastTransitionTime).toBe('2026-12-07T10:01:00Z');
  });
});
