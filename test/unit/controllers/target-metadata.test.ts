import { describe, expect, it } from 'vitest';
import { targetMetadataProblem } from '../../../src/controllers/vault-secret/target-metadata.ts';

describe('targetMetadataProblem', () => {
  it.each([
    [{ labels: { app: 'web', 'example.com/team': 'payments', tier: '' } }],
    [{ annotations: { 'Example.COM/Note': 'any text at all', constructor: 'x' } }],
    [{}],
  ])('accepts what the API server accepts on a Secret: %j', (target) => {
    expect(targetMetadataProblem(target)).toBeUndefined();
  });

  it.each([
    [{ labels: { 'a b': 'x' } }, 'target.labels: "a b" is not a valid label key'],
    [{ labels: { '-team': 'x' } }, 'target.labels: "-team" is not a valid label key'],
    [
      { labels: { 'Example.com/team': 'x' } },
      'target.labels: "Example.com/team" is not a valid label key',
    ],
    [
      { labels: { ['x'.repeat(64)]: 'x' } },
      `target.labels: "${'x'.repeat(64)}" is not a valid label key`,
    ],
    [
      { labels: { team: 'has space' } },
      'target.labels: the value of "team" is not a valid label value',
    ],
    [
      { labels: { team: 'x'.repeat(64) } },
      'target.labels: the value of "team" is not a valid label value',
    ],
    [
      { annotations: { 'a/b/c': 'x' } },
      'target.annotations: "a/b/c" is not a valid annotation key',
    ],
  ])('names the key the Secret would refuse: %j', (target, message) => {
    expect(targetMetadataProblem(target)).toBe(message);
  });
});
