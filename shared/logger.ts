import { pino } from 'pino';

/**
 * Structured JSON logs in the shape Cloud Logging parses: `severity` instead of pino's numeric
 * level, `message` instead of `msg`, one line per entry. The level comes from config (LOG_LEVEL)
 * via createLogger. Nested objects are cut by pino (5 levels, 100 keys per object); errors are
 * cut here, since an error's message may quote input of any size.
 */
const severityByLevel: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

const MAX_ERROR_MESSAGE_CHARS = 2048;
const MAX_ERROR_STACK_CHARS = 8192;

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go; stdout by default (tests pass a collector). */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? 'info',
    messageKey: 'message',
    base: options.name === undefined ? null : { logger: options.name },
    formatters: {
      level: (label) => ({ severity: severityByLevel[label] ?? 'DEFAULT' }),
    },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

/** pino's error serializer (type, message, stack, causes, own fields), with message and stack bounded. */
export function serializeError(error: unknown): unknown {
  if (typeof error === 'string') return error.slice(0, MAX_ERROR_MESSAGE_CHARS);
  const serialized: unknown = pino.stdSerializers.err(error as Error);
  if (typeof serialized !== 'object' || serialized === null || serialized === error) return serialized;
  const fields = serialized as Record<string, unknown>;
  if (typeof fields.message === 'string') fields.message = fields.message.slice(0, MAX_ERROR_MESSAGE_CHARS);
  if (typeof fields.stack === 'string') fields.stack = fields.stack.slice(0, MAX_ERROR_STACK_CHARS);
  return fields;
}
