/**
 * BigQuery REST errors, shaped exactly like Google's JSON error body so the official client builds the
 * same `ApiError` (code, message, errors[].reason) it would against the real API.
 */

export type BigQueryErrorReason =
  | 'invalid'
  | 'invalidQuery'
  | 'notFound'
  | 'duplicate'
  | 'resourceInUse'
  | 'notImplemented'
  | 'backendError'
  | 'stopped';

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'ALREADY_EXISTS',
  413: 'INVALID_ARGUMENT',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
};

export interface ErrorProto {
  message: string;
  domain?: string;
  reason: BigQueryErrorReason;
  location?: string;
  locationType?: string;
  debugInfo?: string;
}

/** An error answered to the client as a Google JSON error body; `code` is stable for callers in Node. */
export class BigQueryApiError extends Error {
  override readonly name = 'BigQueryApiError';
  readonly code: 'BIGQUERY_STANDIN_API_ERROR' = 'BIGQUERY_STANDIN_API_ERROR';

  constructor(
    readonly httpStatus: number,
    readonly reason: BigQueryErrorReason,
    message: string,
    readonly location?: { location: string; locationType: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The `ErrorProto` the API puts in `errors[]` and in a failed job's `status.errorResult`. */
  toErrorProto(): ErrorProto {
    return {
      message: this.message,
      domain: 'global',
      reason: this.reason,
      ...(this.location ?? {}),
    };
  }

  toResponseBody(): { error: { code: number; message: string; errors: ErrorProto[]; status: string } } {
    return {
      error: {
        code: this.httpStatus,
        message: this.message,
        errors: [this.toErrorProto()],
        status: STATUS_BY_CODE[this.httpStatus] ?? 'UNKNOWN',
      },
    };
  }
}

export const invalid = (message: string): BigQueryApiError => new BigQueryApiError(400, 'invalid', message);

export const notFound = (message: string): BigQueryApiError =>
  new BigQueryApiError(404, 'notFound', `Not found: ${message}`);

export const alreadyExists = (message: string): BigQueryApiError =>
  new BigQueryApiError(409, 'duplicate', `Already Exists: ${message}`);

/** Query errors carry `location: "q"` like the real API (the offending request parameter). */
export const invalidQuery = (message: string, options?: { cause?: unknown }): BigQueryApiError =>
  new BigQueryApiError(400, 'invalidQuery', message, { location: 'q', locationType: 'parameter' }, options);

export const notImplemented = (message: string): BigQueryApiError =>
  new BigQueryApiError(501, 'notImplemented', `${message} is not supported by the BigQuery stand-in`);
