// metav1.LabelSelector matching, as the API server's label selectors do: every matchLabels pair
// and every matchExpressions requirement must hold; an empty selector matches everything. Label
// keys and values are data, read through Maps.

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export function labelsMatch(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const present = new Map(Object.entries(labels ?? {}));
  const pairs = Object.entries(selector.matchLabels ?? {});
  if (!pairs.every(([key, value]) => present.get(key) === value)) return false;
  return (selector.matchExpressions ?? []).every((requirement) =>
    holds(requirement, present.get(requirement.key)),
  );
}

function holds(requirement: LabelSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}
