// Pure: what the queue does after a failure. A vault that says when to come back (a pause after a
// 429, the next sweep after failed sweeps) is looked at again then, not retried from 5 ms.
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../../src/controllers/vault-secret/failure.ts';
import { VaultError } from '../../../src/keyvault/errors.ts';

const hour = 3_600_000;

describe('classifyFailure', () => {
  it('requeues a throttled read for when the vault pause ends', () => {
    const error = new VaultError('Throttled', 'paused', { retryAfterMs: 45_000 });
    expect(classifyFailure(error, hour)).toMatchObject({
      reason: 'Throttled',
      retry: { kind: 'after', ms: 45_000 },
    });
  });

  it('requeues values a failing sweep could not re-validate for after the next sweep', () => {
    const error = new VaultError('Transient', 'could not check', { retryAfterMs: 10_000 });
    expect(classifyFailure(error, hour)).toMatchObject({
      reason: 'VaultError',
      retry: { kind: 'after', ms: 10_000 },
    });
  });

  it('caps what a vault asks for at the backoff cap of 5 min', () => {
    const error = new VaultError('Throttled', '429', { retryAfterMs: 86_400_000 });
    expect(classifyFailure(error, hour).retry).toEqual({ kind: 'after', ms: 300_000 });
  });

  it('backs off per key when the vault says nothing about when', () => {
    expect(classifyFailure(new VaultError('Transient', '503'), hour).retry).toEqual({
      kind: 'backoff',
    });
    expect(classifyFailure(new VaultError('Throttled', '429'), hour).retry).toEqual({
      kind: 'backoff',
    });
  });

  it('keeps the slow retry of failures that need a change elsewhere', () => {
    const error = new VaultError('Forbidden', 'no role', { retryAfterMs: 10_000 });
    expect(classifyFailure(error, hour).retry).toEqual({ kind: 'after', ms: 60_000 });
  });
});
