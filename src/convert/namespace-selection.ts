// Pure: ESO's namespace selection of a ClusterExternalSecret (namespaceSelector, namespaceSelectors
// and namespaces, whose union ESO selects) -> a ClusterVaultSecret's one namespaceSelector plus
// namespaces by name, when the union can be written that way; and the shell command that lists the
// namespaces a selector picks, for granting consent.
import type { LabelSelector, LabelSelectorRequirement } from '../api/cluster-vault-secret.ts';
import { type Fields, fieldsOf, type Findings, list, objectOf, stringMap, text } from './fields.ts';

export interface Selection {
  namespaceSelector?: LabelSelector;
  namespaces?: string[];
}

/** Namespace names carry this label (set by the API server), so a selector on it lists names. */
const NAME_LABEL = 'kubernetes.io/metadata.name';
const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

export function selectionOf(spec: Fields | undefined, findings: Findings): Selection {
  const selectors = [
    ...(spec?.has('namespaceSelector') ? [spec.get('namespaceSelector')] : []),
    ...list(spec, 'namespaceSelectors'),
  ].map((value, index) => selectorOf(value, `namespaceSelectors[${index}]`, findings));
  const names = new Set<string>();
  for (const value of list(spec, 'namespaces')) {
    if (typeof value === 'string' && namespaceName.test(value)) names.add(value);
    else findings.problem(`namespaces: "${String(value)}" is not a namespace name`);
  }
  const general = new Map<string, LabelSelector>();
  for (const selector of selectors) {
    const byName = namesSelected(selector);
    if (byName) byName.forEach((name) => names.add(name));
    else if (selector) general.set(JSON.stringify(selector), selector);
  }
  if (general.size > 1) {
    findings.problem(
      `${general.size} namespace selectors: ESO selects the namespaces any of them matches, a ClusterVaultSecret has one selector (plus namespaces by name); give those namespaces one common label and select it, or list them under namespaces`,
    );
  }
  const [selector] = general.values();
  if (!selector && names.size === 0) findings.problem('selects no namespace');
  return {
    ...(selector ? { namespaceSelector: selector } : {}),
    ...(names.size > 0 ? { namespaces: [...names].sort() } : {}),
  };
}

function selectorOf(value: unknown, where: string, findings: Findings): LabelSelector | undefined {
  const fields = fieldsOf(value);
  if (!fields) {
    findings.problem(`${where}: not a label selector`);
    return undefined;
  }
  findings.unknownFields(fields, `${where}.`, ['matchLabels', 'matchExpressions']);
  const labels = stringMap(fields.get('matchLabels') ?? {});
  const pairs = [...(labels ?? [])];
  if (!labels || !pairs.every(([key, v]) => labelKey.test(key) && labelValue.test(v))) {
    findings.problem(`${where}.matchLabels must map label keys to label values`);
  }
  const expressions = list(fields, 'matchExpressions').map((entry, index) =>
    requirementOf(fieldsOf(entry), `${where}.matchExpressions[${index}]`, findings),
  );
  return {
    ...(pairs.length > 0 ? { matchLabels: objectOf(pairs) } : {}),
    ...(expressions.length > 0 ? { matchExpressions: expressions } : {}),
  };
}

function requirementOf(
  fields: Fields | undefined,
  where: string,
  findings: Findings,
): LabelSelectorRequirement {
  findings.unknownFields(fields, `${where}.`, ['key', 'operator', 'values']);
  const key = text(fields, 'key') ?? '';
  const operator = text(fields, 'operator') ?? '';
  const values = list(fields, 'values');
  const strings = values.filter((v): v is string => typeof v === 'string' && labelValue.test(v));
  const needsValues = operator === 'In' || operator === 'NotIn';
  if (!labelKey.test(key) || !OPERATORS.has(operator) || strings.length !== values.length) {
    findings.problem(
      `${where}: needs a label key, an operator In, NotIn, Exists or DoesNotExist and label values`,
    );
  } else if (needsValues !== values.length > 0) {
    findings.problem(`${where}: In and NotIn need values; Exists and DoesNotExist take none`);
  }
  return {
    key,
    operator: operator as LabelSelectorRequirement['operator'],
    ...(values.length > 0 ? { values: strings } : {}),
  };
}

/** The names a selector picks when it selects by the namespace-name label alone. */
function namesSelected(selector: LabelSelector | undefined): string[] | undefined {
  if (!selector) return undefined;
  const labels = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  if (labels.length === 1 && expressions.length === 0 && labels[0]?.[0] === NAME_LABEL) {
    return [labels[0][1]].filter((name) => namespaceName.test(name));
  }
  const [only] = expressions;
  if (
    labels.length === 0 &&
    expressions.length === 1 &&
    only?.key === NAME_LABEL &&
    only.operator === 'In'
  ) {
    const names = only.values ?? [];
    return names.every((name) => namespaceName.test(name)) ? names : undefined;
  }
  return undefined;
}

/** `kubectl -l` syntax; keys and values were checked against label syntax, so it is shell-safe. */
export function selectorArgument(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`),
    ...(selector.matchExpressions ?? []).map(requirementArgument),
  ];
  return parts.join(',');
}

function requirementArgument({ key, operator, values = [] }: LabelSelectorRequirement): string {
  if (operator === 'Exists') return key;
  if (operator === 'DoesNotExist') return `!${key}`;
  return `${key} ${operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`;
}
