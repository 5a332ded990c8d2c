import { describe, expect, it } from 'vitest';
import { minResyncMs, nextRefreshMs } from '../../../src/controllers/vault-secret/refresh.ts';

const now = new Date('2026-11-26T00:00:00Z');
const day = 24 * 3_600_000;
const hour = 3_600_000;
const middle = () => 0.5;

describe('nextRefreshMs', () => {
  it('comes back after refreshInterval when that is long, spread by ±10%', () => {
    expect(nextRefreshMs(hour, {}, now, 30 * day, middle)).toBe(hour);
    expect(nextRefreshMs(hour, {}, now, 30 * day, () => 0)).toBe(54 * 60_000);
    expect(nextRefreshMs(hour, {}, now, 30 * day, () => 1)).toBe(66 * 60_000);
  });

  it('never more often than every 10 minutes: sweeps, not requeues, notice rotation', () => {
    expect(nextRefreshMs(60_000, {}, now, 30 * day, middle)).toBe(minResyncMs);
    expect(nextRefreshMs(10_000, {}, now, 30 * day, middle)).toBe(minResyncMs);
  });

  it('comes back when the expiry warning is due, if that is sooner', () => {
    const expiresOn = new Date(now.getTime() + 30 * day + 5 * 60_000).toISOString();
    expect(nextRefreshMs(hour, { expiresOn }, now, 30 * day, middle)).toBe(5 * 60_000 + 1_000);
  });

  it('not at all for refreshInterval 0 (sync once) without an expiry', () => {
    expect(nextRefreshMs(0, {}, now, 30 * day, middle)).toBeUndefined();
  });
});
