// What reaches the log when code logs an error: its message, never what it carries.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  errorMessage,
  logDestination,
  safeError,
} from '../../../src/observability/logger.ts';

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

/** A text-format logger writing into an array of lines. */
function captureText() {
  const lines: string[] = [];
  const out = { write: (line: string) => void lines.push(line) };
  return { log: createLogger('trace', logDestination('text', out)), lines };
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

  it('text format: one readable line per record, fields as key=value', () => {
    const { log, lines } = captureText();
    log
      .child({ vaultsecret: 'team/app', reconcileId: 'r1' })
      .info({ keys: 2, reason: 'Synced', note: 'two words' }, 'secret written');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}secret written vaultsecret=team\/app reconcileId=r1 keys=2 reason=Synced note="two words"\n$/,
    );
  });

  it('text format: values are redacted and errors reduced exactly as in JSON', () => {
    const { log, lines } = captureText();
    log.warn({ err: sdkError() }, 'read failed');
    log.info(
      {
        value: 'the-secret-value',
        secret: { data: { password: 'aHVudGVyMg==' }, stringData: { password: 'hunter2' } },
        credential: { clientSecret: 's3cr3t', token: 'eyJ-secret-token' },
      },
      'slip',
    );
    const text = lines.join('');
    expect(text).toContain(
      'err={"type":"RestError","message":"Operation returned an invalid status code 400","code":"BadParameter","statusCode":400}',
    );
    expect(text).toContain(
      'slip value=[redacted] secret={"data":"[redacted]","stringData":"[redacted]"} credential={"clientSecret":"[redacted]","token":"[redacted]"}',
    );
    expect(text).not.toMatch(/eyJ-secret-token|s3cr3t|the-secret-value|aHVudGVyMg|hunter2/);
  });
});
