// Pure: the status a reconcile outcome leads to, keeping lastTransitionTime unless a condition
// flips, so that an unchanged world produces an identical status and no write.
import { ConditionType, failureCondition, Reason } from '../../api/reasons.ts';
import type { StatusCondition as Condition, VaultSecretStatus } from '../../api/vault-secret.ts';
import { comparableConditions, condition, keepTransitionTime } from '../../kube/conditions.ts';
import type { SyncedObject } from './secret-data.ts';

export type Outcome =
  | {
      readonly ok: true;
      readonly secretName: string;
      readonly keyCount: number;
      readonly objects: readonly SyncedObject[];
      /** The Secret's data was written with different content just now. */
      readonly dataChanged: boolean;
      /** When Key Vault last confirmed these values current (a read or a sweep). */
      readonly refreshedAt: Date;
    }
  | {
      readonly ok: false;
      readonly secretName: string;
      readonly reason: string;
      readonly message: string;
    };

export interface StatusInput {
  readonly previous: VaultSecretStatus | undefined;
  readonly generation: number | undefined;
  readonly outcome: Outcome;
  readonly now: Date;
  readonly expiryWindowMs: number;
  /** The kvsync.io/force-sync value this reconcile acted on, if it did. */
  readonly handledForceSync?: string | undefined;
}

export function nextStatus({
  previous,
  generation,
  outcome,
  now,
  expiryWindowMs,
  handledForceSync,
}: StatusInput): VaultSecretStatus {
  const objects = outcome.ok ? outcome.objects.map(toStatusObject) : (previous?.objects ?? []);
  const first = firstToExpire(objects);
  const expiresOn = first?.expiresOn;
  const ready: Condition = outcome.ok
    ? condition(
        ConditionType.Ready,
        'True',
        Reason.Synced,
        summary(outcome.keyCount, outcome.objects.length),
        generation,
      )
    : condition(ConditionType.Ready, 'False', outcome.reason, outcome.message, generation);
  const conditions = [merge(previous, ready, now)];
  // kstatus: abnormal-true conditions, absent when False. observedGeneration covers a new spec.
  if (!outcome.ok) {
    const type = failureCondition(outcome.reason);
    conditions.push(
      merge(previous, condition(type, 'True', outcome.reason, outcome.message, generation), now),
    );
  }
  const expiring = first && expiryCondition(first, now, expiryWindowMs, generation);
  if (expiring) conditions.push(merge(previous, expiring, now));
  const syncedAt = outcome.ok && outcome.dataChanged ? now.toISOString() : previous?.syncedAt;
  const lastRefreshTime = outcome.ok
    ? outcome.refreshedAt.toISOString()
    : previous?.lastRefreshTime;
  const forceSync = handledForceSync ?? previous?.lastHandledForceSync;
  return {
    observedGeneration: generation,
    conditions,
    secretName: outcome.secretName,
    ...(syncedAt !== undefined ? { syncedAt } : {}),
    ...(lastRefreshTime !== undefined ? { lastRefreshTime } : {}),
    ...(forceSync !== undefined ? { lastHandledForceSync: forceSync } : {}),
    objects,
    ...(expiresOn !== undefined ? { expiresOn } : {}),
  };
}

/**
 * What a first sync that takes a while shows: Ready=Unknown and Reconciling=True, so kstatus reads
 * InProgress (a VaultSecret without status would count as Current).
 */
export function progressStatus(
  generation: number | undefined,
  secretName: string,
  now: Date,
): VaultSecretStatus {
  const message = 'first sync from Key Vault under way';
  return {
    observedGeneration: generation,
    conditions: [
      condition(ConditionType.Ready, 'Unknown', Reason.Progressing, message, generation),
      condition(ConditionType.Reconciling, 'True', Reason.Progressing, message, generation),
    ].map((c) => merge(undefined, c, now)),
    secretName,
  };
}

/**
 * Whether `next` differs from `previous` in anything a user could see. lastRefreshTime alone is
 * no reason to write: it moves with every sweep, and steady state must cost no write. It goes
 * out with the next write that has a reason (a change, a force-sync, a failure).
 */
export function statusChanged(
  previous: VaultSecretStatus | undefined,
  next: VaultSecretStatus,
): boolean {
  return JSON.stringify(normalise(previous ?? {})) !== JSON.stringify(normalise(next));
}

export function readyCondition(status: VaultSecretStatus | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === ConditionType.Ready);
}

/** When the next status change happens by itself: the ExpiringSoon boundary. */
export function msUntilExpiryWarning(
  status: VaultSecretStatus,
  now: Date,
  expiryWindowMs: number,
): number | undefined {
  if (status.expiresOn === undefined) return undefined;
  const at = Date.parse(status.expiresOn) - expiryWindowMs - now.getTime();
  return at > 0 ? at : undefined;
}

type ExpiringObject = { name: string; kind: string; expiresOn: string };

function firstToExpire(
  objects: readonly { name: string; kind: string; expiresOn?: string }[],
): ExpiringObject | undefined {
  let first: ExpiringObject | undefined;
  for (const { name, kind, expiresOn } of objects) {
    if (
      expiresOn !== undefined &&
      (!first || Date.parse(expiresOn) < Date.parse(first.expiresOn))
    ) {
      first = { name, kind, expiresOn };
    }
  }
  return first;
}

function expiryCondition(
  first: ExpiringObject,
  now: Date,
  windowMs: number,
  generation: number | undefined,
): Condition {
  const left = Date.parse(first.expiresOn) - now.getTime();
  const what = `${first.kind} ${first.name}`;
  if (left <= 0) {
    return condition(
      ConditionType.ExpiringSoon,
      'True',
      Reason.Expired,
      `${what} expired at ${first.expiresOn}`,
      generation,
    );
  }
  if (left <= windowMs) {
    return condition(
      ConditionType.ExpiringSoon,
      'True',
      Reason.ExpiringSoon,
      `${what} expires at ${first.expiresOn}`,
      generation,
    );
  }
  return condition(
    ConditionType.ExpiringSoon,
    'False',
    Reason.NotExpiring,
    `earliest expiry: ${what} at ${first.expiresOn}`,
    generation,
  );
}

function toStatusObject(object: SyncedObject) {
  return {
    name: object.name,
    kind: object.kind,
    version: object.version,
    ...(object.updatedOn ? { updatedOn: object.updatedOn.toISOString() } : {}),
    ...(object.expiresOn ? { expiresOn: object.expiresOn.toISOString() } : {}),
  };
}

function merge(previous: VaultSecretStatus | undefined, next: Condition, now: Date): Condition {
  return keepTransitionTime(previous?.conditions, next, now);
}

function summary(keys: number, objects: number): string {
  return `${keys} ${keys === 1 ? 'key' : 'keys'} from ${objects} ${objects === 1 ? 'object' : 'objects'}`;
}

function normalise(status: VaultSecretStatus): unknown {
  // The API server drops empty fields and may reorder keys; compare what matters, in one order.
  return {
    observedGeneration: status.observedGeneration,
    conditions: comparableConditions(status.conditions),
    secretName: status.secretName,
    syncedAt: status.syncedAt,
    lastHandledForceSync: status.lastHandledForceSync,
    objects: (status.objects ?? []).map((o) => [
      o.name,
      o.kind,
      o.version,
      o.updatedOn,
      o.expiresOn,
    ]),
    expiresOn: status.expiresOn,
  };
}
