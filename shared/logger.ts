import { pino } from 'pino';

/**
 * Structured JSON logs in the shape Cloud Logging parses: `severity` instead of pino's numeric
 * level, `message` instead of `msg`. The level comes from config (LOG_LEVEL) via createLogger.
 */
const severityByLevel: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export type Logger = pino.Logger;

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    messageKey: 'message',
    base: options.name === undefined ? null : { logger: options.name },
    formatters: {
      level: (label) => ({ severity: severityByLevel[label] ?? 'DEFAULT' }),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
