/**
 * One JSON entry with a severity per log line, for everything a function instance writes, not only
 * our own logs. functions-framework 5 writes with `console`: a handler that throws is logged as
 * `console.error(err.stack)` (a multi-line plain trace), an uncaught exception as
 * 'Uncaught exception' followed by the trace, an exit as 'Process exited with code 16' with a
 * trace; libraries (ioredis, the Google clients) use `console` too, and Node prints warnings as
 * plain text. Cloud Logging turns each plain line into an entry of its own without a severity.
 */
import { format } from 'node:util';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { FleetError, isTransient } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { isKnownLibraryWarning } from './known-warnings.js';

const CONSOLE_LEVELS = [
  ['debug', 'debug'],
  ['trace', 'debug'],
  ['log', 'info'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
] as const;
/** Cloud Logging takes entries up to 256 KB; a library printing a whole payload must not reach that. */
const MAX_CONSOLE_MESSAGE_CHARS = 16 * 1024;
const MAX_EVENT_ID_CHARS = 256;

let installed: Logger | undefined;

/**
 * Called once by each entry point when it loads (later calls only return a logger): routes
 * `console` and Node's warnings through pino and logs uncaught exceptions as CRITICAL entries. It
 * changes no crash behaviour: functions-framework still answers 500 and exits on an uncaught
 * exception, and its own lines about it arrive as entries too.
 */
export function installProcessLogging(name: string): Logger {
  if (installed !== undefined) return createLogger({ name });
  const logger = createLogger({ name });
  routeConsoleToLogger(logger);
  // A monitor observes without handling: the process still crashes as it would have.
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    logger.fatal(
      { err: error, origin },
      `${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}: the instance exits`,
    );
  });
  // Node's default warning printer is the only 'warning' listener; replace it with an entry.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (isKnownLibraryWarning(warning)) logger.debug({ err: warning }, warning.message);
    else logger.warn({ err: warning }, warning.message);
  });
  installed = logger;
  return logger;
}

/** Sends console.* to `logger`, one entry per call; returns the function that puts console back. */
export function routeConsoleToLogger(logger: Logger): () => void {
  const saved = CONSOLE_LEVELS.map(([method]) => [method, console[method]] as const);
  for (const [method, level] of CONSOLE_LEVELS) {
    console[method] = (...args: unknown[]) => {
      const [first] = args;
      if (args.length === 1 && first instanceof Error) logger[level]({ err: first }, first.message);
      else logger[level](format(...args).slice(0, MAX_CONSOLE_MESSAGE_CHARS));
    };
  }
  return () => {
    for (const [method, original] of saved) console[method] = original;
  };
}

/**
 * Wraps a CloudEvent handler: a failure is logged once, as one ERROR entry with the event's id and
 * type, the error's code and whether it is transient, and rethrown so the framework answers 500
 * and Pub/Sub redelivers. The framework then logs the thrown error's `stack`; the rethrown error's
 * stack is one line that points at the entry, so the trace is not logged twice.
 */
export function withFailureLog<T>(
  name: string,
  logger: Logger,
  handler: (event: CloudEvent<T>) => Promise<void>,
): (event: CloudEvent<T>) => Promise<void> {
  return async (event) => {
    try {
      await handler(event);
    } catch (error) {
      const transient = isTransient(error);
      const id: unknown = event?.id;
      logger.error(
        {
          err: error,
          function: name,
          cloudevent_id: typeof id === 'string' ? id.slice(0, MAX_EVENT_ID_CHARS) : undefined,
          cloudevent_type:
            typeof event?.type === 'string' ? event.type.slice(0, MAX_EVENT_ID_CHARS) : undefined,
          transient,
        },
        `${name} failed; the event will be redelivered`,
      );
      const failure = new FleetError(
        'invocation_failed',
        `${name} failed; see the ERROR entry logged just before`,
        {
          cause: error,
          transient,
        },
      );
      failure.stack = `${failure.name} [${failure.code}]: ${failure.message}`;
      throw failure;
    }
  };
}
