// Pure: the labels and annotations of spec.target as the API server will judge them on the Secret.
// The CRD's schema cannot check map keys cheaply, so a key the Secret would refuse ("__proto__",
// "a b") is reported in the status before any Key Vault call instead of failing every write.

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Kubernetes' qualified name: `[prefix/]name`, as label and annotation keys must be. */
export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME.test(name);
}

/** Undefined when the Secret will accept these labels and annotations; else what is wrong. */
export function targetMetadataProblem(target: {
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}): string | undefined {
  for (const [key, value] of Object.entries(target.labels ?? {})) {
    if (!isQualifiedName(key)) return `target.labels: "${key}" is not a valid label key`;
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      return `target.labels: the value of "${key}" is not a valid label value`;
    }
  }
  for (const key of Object.keys(target.annotations ?? {})) {
    if (!isQualifiedName(key.toLowerCase())) {
      return `target.annotations: "${key}" is not a valid annotation key`;
    }
  }
  return undefined;
}
