// target.template: computed Secret keys from fetched values, e.g.
//   url: "postgres://{{ .user | urlencode }}:{{ .password | urlencode }}@db:5432/app"
// The language is small and logic-less (see template-parse.ts for the syntax and
// template-functions.ts for the functions). Rendering sees only the values it is handed: no
// environment, files, network or cluster, and no way to loop or recurse, so the output is at most
// the template plus its values, each transformed once.
import { closest, positionAt, TemplateError } from './template-error.ts';
import { FunctionError, FUNCTIONS } from './template-functions.ts';
import { parseNodes, type Command, type Operand, type TemplateNode } from './template-parse.ts';

export { TemplateError } from './template-error.ts';

export interface ParsedTemplate {
  readonly source: string;
  readonly keyName: string;
  readonly nodes: readonly TemplateNode[];
  /** Names of the values the template reads, in order of first use. */
  readonly references: readonly string[];
}

function referencesOf(nodes: readonly TemplateNode[]): string[] {
  const names = new Set<string>();
  for (const node of nodes) {
    if (node.kind !== 'action') continue;
    for (const command of node.pipeline) {
      if (command.kind === 'index') names.add(command.name);
      const operand =
        command.kind === 'operand'
          ? command.operand
          : command.kind === 'call'
            ? command.input
            : undefined;
      if (operand?.kind === 'value') names.add(operand.name);
    }
  }
  return [...names];
}

/** Parses and checks syntax, function names and arguments, so a bad template is reported when
 * the spec is read rather than when values arrive. Throws TemplateError. */
export function parseTemplate(source: string, keyName = ''): ParsedTemplate {
  const nodes = parseNodes(source, keyName);
  return { source, keyName, nodes, references: referencesOf(nodes) };
}

function lookup(
  template: ParsedTemplate,
  values: ReadonlyMap<string, Buffer>,
  name: string,
  at: number,
  written: string,
): Buffer {
  const value = values.get(name);
  if (value !== undefined) return value;
  const suggestion = closest(name, values.keys());
  const hint =
    suggestion === undefined
      ? ''
      : /^[A-Za-z_][A-Za-z0-9_]*$/.test(suggestion)
        ? ` (did you mean .${suggestion}?)`
        : ` (did you mean index . "${suggestion}"?)`;
  throw new TemplateError(
    template.keyName,
    positionAt(template.source, at),
    `unknown value ${written}${hint}`,
  );
}

function evaluateOperand(
  template: ParsedTemplate,
  values: ReadonlyMap<string, Buffer>,
  operand: Operand,
): Buffer {
  switch (operand.kind) {
    case 'value':
      return lookup(template, values, operand.name, operand.at, `.${operand.name}`);
    case 'string':
      return Buffer.from(operand.value, 'utf8');
    case 'dot':
      // The parser never produces a dot operand outside index.
      throw new TemplateError(
        template.keyName,
        positionAt(template.source, operand.at),
        'unexpected "."',
      );
  }
}

function evaluate(
  template: ParsedTemplate,
  values: ReadonlyMap<string, Buffer>,
  pipeline: readonly Command[],
): Buffer {
  let current: Buffer = Buffer.alloc(0);
  for (const command of pipeline) {
    if (command.kind === 'operand') {
      current = evaluateOperand(template, values, command.operand);
    } else if (command.kind === 'index') {
      current = lookup(template, values, command.name, command.at, `index . "${command.name}"`);
    } else {
      const fn = FUNCTIONS.get(command.name);
      const input = command.input ? evaluateOperand(template, values, command.input) : current;
      try {
        if (!fn) throw new FunctionError(`unknown function ${command.name}`);
        current = fn.apply(input, command.literals);
      } catch (error) {
        if (!(error instanceof FunctionError)) throw error;
        throw new TemplateError(
          template.keyName,
          positionAt(template.source, command.at),
          error.message,
        );
      }
    }
  }
  return current;
}

/** Renders with `values` (Secret key -> bytes). Throws TemplateError naming `keyName` and the
 * position; messages never contain a value. */
export function renderTemplate(
  template: string | ParsedTemplate,
  values: ReadonlyMap<string, Buffer>,
  keyName: string,
): Buffer {
  const parsed =
    typeof template === 'string'
      ? parseTemplate(template, keyName)
      : { ...template, keyName: keyName || template.keyName };
  const parts = parsed.nodes.map((node) =>
    node.kind === 'text' ? Buffer.from(node.text, 'utf8') : evaluate(parsed, values, node.pipeline),
  );
  return Buffer.concat(parts);
}

/** Function names and one-line descriptions, for documentation and error hints. */
export const TEMPLATE_FUNCTIONS: Readonly<Record<string, string>> = {
  index: 'a value whose name is not a plain identifier: index . "db-password"',
  ...Object.fromEntries([...FUNCTIONS].map(([name, fn]): [string, string] => [name, fn.summary])),
};
