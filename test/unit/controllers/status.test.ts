import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../../src/controllers/vault-secret/status.ts';
import { nextStatus, statusChanged } from '../../../src/controllers/vault-secret/status.ts';

const day = 24 * 3_600_000;
const t0 = new Date('2026-11-25T10:00:00Z');
const later = new Date('2026-11-25T11:00:00Z');
const window = 30 * day;

const synced = (expiresOn?: Date, dataChanged = true, refreshedAt = t0): Outcome => ({
  ok: true,
  secretName: 'app',
  keyCount: 2,
  dataChanged,
  refreshedAt,
  objects: [{ name: 'db', kind: 'secret', version: 'v1', updatedOn: t0, expiresOn, pinned: false }],
});
const failed: Outcome = {
  ok: false,
  secretName: 'app',
  reason: 'ObjectNotFound',
  message: 'secret db: not found',
};

describe('nextStatus', () => {
  it('reports Synced with a summary, the objects and when the data changed', () => {
    const status = nextStatus({
      previous: undefined,
      generation: 2,
      outcome: synced(),
      now: t0,
      expiryWindowMs: window,
    });
    expect(status).toMatchObject({
      observedGeneration: 2,
      secretName: 'app',
      syncedAt: t0.toISOString(),
      objects: [{ name: 'db', kind: 'secret', version: 'v1' }],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Synced',
          message: '2 keys from 1 object',
          lastTransitionTime: '2026-11-25T10:00:00Z',
        },
      ],
    });
  });

  it('is identical an hour later when nothing changed, so nothing is written', () => {
    const first = nextStatus({
      previous: undefined,
      generation: 2,
      outcome: synced(),
      now: t0,
      expiryWindowMs: window,
    });
    const again = nextStatus({
      previous: first,
      generation: 2,
      outcome: synced(undefined, false),
      now: later,
      expiryWindowMs: window,
    });
    expect(statusChanged(first, again)).toBe(false);
  });

  it('keeps the last good objects and syncedAt on failure, and moves the transition time', () => {
    const good = nextStatus({
      previous: undefined,
      generation: 2,
      outcome: synced(),
      now: t0,
      expiryWindowMs: window,
    });
    const bad = nextStatus({
      previous: good,
      generation: 2,
      outcome: failed,
      now: later,
      expiryWindowMs: window,
    });
    expect(bad.objects).toEqual(good.objects);
    expect(bad.syncedAt).toBe(good.syncedAt);
    expect(bad.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'ObjectNotFound',
      lastTransitionTime: '2026-11-25T11:00:00Z',
    });
  });

  it.each([
    [new Date(t0.getTime() + 60 * day), 'False', 'NotExpiring'],
    [new Date(t0.getTime() + 10 * day), 'True', 'ExpiringSoon'],
    [new Date(t0.getTime() - day), 'True', 'Expired'],
  ])('sets ExpiringSoon for an expiry at %s', (expiresOn, status, reason) => {
    const next = nextStatus({
      previous: undefined,
      generation: 1,
      outcome: synced(expiresOn),
      now: t0,
      expiryWindowMs: window,
    });
    expect(next.expiresOn).toBe(expiresOn.toISOString());
    expect(next.conditions?.find((c) => c.type === 'ExpiringSoon')).toMatchObject({
      status,
      reason,
    });
    expect(next.conditions?.find((c) => c.type === 'ExpiringSoon')?.message).toContain('secret db');
  });

  const at = (
    outcome: Outcome,
    now: Date,
    previous?: ReturnType<typeof nextStatus>,
    handledForceSync?: string,
  ) =>
    nextStatus({ previous, generation: 2, outcome, now, expiryWindowMs: window, handledForceSync });
  const failure = (reason: string): Outcome => ({
    ok: false,
    secretName: 'app',
    reason,
    message: `${reason} happened`,
  });
  const kstatusConditions = (status: ReturnType<typeof nextStatus>) =>
    (status.conditions ?? [])
      .filter((c) => c.type === 'Reconciling' || c.type === 'Stalled')
      .map((c) => [c.type, c.status, c.reason]);

  it.each([
    ['VaultError', 'Reconciling'],
    ['Throttled', 'Reconciling'],
    ['InvalidSpec', 'Stalled'],
    ['IdentityNotAllowed', 'Stalled'],
    ['SecretConflict', 'Stalled'],
    ['ObjectNotFound', 'Stalled'],
    ['Forbidden', 'Stalled'],
    ['Unauthenticated', 'Stalled'],
    ['TemplateError', 'Stalled'],
  ])('a %s failure sets %s=True (kstatus) beside Ready=False', (reason, type) => {
    const status = at(failure(reason), t0);
    expect(kstatusConditions(status)).toEqual([[type, 'True', reason]]);
    expect(status.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason });
  });

  it('drops Reconciling and Stalled once synced: absent means False in kstatus', () => {
    const retrying = at(failure('VaultError'), t0);
    const recovered = at(synced(), later, retrying);
    expect(kstatusConditions(recovered)).toEqual([]);
    expect(statusChanged(retrying, recovered)).toBe(true);
  });

  it('carries lastRefreshTime along without writing for it: a sweep alone is no change', () => {
    const first = at(synced(undefined, true, t0), t0);
    const swept = at(synced(undefined, false, later), later, first);
    expect(first.lastRefreshTime).toBe(t0.toISOString());
    expect(swept.lastRefreshTime).toBe(later.toISOString());
    expect(statusChanged(first, swept)).toBe(false);
    // A failure keeps the last confirmation: nothing was confirmed since.
    expect(at(failure('VaultError'), later, first).lastRefreshTime).toBe(t0.toISOString());
  });

  it('records a handled force-sync (a write), and keeps it while none is handled', () => {
    const first = at(synced(), t0);
    const forced = at(synced(undefined, false, later), later, first, 'one');
    expect(forced.lastHandledForceSync).toBe('one');
    expect(forced.lastRefreshTime).toBe(later.toISOString());
    expect(statusChanged(first, forced)).toBe(true);
    expect(at(failure('VaultError'), later, forced).lastHandledForceSync).toBe('one');
  });
});
