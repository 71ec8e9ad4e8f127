import { FleetError } from '../errors.js';

/**
 * Classifies errors from the Google Cloud clients (Storage, BigQuery). They surface the HTTP status
 * as a numeric `code` (ApiError) or as `status` / `response.status` (Gaxios); network failures
 * carry a string code (ECONNRESET, ETIMEDOUT, ...) and no status at all.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const value of [candidate.code, candidate.status, candidate.response?.status]) {
    if (typeof value === 'number' && value >= 100 && value <= 599) return value;
  }
  return undefined;
}

/** 408, 429 and 5xx are worth retrying; so is a failure that never got an HTTP response. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * Wraps a client error in a FleetError: `transient_sink` when retrying later may succeed,
 * `sink_rejected` (not transient) when the request itself is wrong (other 4xx: bad request,
 * permission denied, missing bucket), which no amount of redelivery fixes.
 */
export function toSinkError(
  error: unknown,
  message: string,
  metadata: Record<string, unknown> = {},
): FleetError {
  if (error instanceof FleetError) return error;
  const status = httpStatusOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const withStatus = { ...metadata, ...(status === undefined ? {} : { status }) };
  return isRetryableStatus(status)
    ? new FleetError('transient_sink', `${message}: ${detail}`, { cause: error, metadata: withStatus })
    : new FleetError('sink_rejected', `${message}: ${detail}`, {
        cause: error,
        metadata: withStatus,
        transient: false,
      });
}
