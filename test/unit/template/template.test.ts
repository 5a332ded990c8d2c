// The template language as a user writes it in target.template.
import { describe, expect, it } from 'vitest';
import {
  parseTemplate,
  renderTemplate,
  TEMPLATE_FUNCTIONS,
} from '../../../src/controllers/vault-secret/template.ts';

const CERT_A = '-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----';
const CERT_B = '-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----';

const values = new Map<string, Buffer>(
  Object.entries({
    user: 'app user',
    password: 'p@ss:w/rd?#',
    cfg: JSON.stringify({
      host: 'db.internal',
      port: 5432,
      tls: true,
      opt: null,
      hosts: ['a', 'b'],
      nested: { deep: { x: 'y' } },
    }),
    'db-password': 'dashed',
    'tls.crt': `${CERT_A}\n${CERT_B}\n`,
    bundle: `${KEY}\n${CERT_A}\n${CERT_B}\n`,
    padded: '  \t value \r\n',
    encoded: Buffer.from('decoded ✓').toString('base64'),
    urlsafe: Buffer.from([0xfb, 0xff, 0xfe]).toString('base64url'),
    unicode: 'Grüße',
    binary: '',
  }).map(([k, v]) => [k, Buffer.from(v)]),
);
values.set('binary', Buffer.from([0x00, 0xff, 0x80, 0x7b, 0x7b]));

const render = (source: string) => renderTemplate(source, values, 'out').toString('utf8');

describe('values and text', () => {
  it.each([
    ['plain text is copied', 'no actions here', 'no actions here'],
    ['a value', 'user={{ .user }}', 'user=app user'],
    [
      'the DESIGN example',
      'postgres://{{ .user }}:{{ .password }}@db:5432/app',
      'postgres://app user:p@ss:w/rd?#@db:5432/app',
    ],
    ['index with Go syntax', '{{ index . "db-password" }}', 'dashed'],
    ['index, short form', '{{ index "tls.crt" | pemFirst "CERTIFICATE" }}', `${CERT_A}\n`],
    ['no spaces inside braces', '{{.user}}', 'app user'],
    ['newlines inside an action', '{{\n  .cfg\n  | json "host"\n}}', 'db.internal'],
    ['a string literal', '{{ "x" }}', 'x'],
    ['literal braces through a string', '{{ "{{" }} .user }}', '{{ .user }}'],
    ['escapes in strings', '{{ "a\\"b\\\\c\\td\\n" }}', 'a"b\\c\td\n'],
    ['a lone closing brace pair is text', 'a }} b', 'a }} b'],
    ['trim markers (Go)', 'a \n {{- .user -}} \n b', 'aapp userb'],
    ['a dash without a space is not a trim marker', 'x-{{ .user }}-y', 'x-app user-y'],
    [
      'multi-line templates',
      'host: {{ .cfg | json "host" }}\nport: {{ .cfg | json "port" }}\n',
      'host: db.internal\nport: 5432\n',
    ],
  ])('%s', (_name, source, expected) => {
    expect(render(source)).toBe(expected);
  });

  it('binary values pass through unchanged', () => {
    const out = renderTemplate('<{{ .binary }}>', values, 'out');
    expect(
      out.equals(
        Buffer.concat([
          Buffer.from('<'),
          values.get('binary') ?? Buffer.alloc(0),
          Buffer.from('>'),
        ]),
      ),
    ).toBe(true);
  });

  it('values are not re-interpreted as templates', () => {
    const tricky = new Map([
      ['v', Buffer.from('{{ .secret }}')],
      ['secret', Buffer.from('nope')],
    ]);
    expect(renderTemplate('{{ .v }}', tricky, 'out').toString()).toBe('{{ .secret }}');
  });
});

describe('functions', () => {
  it.each([
    ['b64enc', '{{ .user | b64enc }}', Buffer.from('app user').toString('base64')],
    ['b64enc as a call', '{{ b64enc .user }}', Buffer.from('app user').toString('base64')],
    ['b64dec', '{{ .encoded | b64dec }}', 'decoded ✓'],
    ['b64dec round trip', '{{ .password | b64enc | b64dec }}', 'p@ss:w/rd?#'],
    ['json string field', '{{ .cfg | json "host" }}', 'db.internal'],
    ['json number', '{{ .cfg | json "port" }}', '5432'],
    ['json boolean', '{{ .cfg | json "tls" }}', 'true'],
    ['json null', '{{ .cfg | json "opt" }}', 'null'],
    ['json array index', '{{ .cfg | json "hosts.1" }}', 'b'],
    ['json nested path', '{{ .cfg | json "nested.deep.x" }}', 'y'],
    ['json object as JSON', '{{ .cfg | json "nested" }}', '{"deep":{"x":"y"}}'],
    ['json "" is the whole value', '{{ "[1, 2]" | json "" }}', '[1,2]'],
    ['json as a call', '{{ json "host" .cfg }}', 'db.internal'],
    ['trim', '[{{ .padded | trim }}]', '[value]'],
    ['upper', '{{ .unicode | upper }}', 'GRÜSSE'],
    ['lower', '{{ "ÄB" | lower }}', 'äb'],
    [
      'pem selects all blocks of a type',
      '{{ .bundle | pem "CERTIFICATE" }}',
      `${CERT_A}\n${CERT_B}\n`,
    ],
    ['pem for keys', '{{ .bundle | pem "PRIVATE KEY" }}', `${KEY}\n`],
    ['pemFirst', '{{ .bundle | pemFirst "CERTIFICATE" }}', `${CERT_A}\n`],
    ['urlencode', '{{ .password | urlencode }}', 'p%40ss%3Aw%2Frd%3F%23'],
    ['urlencode of UTF-8 and spaces', '{{ "ü x" | urlencode }}', '%C3%BC%20x'],
    ['quote', '{{ "say \\"hi\\"\\n" | quote }}', '"say \\"hi\\"\\n"'],
    [
      'a long pipeline',
      '{{ .cfg | json "host" | upper | b64enc | b64dec | lower }}',
      'db.internal',
    ],
  ])('%s', (_name, source, expected) => {
    expect(render(source)).toBe(expected);
  });

  it('b64dec accepts the URL alphabet and line breaks', () => {
    expect(renderTemplate('{{ .urlsafe | b64dec }}', values, 'out')).toEqual(
      Buffer.from([0xfb, 0xff, 0xfe]),
    );
    const wrapped = new Map([['w', Buffer.from('YWJj\r\nZGVm\n')]]);
    expect(renderTemplate('{{ .w | b64dec }}', wrapped, 'out').toString()).toBe('abcdef');
  });

  it('every function is documented', () => {
    expect(Object.keys(TEMPLATE_FUNCTIONS).sort()).toEqual(
      [
        'b64dec',
        'b64enc',
        'index',
        'json',
        'lower',
        'pem',
        'pemFirst',
        'quote',
        'trim',
        'upper',
        'urlencode',
      ].sort(),
    );
  });
});

describe('parseTemplate', () => {
  it('lists the values a template reads, for early validation', () => {
    const parsed = parseTemplate(
      '{{ .user }}:{{ index . "db-password" }}{{ b64enc .user }}{{ json "x" .cfg }}',
      'k',
    );
    expect(parsed.references).toEqual(['user', 'db-password', 'cfg']);
  });

  it('a parsed template renders like its source', () => {
    const parsed = parseTemplate('{{ .user | upper }}', 'k');
    expect(renderTemplate(parsed, values, 'k').toString()).toBe('APP USER');
  });
});
