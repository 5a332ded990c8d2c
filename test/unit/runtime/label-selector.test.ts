import { describe, expect, it } from 'vitest';
import { labelsMatch, type LabelSelector } from '../../../src/runtime/label-selector.ts';

const labels = { team: 'payments', tier: 'prod', 'kvsync.io/shared': '' };

describe('labelsMatch', () => {
  it.each<[string, LabelSelector, boolean]>([
    ['an empty selector matches everything', {}, true],
    ['matchLabels: equal value', { matchLabels: { team: 'payments' } }, true],
    ['matchLabels: other value', { matchLabels: { team: 'orders' } }, false],
    ['matchLabels: empty value is a value', { matchLabels: { 'kvsync.io/shared': '' } }, true],
    ['matchLabels: absent key', { matchLabels: { owner: '' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod', 'dev'] }] }, true],
    ['In, absent key', { matchExpressions: [{ key: 'x', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }, false],
    [
      'NotIn, absent key',
      { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [
      'every requirement must hold',
      {
        matchLabels: { team: 'payments' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }],
      },
      false,
    ],
    [
      'inherited keys are not labels',
      { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] },
      false,
    ],
    ['__proto__ is a label like any other', { matchLabels: { ['__proto__']: 'x' } }, false],
  ])('%s', (_what, selector, expected) => {
    expect(labelsMatch(selector, labels)).toBe(expected);
  });

  it('treats missing labels as none', () => {
    expect(
      labelsMatch({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, undefined),
    ).toBe(true);
  });
});
