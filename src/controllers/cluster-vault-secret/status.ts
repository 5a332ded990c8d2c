// Pure: a ClusterVaultSecret's status from the VaultSecrets it keeps. Counts cover every selected
// namespace; the first few failures (by namespace name) say why; Ready, Reconciling and Stalled
// follow kstatus: a namespace being retried makes it Reconciling, one that needs a human makes it
// Stalled. Unchanged inputs give an identical status, so nothing is written.
import type {
  ClusterVaultSecret,
  ClusterVaultSecretStatus,
  NamespaceFailure,
} from '../../api/cluster-vault-secret.ts';
import { followsTemplate } from '../../api/cluster-vault-secret.ts';
import { maxListedFailures } from '../../api/cluster-vault-secret-schema.ts';
import { ConditionType, ClusterReason, Reason } from '../../api/reasons.ts';
import type { VaultSecret } from '../../api/vault-secret.ts';
import {
  comparableConditions,
  condition,
  keepTransitionTime,
  type ConditionStatus,
} from '../../kube/conditions.ts';

export type NamespaceState =
  | { readonly namespace: string; readonly state: 'synced' | 'pending' }
  | {
      readonly namespace: string;
      readonly state: 'failed';
      readonly reason: string;
      readonly message: string;
      /** Needs a human: retrying alone will not fix it. */
      readonly stalled: boolean;
    };

/** Where one selected namespace stands; `conflict`: it holds a foreign VaultSecret. */
export function namespaceState(
  cluster: ClusterVaultSecret,
  namespace: string,
  vaultSecret: VaultSecret | undefined,
  conflict: boolean,
): NamespaceState {
  if (conflict) {
    return {
      namespace,
      state: 'failed',
      reason: ClusterReason.VaultSecretConflict,
      message: `VaultSecret ${cluster.metadata.name} exists and is not owned by this ClusterVaultSecret; it is left alone`,
      stalled: true,
    };
  }
  const status = vaultSecret?.status;
  const ready = status?.conditions?.find((c) => c.type === ConditionType.Ready);
  const current =
    vaultSecret !== undefined &&
    followsTemplate(vaultSecret, cluster) &&
    status?.observedGeneration === vaultSecret.metadata.generation;
  if (!current || ready === undefined || ready.status === 'Unknown') {
    return { namespace, state: 'pending' };
  }
  if (ready.status === 'True') return { namespace, state: 'synced' };
  const stalled = status?.conditions?.some(
    (c) => c.type === ConditionType.Stalled && c.status === 'True',
  );
  return {
    namespace,
    state: 'failed',
    reason: ready.reason,
    message: ready.message.slice(0, 1024),
    stalled: stalled === true,
  };
}

export function nextClusterStatus(
  cluster: ClusterVaultSecret,
  states: readonly NamespaceState[],
  now: Date,
): ClusterVaultSecretStatus {
  const failed = states.filter((s) => s.state === 'failed');
  const synced = states.filter((s) => s.state === 'synced').length;
  const pending = states.length - synced - failed.length;
  const generation = cluster.metadata.generation;
  const previous = cluster.status?.conditions;
  const counts = `${synced} of ${states.length} namespaces synced, ${failed.length} failed, ${pending} in progress`;
  const conflict = failed.some((f) => f.reason === ClusterReason.VaultSecretConflict);
  const failReason = conflict ? ClusterReason.VaultSecretConflict : ClusterReason.NamespacesFailed;
  // A failed namespace either needs a human (its VaultSecret is Stalled) or is being retried (its
  // VaultSecret is Reconciling); each condition's message names the first namespace behind it.
  const stalled = failed.filter((f) => f.stalled);
  const retrying = failed.filter((f) => !f.stalled);
  const make = (type: string, status: ConditionStatus, reason: string, first?: FailedState) =>
    keepTransitionTime(
      previous,
      condition(type, status, reason, counts + firstFailure(first), generation),
      now,
    );
  const [readyStatus, readyReason]: [ConditionStatus, string] =
    failed.length > 0
      ? ['False', failReason]
      : pending > 0
        ? ['Unknown', Reason.Progressing]
        : ['True', Reason.Synced];
  const reconcilingReason =
    retrying.length > 0
      ? ClusterReason.NamespacesFailed
      : pending > 0
        ? Reason.Progressing
        : readyReason;
  return {
    observedGeneration: generation,
    conditions: [
      make(ConditionType.Ready, readyStatus, readyReason, failed[0]),
      make(
        ConditionType.Reconciling,
        pending > 0 || retrying.length > 0 ? 'True' : 'False',
        reconcilingReason,
        retrying[0],
      ),
      make(
        ConditionType.Stalled,
        stalled.length > 0 ? 'True' : 'False',
        stalled.length > 0 ? failReason : readyReason,
        stalled[0],
      ),
    ],
    selectedNamespaces: states.length,
    syncedNamespaces: synced,
    failedNamespaces: failed.length,
    failures: failed.slice(0, maxListedFailures).map(toFailure),
  };
}

/** Whether `next` differs from `previous` in anything a user could see. */
export function clusterStatusChanged(
  previous: ClusterVaultSecretStatus | undefined,
  next: ClusterVaultSecretStatus,
): boolean {
  return JSON.stringify(normalise(previous ?? {})) !== JSON.stringify(normalise(next));
}

type FailedState = NamespaceState & { state: 'failed' };

function firstFailure(state: FailedState | undefined): string {
  return state ? `; first: ${state.namespace}: ${state.reason}` : '';
}

function toFailure(state: FailedState): NamespaceFailure {
  return { namespace: state.namespace, reason: state.reason, message: state.message };
}

function normalise(status: ClusterVaultSecretStatus): unknown {
  // The API server drops empty fields and may reorder keys; compare what matters, in one order.
  return [
    status.observedGeneration,
    comparableConditions(status.conditions),
    status.selectedNamespaces ?? 0,
    status.syncedNamespaces ?? 0,
    status.failedNamespaces ?? 0,
    (status.failures ?? []).map((f) => [f.namespace, f.reason, f.message ?? '']),
  ];
}
