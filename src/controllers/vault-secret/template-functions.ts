// The template functions. Each maps bytes to bytes and may take string-literal parameters
// (json "field", pem "CERTIFICATE"). None can reach the process, the filesystem, the network or
// the cluster: they see only their input. Failure reasons never include the input.

/** A reason for the user; the renderer adds key and position. */
export class FunctionError extends Error {
  override readonly name = 'FunctionError';
}

export interface TemplateFunction {
  /** Names of the string-literal parameters that come before the input. */
  readonly parameters: readonly string[];
  /** Parse-time check of the literals; returns a reason when they are wrong. */
  readonly check?: (literals: readonly string[]) => string | undefined;
  readonly apply: (input: Buffer, literals: readonly string[]) => Buffer;
  readonly summary: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(input: Buffer, name: string): string {
  try {
    return utf8.decode(input).replace(/^\uFEFF/, '');
  } catch {
    throw new FunctionError(`${name}: its input is not UTF-8 text`);
  }
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]);

function trim(input: Buffer): Buffer {
  let start = 0;
  let end = input.length;
  while (start < end && WHITESPACE.has(input[start] ?? 0)) start++;
  while (end > start && WHITESPACE.has(input[end - 1] ?? 0)) end--;
  return input.subarray(start, end);
}

function b64dec(input: Buffer): Buffer {
  const encoded = input.toString('latin1').replace(/\s+/g, '');
  const standard = /^[A-Za-z0-9+/]*={0,2}$/.test(encoded);
  const urlSafe = /^[A-Za-z0-9_-]*={0,2}$/.test(encoded);
  if ((!standard && !urlSafe) || encoded.replace(/=+$/, '').length % 4 === 1) {
    throw new FunctionError('b64dec: its input is not base64');
  }
  return Buffer.from(encoded, 'base64');
}

function jsonField(input: Buffer, [path = '']: readonly string[]): Buffer {
  let value: unknown;
  try {
    value = JSON.parse(text(input, 'json'));
  } catch (error) {
    // JSON.parse messages quote the input: never pass them on.
    if (error instanceof FunctionError) throw error;
    throw new FunctionError('json: its input is not valid JSON');
  }
  const walked: string[] = [];
  for (const segment of path === '' ? [] : path.split('.')) {
    if (Array.isArray(value) && /^\d+$/.test(segment) && Number(segment) < value.length) {
      value = value[Number(segment)] as unknown;
    } else if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.hasOwn(value, segment)
    ) {
      value = (value as Record<string, unknown>)[segment];
    } else {
      const at = walked.length > 0 ? ` under "${walked.join('.')}"` : '';
      throw new FunctionError(`json: the input has no field "${segment}"${at}`);
    }
    walked.push(segment);
  }
  // Strings as they are (what a connection string wants); anything else as JSON text.
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

const PEM_TYPE = /^[A-Z0-9]+( [A-Z0-9]+)*$/;

function pemBlocks(input: Buffer, type: string): Buffer[] {
  const blocks: Buffer[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (const match of input.toString('latin1').matchAll(pattern)) {
    if (match[1] === type) blocks.push(Buffer.from(`${match[0]}\n`, 'latin1'));
  }
  return blocks;
}

function pem(first: boolean) {
  return (input: Buffer, [type = '']: readonly string[]): Buffer => {
    const blocks = pemBlocks(input, type);
    const name = first ? 'pemFirst' : 'pem';
    if (blocks.length === 0) throw new FunctionError(`${name}: the input has no "${type}" block`);
    return first ? (blocks[0] ?? Buffer.alloc(0)) : Buffer.concat(blocks);
  };
}

function checkPemType([type = '']: readonly string[]): string | undefined {
  return PEM_TYPE.test(type)
    ? undefined
    : `"${type}" is not a PEM type; use one like "CERTIFICATE" or "PRIVATE KEY"`;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function urlencode(input: Buffer): Buffer {
  let out = '';
  for (const byte of input) {
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return Buffer.from(out, 'latin1');
}

// Maps: function names come from templates, and `toString` must not find Object's.
export const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map<string, TemplateFunction>([
  [
    'b64enc',
    {
      parameters: [],
      apply: (input) => Buffer.from(input.toString('base64'), 'latin1'),
      summary: 'base64-encode',
    },
  ],
  [
    'b64dec',
    { parameters: [], apply: b64dec, summary: 'base64-decode (standard or URL alphabet)' },
  ],
  [
    'json',
    {
      parameters: ['field'],
      apply: jsonField,
      summary: 'a field of a JSON value by dot-path, e.g. json "db.hosts.0"',
    },
  ],
  ['trim', { parameters: [], apply: trim, summary: 'remove leading and trailing whitespace' }],
  [
    'upper',
    {
      parameters: [],
      apply: (input) => Buffer.from(text(input, 'upper').toUpperCase(), 'utf8'),
      summary: 'upper-case text',
    },
  ],
  [
    'lower',
    {
      parameters: [],
      apply: (input) => Buffer.from(text(input, 'lower').toLowerCase(), 'utf8'),
      summary: 'lower-case text',
    },
  ],
  [
    'pem',
    {
      parameters: ['type'],
      check: checkPemType,
      apply: pem(false),
      summary: 'all PEM blocks of a type, e.g. pem "CERTIFICATE"',
    },
  ],
  [
    'pemFirst',
    {
      parameters: ['type'],
      check: checkPemType,
      apply: pem(true),
      summary: 'the first PEM block of a type, e.g. pemFirst "CERTIFICATE" (a leaf)',
    },
  ],
  [
    'urlencode',
    {
      parameters: [],
      apply: urlencode,
      summary: 'percent-encode all but A-Z a-z 0-9 - . _ ~ (for URLs and connection strings)',
    },
  ],
  [
    'quote',
    {
      parameters: [],
      apply: (input) => Buffer.from(JSON.stringify(text(input, 'quote')), 'utf8'),
      summary: 'a double-quoted, escaped string for JSON or YAML',
    },
  ],
]);

/** Names people bring from Go templates, Sprig and Helm. */
export const FUNCTION_ALIASES: ReadonlyMap<string, string> = new Map([
  ['base64', 'b64enc'],
  ['b64encode', 'b64enc'],
  ['base64encode', 'b64enc'],
  ['b64decode', 'b64dec'],
  ['base64decode', 'b64dec'],
  ['fromJson', 'json'],
  ['toUpper', 'upper'],
  ['toLower', 'lower'],
  ['trimSpace', 'trim'],
  ['urlquery', 'urlencode'],
]);
