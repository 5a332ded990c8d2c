// Template errors name the key, the line and column, and what to change; they never contain a
// value, even when the failure is about a value's content.
import { describe, expect, it } from 'vitest';
import {
  parseTemplate,
  renderTemplate,
  TemplateError,
} from '../../../src/controllers/vault-secret/template.ts';

const SECRET = 'S3cr3t-Valu3-xyzzy';

const values = new Map<string, Buffer>(
  Object.entries({
    password: SECRET,
    'db-password': SECRET,
    notJson: `{"a": ${SECRET}`,
    jsonSecret: JSON.stringify({ [SECRET]: SECRET, inner: { [SECRET]: 1 } }),
    notBase64: `${SECRET}!!`,
    pemless: `${SECRET} -----BEGIN CERTIFICATE----- ${SECRET}`,
    binary: '',
  }).map(([k, v]) => [k, Buffer.from(v)]),
);
values.set('binary', Buffer.concat([Buffer.from(SECRET), Buffer.from([0xff, 0xfe])]));

function failure(source: string, keyName = 'url'): TemplateError {
  try {
    renderTemplate(source, values, keyName);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe.each([
  // [name, source, line, column, reason]
  [
    'unknown value with a suggestion',
    'x {{ .pasword }}',
    1,
    6,
    /^unknown value \.pasword \(did you mean \.password\?\)$/,
  ],
  ['unknown value, nothing close', '{{ .zzzzzzzzzz }}', 1, 4, /^unknown value \.zzzzzzzzzz$/],
  [
    'unknown index name suggests index',
    '{{ index . "db-pasword" }}',
    1,
    4,
    /did you mean index \. "db-password"\?/,
  ],
  ['dashed name needs index', '{{ .db-password }}', 1, 4, /index \. "db-password"/],
  ['dotted name needs index', '{{ .tls.crt }}', 1, 4, /index \. "tls\.crt"/],
  [
    'unknown function with a suggestion',
    '{{ .password | b64encc }}',
    1,
    16,
    /^unknown function b64encc \(did you mean b64enc\?\)$/,
  ],
  ['a Sprig name maps to ours', '{{ .password | toUpper }}', 1, 16, /did you mean upper\?/],
  ['unknown function, nothing close', '{{ .password | exec }}', 1, 16, /^unknown function exec$/],
  ['unterminated action', 'line one\n  {{ .password ', 2, 3, /unterminated action/],
  ['unterminated string', '{{ .password | json "host }}', 1, 21, /unterminated string/],
  ['unknown escape', '{{ "a\\qb" }}', 1, 6, /unknown escape/],
  ['empty action', 'a{{ }}', 1, 2, /empty action/],
  ['dangling pipe', '{{ .password | }}', 1, 14, /missing command/],
  ['piping into a value', '{{ .password | .password }}', 1, 16, /after "\|" comes a function/],
  ['two values without a pipe', '{{ .password .password }}', 1, 14, /join commands with "\|"/],
  ['missing input', '{{ b64enc }}', 1, 4, /b64enc takes 1 argument/],
  [
    'too many arguments when piped',
    '{{ .password | json "a" "b" }}',
    1,
    16,
    /json takes 1 argument/,
  ],
  ['non-literal parameter', '{{ .password | json .password }}', 1, 21, /must be a "quoted string"/],
  ['bad PEM type', '{{ .password | pem "cert" }}', 1, 20, /"cert" is not a PEM type/],
  ['index after a pipe', '{{ .password | index . "x" }}', 1, 16, /index cannot take a piped value/],
  ['index without a name', '{{ index . }}', 1, 4, /index takes a quoted value name/],
  ['a bare dot', '{{ . }}', 1, 4, /"\." alone/],
  ['a function as an argument', '{{ b64enc upper }}', 1, 11, /expected a value/],
  ['an unexpected character', '{{ .password + 1 }}', 1, 14, /unexpected "\+"/],
  ['a comment (not supported)', '{{/* note */}}', 1, 3, /unexpected "\/"/],
] as const)('%s', (_name, source, line, column, reason) => {
  it('is a TemplateError at the right position', () => {
    const error = failure(source);
    expect({ line: error.line, column: error.column, keyName: error.keyName }).toEqual({
      line,
      column,
      keyName: 'url',
    });
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(
      `template for key "url", line ${line} column ${column}: ${error.reason}`,
    );
    expect(error.message).not.toContain(SECRET);
  });
});

describe('failures about a value never show the value', () => {
  it.each([
    ['invalid JSON', '{{ .notJson | json "a" }}', /json: its input is not valid JSON/],
    ['missing JSON field', '{{ .jsonSecret | json "missing" }}', /no field "missing"/],
    [
      'missing nested JSON field',
      '{{ .jsonSecret | json "inner.nope" }}',
      /no field "nope" under "inner"/,
    ],
    ['invalid base64', '{{ .notBase64 | b64dec }}', /b64dec: its input is not base64/],
    [
      'no PEM block of the type',
      '{{ .pemless | pem "CERTIFICATE" }}',
      /pem: the input has no "CERTIFICATE" block/,
    ],
    ['not UTF-8 for upper', '{{ .binary | upper }}', /upper: its input is not UTF-8 text/],
    ['not UTF-8 for quote', '{{ .binary | quote }}', /quote: its input is not UTF-8 text/],
  ])('%s', (_name, source, reason) => {
    const error = failure(source);
    expect(error.reason).toMatch(reason);
    expect(error.message).not.toContain(SECRET);
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });
});

describe('parseTemplate', () => {
  it('reports syntax errors before any value exists, with the key when given', () => {
    expect(() => parseTemplate('{{ .a | nope }}', 'conn')).toThrow(
      'template for key "conn", line 1 column 9: unknown function nope',
    );
    expect(() => parseTemplate('{{ .a')).toThrow(/^template, line 1 column 1: unterminated action/);
  });

  it('does not need the values: unknown names are a render-time error', () => {
    expect(parseTemplate('{{ .anything }}', 'k').references).toEqual(['anything']);
  });

  it('counts columns from the start of the line', () => {
    const error = failure('first\nsecond {{ .x }}\nthird');
    expect([error.line, error.column]).toEqual([2, 11]);
  });
});
