import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVaultBudget, type VaultBudgetOptions } from '../../../src/keyvault/budget.ts';
import { VaultError } from '../../../src/keyvault/errors.ts';
import { systemTimers } from '../../../src/runtime/timers.ts';

const A = 'a.vault.azure.net';
const B = 'b.vault.azure.net';

function budget(options: VaultBudgetOptions = {}) {
  const throttles: string[] = [];
  const b = createVaultBudget({
    timers: systemTimers,
    random: () => 0,
    onThrottled: (host) => throttles.push(host),
    ...options,
  });
  return { budget: b, throttles };
}

/** Starts `n` acquires and returns how many have been granted so far, as a live count. */
function startAcquires(b: ReturnType<typeof budget>['budget'], host: string, n: number) {
  const granted = { count: 0 };
  const all = Array.from({ length: n }, () =>
    b.acquire(host).then(() => {
      granted.count += 1;
    }),
  );
  return { granted, all };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('VaultBudget', () => {
  it('grants a burst at once, then paces requests at the steady rate', async () => {
    // 10 per second steady, burst 5.
    const { budget: b } = budget({ requestsPerWindow: 10, windowMs: 1_000 });
    const { granted } = startAcquires(b, A, 12);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted.count).toBe(5);
    await vi.advanceTimersByTimeAsync(100);
    expect(granted.count).toBe(6);
    await vi.advanceTimersByTimeAsync(600);
    expect(granted.count).toBe(12);
  });

  it('defaults to 2,000 per 10 s with a burst of 1,000', async () => {
    const { budget: b } = budget();
    const { granted } = startAcquires(b, A, 1_201);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted.count).toBe(1_000);
    await vi.advanceTimersByTimeAsync(1_000); // 200 per second
    expect(granted.count).toBe(1_200);
  });

  it('pauses a throttled vault for Retry-After, without slowing another vault', async () => {
    const { budget: b, throttles } = budget({ pauseGraceMs: 5_000 });
    expect(b.throttled(A, 3_000)).toBe(3_000);
    expect(throttles).toEqual([A]);
    const a = startAcquires(b, A, 1);
    const other = startAcquires(b, B, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(other.granted.count).toBe(3);
    expect(a.granted.count).toBe(0);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(a.granted.count).toBe(0);
    expect(b.pausedUntil(A)).toBe(3_000);
    await vi.advanceTimersByTimeAsync(1 + 5); // the bucket refills from empty after a pause
    expect(a.granted.count).toBe(1);
    expect(b.pausedUntil(A)).toBeUndefined();
  });

  it('backs off 1, 2, 4, 8, 16, 16 s without Retry-After and starts over after a success', () => {
    const { budget: b } = budget();
    const pauses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      pauses.push(b.throttled(A));
      vi.setSystemTime(Date.now() + pauses.at(-1)!); // the pause passes, the next request is throttled again
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000]);
    b.succeeded(A);
    expect(b.throttled(A)).toBe(1_000);
  });

  it('stretches pauses by up to a quarter with jitter, never shortens them', () => {
    const high = budget({ random: () => 0.999 }).budget;
    const low = budget({ random: () => 0 }).budget;
    expect(high.throttled(A)).toBeCloseTo(1_249.75, 1);
    expect(low.throttled(A)).toBe(1_000);
  });

  it('counts 429s that arrive together during a pause as one strike, but counts every one', () => {
    const { budget: b, throttles } = budget();
    expect(b.throttled(A)).toBe(1_000);
    vi.setSystemTime(500);
    expect(b.throttled(A)).toBe(500); // the same pause, not 2 s
    expect(b.throttled(A)).toBe(500);
    expect(throttles).toHaveLength(3);
    vi.setSystemTime(1_000);
    expect(b.throttled(A)).toBe(2_000);
  });

  it('lets a waiting caller give up', async () => {
    const { budget: b } = budget({ pauseGraceMs: 60_000 });
    b.throttled(A, 10_000);
    const controller = new AbortController();
    const waiting = b.acquire(A, controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    await expect(b.acquire(A, controller.signal)).rejects.toThrow('shutting down');
  });

  it('refuses callers beyond the bounded queue as Throttled instead of queueing without end', async () => {
    const { budget: b } = budget({ requestsPerWindow: 2, windowMs: 1_000, maxWaiters: 2 });
    const { granted } = startAcquires(b, A, 3); // 1 granted (burst 1), 2 waiting
    await vi.advanceTimersByTimeAsync(0);
    expect(granted.count).toBe(1);
    const refused = await b.acquire(A).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(VaultError);
    expect((refused as VaultError).kind).toBe('Throttled');
    expect((refused as VaultError).message).toMatch(/budget for a\.vault\.azure\.net is exhausted/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(granted.count).toBe(3);
  });

  it('refuses at once, with the time left, a caller that would wait out a pause longer than the grace', async () => {
    const { budget: b } = budget({ pauseGraceMs: 2_000 });
    b.throttled(A, 60_000);
    vi.setSystemTime(15_000);
    const refused = await b.acquire(A).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ name: 'VaultError', kind: 'Throttled', retryAfterMs: 45_000 });
    expect((refused as VaultError).message).toMatch(/pauses it for 45 s more/);
    vi.setSystemTime(58_500); // within the grace: wait
    const waiting = startAcquires(b, A, 1);
    await vi.advanceTimersByTimeAsync(1_500 + 5);
    expect(waiting.granted.count).toBe(1);
  });

  it('refuses callers already waiting when a 429 pauses the vault beyond the grace', async () => {
    const { budget: b } = budget({ requestsPerWindow: 2, windowMs: 1_000, pauseGraceMs: 2_000 });
    await b.acquire(A);
    const waiting = b.acquire(A).then(
      () => undefined,
      (err: unknown) => err,
    );
    b.throttled(A, 60_000);
    expect(await waiting).toMatchObject({ kind: 'Throttled', retryAfterMs: 60_000 });
  });

  it('caps an absurd Retry-After', () => {
    const { budget: b } = budget({ maxRetryAfterMs: 60_000 });
    expect(b.throttled(A, 24 * 3_600_000)).toBe(60_000);
  });

  it('serves waiters in order', async () => {
    const { budget: b } = budget({ requestsPerWindow: 2, windowMs: 1_000 });
    const order: number[] = [];
    await b.acquire(A);
    const all = [1, 2, 3].map((n) => b.acquire(A).then(() => order.push(n)));
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
  });
});
