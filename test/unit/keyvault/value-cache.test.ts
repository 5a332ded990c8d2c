// The value cache is bounded in bytes, not entries, and lets replaced versions go before any
// value that may still be current.
import { describe, expect, it } from 'vitest';
import { ValueCache, valueBytes } from '../../../src/keyvault/value-cache.ts';
import type { SecretValue } from '../../../src/keyvault/types.ts';

function value(name: string, version: string, size: number): SecretValue {
  return {
    value: 'x'.repeat(size),
    properties: {
      name,
      version,
      enabled: true,
      updatedOn: undefined,
      expiresOn: undefined,
      notBefore: undefined,
      contentType: undefined,
      tags: {},
      managed: false,
    },
  };
}

const KB25 = 25 * 1024;
const one = valueBytes(value('abc', 'v1', KB25));

describe('ValueCache', () => {
  it('stays within its byte bound, whatever the number of entries', () => {
    const cache = new ValueCache(10 * one);
    for (let i = 100; i < 200; i += 1) cache.set(`m|${i}|v1`, value(`${i}`, 'v1', KB25), `m|${i}`);
    expect(cache.bytes).toBeLessThanOrEqual(10 * one);
    expect(cache.size).toBe(10);
    // Least recently used went first.
    expect(cache.get('m|189|v1')).toBeUndefined();
    expect(cache.get('m|190|v1')).toBeDefined();
  });

  it('evicts versions a newer version replaced before any current value', () => {
    const cache = new ValueCache(4 * one);
    cache.set('m|a|v1', value('a', 'v1', KB25), 'm|a');
    cache.set('m|b|v1', value('b', 'v1', KB25), 'm|b');
    cache.set('m|c|v1', value('c', 'v1', KB25), 'm|c');
    cache.set('m|a|v2', value('a', 'v2', KB25), 'm|a'); // a@v1 is now old
    cache.get('m|a|v1'); // recently used, but still old
    cache.set('m|d|v1', value('d', 'v1', KB25), 'm|d');
    expect(cache.get('m|a|v1')).toBeUndefined();
    for (const key of ['m|a|v2', 'm|b|v1', 'm|c|v1', 'm|d|v1']) {
      expect(cache.get(key)).toBeDefined();
    }
  });

  it('keeps pinned versions like any current value', () => {
    const cache = new ValueCache(2 * one);
    cache.set('m|a|v1', value('a', 'v1', KB25)); // pinned: no object given
    cache.set('m|a|v2', value('a', 'v2', KB25), 'm|a');
    expect(cache.get('m|a|v1')).toBeDefined();
    expect(cache.get('m|a|v2')).toBeDefined();
  });

  it('does not keep a value larger than the whole bound', () => {
    const cache = new ValueCache(one);
    cache.set('m|big|v1', value('big', 'v1', 2 * KB25), 'm|big');
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });
});
