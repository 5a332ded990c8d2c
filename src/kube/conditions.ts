// Pure: metav1.Conditions that keep lastTransitionTime unless their status flips, so an unchanged
// world produces an identical status and no write.
import type { StatusCondition as Condition } from '../api/vault-secret.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export function condition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  generation: number | undefined,
): Condition {
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: '',
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

/** `next` with the previous lastTransitionTime of its type when its status did not change. */
export function keepTransitionTime(
  previous: readonly Condition[] | undefined,
  next: Condition,
  now: Date,
): Condition {
  const before = previous?.find((c) => c.type === next.type);
  const lastTransitionTime =
    before && before.status === next.status
      ? before.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...next, lastTransitionTime };
}

/** What a user can see of conditions, in one order, for comparing two statuses. */
export function comparableConditions(conditions: readonly Condition[] | undefined): unknown[] {
  return (conditions ?? []).map((c) => [
    c.type,
    c.status,
    c.reason,
    c.message,
    c.lastTransitionTime,
    c.observedGeneration,
  ]);
}
