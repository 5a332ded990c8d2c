// What reaches the log when code logs an error: its message, never what it carries.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, errorMessage, safeError } from '../../../src/observability/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: createLogger('trace', stream), lines, text: () => JSON.stringify(lines) };
}

/** Like an SDK RestError: the request and response ride along with the message. */
function sdkError(): Error {
  return Object.assign(new Error('Operation returned an invalid status code 400'), {
    name: 'RestError',
    code: 'BadParameter',
    statusCode: 400,
    request: {
      headers: { authorization: 'Bearer eyJ-secret-token' },
      body: 'client_secret=s3cr3t',
    },
    response: { bodyAsText: '{"value":"the-secret-value"}' },
  });
}

describe('logger', () => {
  it('logs an error object by name, message, code and status only', () => {
    const { log, lines, text } = capture();
    log.warn({ err: sdkError() }, 'read failed');
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: 'read failed',
      err: {
        type: 'RestError',
        message: 'Operation returned an invalid status code 400',
        code: 'BadParameter',
        statusCode: 400,
      },
    });
    expect(text()).not.toMatch(/eyJ-secret-token|s3cr3t|the-secret-value/);
  });

  it('redacts value-bearing fields wherever a slip puts them', () => {
    const { log, text } = capture();
    log.info(
      {
        value: 'the-secret-value',
        secret: { data: { password: 'aHVudGVyMg==' }, stringData: { password: 'hunter2' } },
        credential: { clientSecret: 's3cr3t', token: 'eyJ-secret-token' },
        response: { body: 'x' },
      },
      'slip',
    );
    expect(text()).not.toMatch(/the-secret-value|aHVudGVyMg|hunter2|s3cr3t|eyJ-secret-token/);
    expect(text()).toContain('[redacted]');
  });

  it('errorMessage and safeError take anything thrown', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('text')).toBe('text');
    expect(errorMessage({ value: 'x' })).toBe('non-error thrown (object)');
    expect(safeError(42)).toBe('non-error thrown (number)');
  });
});
