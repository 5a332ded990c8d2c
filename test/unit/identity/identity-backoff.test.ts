import { describe, expect, it } from 'vitest';
import { IdentityBackoff } from '../../../src/identity/identity-backoff.ts';

const SA = { kind: 'ServiceAccount', namespace: 'payments', name: 'reader' } as const;
const refusal = new Error('AADSTS700213');

function setup(options: { jitter?: number; random?: () => number } = {}) {
  const clock = { now: 0 };
  const backoff = new IdentityBackoff({
    initialMs: 1_000,
    maxMs: 8_000,
    jitter: options.jitter ?? 0,
    now: () => clock.now,
    ...(options.random ? { random: options.random } : {}),
  });
  return { clock, backoff };
}

describe('IdentityBackoff', () => {
  it('pauses after a refusal, doubling per refusal up to the cap', () => {
    const { clock, backoff } = setup();
    const pauses: number[] = [];
    for (let round = 0; round < 6; round++) {
      expect(backoff.admit('id')).toBeUndefined(); // the probe of this round
      backoff.refused('id', refusal, SA);
      const paused = backoff.admit('id');
      expect(paused?.refusal).toBe(refusal);
      pauses.push(paused!.retryInMs);
      clock.now += paused!.retryInMs;
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('lets one caller probe after a pause while the others keep waiting', () => {
    const { clock, backoff } = setup();
    backoff.refused('id', refusal, SA);
    clock.now = 1_000;
    expect(backoff.admit('id')).toBeUndefined();
    expect(backoff.admit('id')).toMatchObject({ refusal, retryInMs: 1_000 });
    // A probe that never reached Entra ID does not hold the others for good.
    clock.now = 2_000;
    expect(backoff.admit('id')).toBeUndefined();
  });

  it('counts refusals arriving within one pause as one round', () => {
    const { backoff } = setup();
    backoff.refused('id', refusal, SA);
    backoff.refused('id', new Error('AADSTS700213 again'), SA);
    expect(backoff.admit('id')).toMatchObject({ retryInMs: 1_000 });
  });

  it('blocks token requests only while paused, and a granted token ends the backoff', () => {
    const { clock, backoff } = setup();
    backoff.refused('id', refusal, SA);
    expect(backoff.paused('id')).toBe(refusal);
    clock.now = 1_000;
    expect(backoff.paused('id')).toBeUndefined();
    backoff.refused('id', refusal, SA);
    backoff.succeeded('id');
    expect(backoff.admit('id')).toBeUndefined();
    backoff.refused('id', refusal, SA);
    expect(backoff.admit('id')).toMatchObject({ retryInMs: 1_000 }); // starts over
  });

  it('ends the pause of identities from a changed ServiceAccount, and only those', () => {
    const { backoff } = setup();
    backoff.refused('sa-reader', refusal, SA);
    backoff.refused('sa-other', refusal, { ...SA, name: 'other' });
    backoff.refused('secret-reader', refusal, { ...SA, kind: 'Secret' });
    backoff.sourceChanged(SA);
    expect(backoff.admit('sa-reader')).toBeUndefined();
    expect(backoff.admit('sa-other')).toBeDefined();
    expect(backoff.admit('secret-reader')).toBeDefined();
  });

  it('lists the Secrets of refused identities until they work or change, and says when that may change', () => {
    let changes = 0;
    const backoff = new IdentityBackoff({ initialMs: 1_000, onRefusedChanged: () => changes++ });
    const creds = { kind: 'Secret', namespace: 'payments', name: 'creds' } as const;
    backoff.refused('creds-old', refusal, creds);
    backoff.refused('creds-new', refusal, creds);
    backoff.refused('other', refusal, { ...creds, name: 'other' });
    backoff.refused('sa', refusal, SA);
    expect(backoff.refusedSources('Secret')).toEqual([creds, { ...creds, name: 'other' }]);
    expect(changes).toBe(4);
    // A granted token takes the Secret off the list; granted again, nothing changes.
    backoff.succeeded('other');
    backoff.succeeded('other');
    expect(changes).toBe(5);
    backoff.sourceChanged(creds);
    backoff.sourceChanged(creds);
    expect(changes).toBe(6);
    expect(backoff.refusedSources('Secret')).toEqual([]);
    expect(backoff.refusedSources('ServiceAccount')).toEqual([SA]);
  });

  it('varies pauses by the jitter, within its bounds', () => {
    const low = setup({ jitter: 0.2, random: () => 0 });
    const high = setup({ jitter: 0.2, random: () => 1 });
    low.backoff.refused('id', refusal);
    high.backoff.refused('id', refusal);
    expect(low.backoff.admit('id')?.retryInMs).toBe(800);
    expect(high.backoff.admit('id')?.retryInMs).toBe(1_200);
  });

  it('callers sharing a refused identity: fewer attempts per window down to the cap, whatever N', () => {
    for (const callers of [5, 50]) {
      const attempts = simulate(callers);
      const perWindow = [0, 1, 2, 3, 4, 5, 6, 7].map(
        (w) => attempts.filter((t) => t >= w * 8_000 && t < (w + 1) * 8_000).length,
      );
      // Pauses of 1, 2 and 4 s fit several attempts into the first 8 s; at the cap (8 s ± 20%),
      // at most one per window, however many callers share the identity.
      expect(perWindow[0]).toBeGreaterThan(perWindow[1]!);
      for (const count of perWindow.slice(1)) expect(count).toBeLessThanOrEqual(1);
    }
    // With enough callers to probe every round, attempts go on at the cap's pace.
    const fifty = simulate(50);
    expect(fifty.filter((t) => t >= 16_000).length).toBeGreaterThanOrEqual(5);
  });
});

/** Callers that look again when told to; every admitted one asks Entra ID and is refused. */
function simulate(callers: number): number[] {
  const { clock, backoff } = setup({ jitter: 0.2, random: seeded(7) });
  const next = new Array<number>(callers).fill(0);
  const attempts: number[] = [];
  while (clock.now < 64_000) {
    clock.now = Math.min(...next);
    for (let caller = 0; caller < callers; caller++) {
      if (next[caller]! > clock.now) continue;
      const paused = backoff.admit('id');
      if (paused) {
        next[caller] = clock.now + paused.retryInMs;
        continue;
      }
      attempts.push(clock.now);
      backoff.refused('id', refusal, SA);
      next[caller] = clock.now + 60_000; // the refused caller's own slow retry
    }
  }
  return attempts;
}

/** A small deterministic generator, so the jittered schedule is reproducible. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}
