// Reading parsed YAML that anyone may have written: every value is unknown until checked, user
// names are iterated as entries and never used to index plain objects, and what a translation
// cannot carry over is collected, with its reason, rather than thrown at the first one.
import { patterns } from '../api/vault-secret-schema.ts';

export type Fields = ReadonlyMap<string, unknown>;

/** A Kubernetes object name (DNS subdomain), safe to print in a shell command. */
export const kubernetesName = new RegExp(patterns.dnsSubdomain);

/** The entries of a YAML mapping, or undefined when `value` is not one. */
export function fieldsOf(value: unknown): Fields | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return new Map(Object.entries(value));
}

export function text(fields: Fields | undefined, name: string): string | undefined {
  const value = fields?.get(name);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function list(fields: Fields | undefined, name: string): unknown[] {
  const value = fields?.get(name);
  return Array.isArray(value) ? value : [];
}

/** A mapping of strings (labels, tags), or undefined when absent or not all strings. */
export function stringMap(value: unknown): Map<string, string> | undefined {
  const fields = fieldsOf(value);
  if (!fields) return undefined;
  const out = new Map<string, string>();
  for (const [key, entry] of fields) {
    if (typeof entry !== 'string') return undefined;
    out.set(key, entry);
  }
  return out;
}

/** What did not carry over (the object is skipped) and what changed on the way (it is not). */
export class Findings {
  readonly problems: string[] = [];
  readonly notes: string[] = [];

  problem(message: string): void {
    this.problems.push(message);
  }

  note(message: string): void {
    this.notes.push(message);
  }

  /** Reports fields of `fields` that are not in `known` and do not hold their default value. */
  unknownFields(
    fields: Fields | undefined,
    where: string,
    known: readonly string[],
    defaults: ReadonlyMap<string, unknown> = new Map(),
  ): void {
    for (const [name, value] of fields ?? []) {
      if (known.includes(name)) continue;
      if (defaults.has(name) && defaults.get(name) === value) continue;
      const shown = typeof value === 'string' || typeof value === 'boolean' ? ` ${value}` : '';
      this.problem(`${where}${name}${shown} is not supported by kvsync`);
    }
  }
}

/** A plain object for YAML output, built from entries (so "__proto__" stays a key). */
export function objectOf(entries: Iterable<readonly [string, string]>): Record<string, string> {
  return Object.fromEntries(entries);
}
