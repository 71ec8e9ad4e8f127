/**
 * Typed errors with a stable `code`. Expected failures (an invalid reading) are values, not
 * exceptions; these are for the unexpected: a transient failure the caller should retry (Pub/Sub
 * redelivers when a function throws) or a configuration mistake that must stop start-up.
 */
export type FleetErrorCode =
  | 'config_invalid'
  | 'transient_redis'
  | 'transient_sink'
  | 'sink_rejected'
  | 'invalid_identifier'
  | 'internal'
  /** A function invocation failed and was logged; thrown to the framework so the event is redelivered. */
  | 'invocation_failed';

export class FleetError extends Error {
  readonly code: FleetErrorCode;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Whether retrying the same work later may succeed. */
  readonly transient: boolean;

  constructor(
    code: FleetErrorCode,
    message: string,
    options: { cause?: unknown; metadata?: Record<string, unknown>; transient?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetError';
    this.code = code;
    this.metadata = options.metadata ?? {};
    this.transient = options.transient ?? code.startsWith('transient_');
  }
}

export function isTransient(error: unknown): boolean {
  return error instanceof FleetError ? error.transient : true;
}
