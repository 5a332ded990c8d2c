// pino JSON logs. kvsync never passes a value to a log call: errors are logged by message
// (`errorMessage`), never as whole objects, because an SDK error can carry the request or
// response it came from. The serializer and redaction below are the second line of defence for
// a future change that slips.
import pino from 'pino';
import type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

const redactedPaths = [
  'value',
  '*.value',
  'data',
  '*.data',
  'stringData',
  '*.stringData',
  'token',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'request',
  'response',
  '*.request',
  '*.response',
  'body',
  '*.body',
];

/**
 * Synchronous stdout by default: an operator logs little, and a line written before
 * `process.exit` (a lost Lease, a fatal error) must not be lost in a buffer.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'kvsync' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: safeError, error: safeError },
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The message of anything thrown, for `{ err: errorMessage(error) }`. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : `non-error thrown (${typeof error})`;
}

/** An error as a log field: its name, message, code and status, none of its other properties. */
export function safeError(error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? error : errorMessage(error);
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
  };
}
