import { describe, expect, it } from 'vitest';
import { ClusterReason, ConditionType, Reason } from '../../../src/api/reasons.ts';

// The pattern metav1.Condition (and the CRD's status schema) enforces: a reason the API server
// refuses would make every status write of that outcome fail.
const conditionReason = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

describe('condition types and reasons', () => {
  it.each(Object.values(Reason))('reason %s is accepted by the status schema', (reason) => {
    expect(reason).toMatch(conditionReason);
  });

  it.each(Object.values(ClusterReason))(
    'ClusterVaultSecret reason %s is accepted by the status schema',
    (reason) => {
      expect(reason).toMatch(conditionReason);
    },
  );

  it('has the Ready condition the printer columns read', () => {
    expect(ConditionType.Ready).toBe('Ready');
  });
});
