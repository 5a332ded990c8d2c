// Parser for kvsync's template language: text with {{ actions }}, where an action is a pipeline
//   {{ .name }}  {{ index . "my-key" }}  {{ .cfg | json "host" | upper }}  {{ b64enc .user }}
// with Go's whitespace trimming ({{- and -}}). There are no conditionals, loops, variables or
// method calls: a template can only combine the values it is given.
import { closest, positionAt, TemplateError } from './template-error.ts';
import { FUNCTION_ALIASES, FUNCTIONS } from './template-functions.ts';

export type Operand =
  | { readonly kind: 'value'; readonly name: string; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'dot'; readonly at: number };

export type Command =
  | { readonly kind: 'operand'; readonly operand: Operand; readonly at: number }
  | {
      readonly kind: 'call';
      readonly name: string;
      /** String literals for the function's parameters. */
      readonly literals: readonly string[];
      /** The input when the call heads the pipeline (`b64enc .user`), else the piped value. */
      readonly input: Operand | undefined;
      readonly at: number;
    }
  | { readonly kind: 'index'; readonly name: string; readonly at: number };

export type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pipeline: readonly Command[]; readonly at: number };

type Token =
  | { readonly kind: 'value'; readonly name: string; readonly at: number }
  | { readonly kind: 'dot'; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'ident'; readonly name: string; readonly at: number }
  | { readonly kind: 'pipe'; readonly at: number };

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

class Parser {
  readonly source: string;
  readonly keyName: string;
  offset = 0;

  constructor(source: string, keyName: string) {
    this.source = source;
    this.keyName = keyName;
  }

  fail(at: number, reason: string): never {
    throw new TemplateError(this.keyName, positionAt(this.source, at), reason);
  }

  parse(): TemplateNode[] {
    const nodes: TemplateNode[] = [];
    let trimNext = false;
    while (this.offset < this.source.length) {
      const open = this.source.indexOf('{{', this.offset);
      let text = this.source.slice(this.offset, open === -1 ? undefined : open);
      if (trimNext) text = text.trimStart();
      if (open === -1) {
        if (text) nodes.push({ kind: 'text', text });
        break;
      }
      // Go's rule: "{{- " trims the text before, " -}}" the text after.
      const trimBefore = /^\{\{-\s/.test(this.source.slice(open, open + 4));
      if (trimBefore) text = text.trimEnd();
      if (text) nodes.push({ kind: 'text', text });
      this.offset = open + (trimBefore ? 3 : 2);
      const { tokens, trimAfter } = this.lexAction(open);
      nodes.push({ kind: 'action', pipeline: this.parsePipeline(tokens, open), at: open });
      trimNext = trimAfter;
    }
    return nodes;
  }

  private lexAction(open: number): { tokens: Token[]; trimAfter: boolean } {
    const tokens: Token[] = [];
    const s = this.source;
    for (;;) {
      while (/\s/.test(s[this.offset] ?? '')) this.offset++;
      const at = this.offset;
      const char = s[at];
      if (char === undefined) this.fail(open, 'unterminated action: "{{" without a closing "}}"');
      if (s.startsWith('}}', at)) {
        this.offset += 2;
        return { tokens, trimAfter: false };
      }
      if (s.startsWith('-}}', at) && /\s/.test(s[at - 1] ?? '')) {
        this.offset += 3;
        return { tokens, trimAfter: true };
      }
      if (char === '|') {
        tokens.push({ kind: 'pipe', at });
        this.offset++;
      } else if (char === '"') {
        tokens.push({ kind: 'string', value: this.lexString(at), at });
      } else if (char === '.') {
        this.offset++;
        const name = this.lexIdent();
        if (name === undefined) tokens.push({ kind: 'dot', at });
        else tokens.push({ kind: 'value', name, at });
        this.rejectNameContinuation(at, name);
      } else {
        const name = this.lexIdent();
        if (name === undefined) this.fail(at, `unexpected "${char}" in action`);
        tokens.push({ kind: 'ident', name, at });
      }
    }
  }

  private lexIdent(): string | undefined {
    IDENT.lastIndex = this.offset;
    const match = IDENT.exec(this.source);
    if (!match) return undefined;
    this.offset += match[0].length;
    return match[0];
  }

  /** `.db-password` or `.tls.crt`: Secret keys may contain "-" and ".", Go-style names cannot. */
  private rejectNameContinuation(at: number, name: string | undefined): void {
    const rest = /^[-.][A-Za-z0-9_][A-Za-z0-9_.-]*/.exec(this.source.slice(this.offset));
    if (name === undefined || !rest) return;
    const full = name + rest[0];
    this.fail(at, `write {{ index . "${full}" }} for a value whose name contains "-" or "."`);
  }

  private lexString(at: number): string {
    let value = '';
    this.offset = at + 1;
    for (;;) {
      const char = this.source[this.offset];
      if (char === undefined || char === '\n') this.fail(at, 'unterminated string');
      this.offset++;
      if (char === '"') return value;
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = ESCAPES.get(this.source[this.offset] ?? '');
      if (escaped === undefined) {
        this.fail(this.offset - 1, 'unknown escape in string (use \\" \\\\ \\n \\r or \\t)');
      }
      value += escaped;
      this.offset++;
    }
  }

  private parsePipeline(tokens: readonly Token[], open: number): Command[] {
    if (tokens.length === 0) this.fail(open, 'empty action: put a value or function in "{{ }}"');
    const commands: Command[] = [];
    let start = 0;
    for (let i = 0; i <= tokens.length; i++) {
      const token = tokens[i];
      if (token && token.kind !== 'pipe') continue;
      const group = tokens.slice(start, i);
      const at = token?.at ?? tokens.at(-1)?.at ?? open;
      if (group.length === 0) this.fail(at, 'missing command around "|"');
      commands.push(this.parseCommand(group, commands.length === 0));
      start = i + 1;
    }
    return commands;
  }

  private parseCommand(tokens: readonly Token[], first: boolean): Command {
    const [head, ...args] = tokens as [Token, ...Token[]];
    if (head.kind !== 'ident') {
      if (!first) this.fail(head.at, 'after "|" comes a function, e.g. "| b64enc"');
      if (args[0]) this.fail(args[0].at, 'unexpected argument: join commands with "|"');
      return { kind: 'operand', operand: this.operand(head), at: head.at };
    }
    if (head.name === 'index') return this.parseIndex(head.at, args, first);
    const fn = FUNCTIONS.get(head.name);
    if (!fn) {
      const hint = FUNCTION_ALIASES.get(head.name) ?? closest(head.name, FUNCTIONS.keys());
      const suggestion = hint ? ` (did you mean ${hint}?)` : '';
      this.fail(head.at, `unknown function ${head.name}${suggestion}`);
    }
    const wanted = fn.parameters.length + (first ? 1 : 0);
    const usage = [head.name, ...fn.parameters.map((p) => `"<${p}>"`)].join(' ');
    if (args.length !== wanted) {
      const how = first ? `${usage} <value>, or <value> | ${usage}` : `| ${usage}`;
      this.fail(head.at, `${head.name} takes ${wanted} argument(s) here: ${how}`);
    }
    const literals = args.slice(0, fn.parameters.length).map((arg) => {
      if (arg.kind !== 'string')
        this.fail(
          arg.at,
          `${head.name}: the ${fn.parameters.join(', ')} must be a "quoted string"`,
        );
      return arg.value;
    });
    const problem = fn.check?.(literals);
    if (problem) this.fail(args[0]?.at ?? head.at, `${head.name}: ${problem}`);
    const inputToken = first ? args.at(-1) : undefined;
    const input = inputToken ? this.operand(inputToken) : undefined;
    return { kind: 'call', name: head.name, literals, input, at: head.at };
  }

  /** `index . "my-key"` (Go's form) or the short `index "my-key"`. */
  private parseIndex(at: number, args: readonly Token[], first: boolean): Command {
    if (!first) this.fail(at, 'index cannot take a piped value: write {{ index . "name" | ... }}');
    const [a, b] = args;
    const name = a?.kind === 'dot' && b?.kind === 'string' && args.length === 2 ? b : a;
    if (name?.kind !== 'string' || (args.length === 2 && a?.kind !== 'dot') || args.length > 2) {
      this.fail(at, 'index takes a quoted value name: index . "my-key"');
    }
    return { kind: 'index', name: name.value, at };
  }

  private operand(token: Token): Operand {
    if (token.kind === 'value' || token.kind === 'string') return token;
    if (token.kind === 'dot') {
      this.fail(token.at, '"." alone is the set of all values: write .name or index . "name"');
    }
    return this.fail(token.at, 'expected a value here; pass a function\'s result on with "|"');
  }
}

export function parseNodes(source: string, keyName: string): TemplateNode[] {
  return new Parser(source, keyName).parse();
}
