// A label whose values come from users (vault hosts a tenant chose): the first `max` distinct
// values are kept as they are, every later one is counted as `other`, so no tenant can make the
// metrics endpoint grow without bound.

export const OVERFLOW_LABEL = 'other';

export function boundedLabel(max: number): (value: string) => string {
  const kept = new Set<string>();
  return (value) => {
    if (kept.has(value)) return value;
    if (kept.size >= max) return OVERFLOW_LABEL;
    kept.add(value);
    return value;
  };
}
