// pino logs, JSON (for log pipelines) or text (for people at a terminal). kvsync never passes a value to a log call: errors are logged by message
// (`errorMessage`), never as whole objects, because an SDK error can carry the request or
// response it came from. The serializer and redaction below are the second line of defence for
// a future change that slips.
import pino from 'pino';
import type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'text';

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
  return pino(options, destination ?? logDestination('json'));
}

/**
 * Where kvsync's log lines go: stdout, as JSON or as text. Text is made from the JSON line pino
 * has already redacted and serialised, so both formats carry exactly the same fields.
 */
export function logDestination(
  format: LogFormat,
  out: pino.DestinationStream = pino.destination({ dest: 1, sync: true }),
): pino.DestinationStream {
  if (format === 'json') return out;
  return { write: (line: string) => out.write(textLine(line)) };
}

/** `2026-12-07T09:00:00.000Z INFO  message key=value …` from one pino JSON line. */
export function textLine(jsonLine: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const { time, level, msg, ...fields } = record;
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const head = [text(time), text(level).toUpperCase().padEnd(5), text(msg)];
  const tail = Object.entries(fields)
    .filter(([key]) => key !== 'name')
    .map(([key, value]) => `${key}=${textValue(value)}`);
  return `${[...head, ...tail].join(' ')}\n`;
}

/** Bare when unambiguous, else JSON (quoted strings, objects), as logfmt readers expect. */
function textValue(value: unknown): string {
  if (typeof value === 'string' && /^[^\s"=]+$/.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
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
