import type { SignatureFailure } from './request-signature.js';

/** Stable error codes of the ingest gateway: clients and dashboards key on them (README lists them). */
export type IngressErrorCode =
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_query'
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'unsupported_content_encoding'
  | 'length_required'
  | 'invalid_content_length'
  | 'body_too_large'
  | SignatureFailure
  | 'malformed_json'
  | 'not_an_object'
  | 'invalid_batch'
  | 'empty_batch'
  | 'batch_too_large'
  | 'vehicle_mismatch'
  | 'no_valid_readings'
  | 'rate_limited'
  | 'rate_limiter_unavailable'
  | 'publish_unavailable'
  | 'unavailable'
  | 'internal';

/** An HTTP answer as plain data: the hono app and the function's bridge turn it into a response. */
export interface IngressResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export function errorResponse(
  status: number,
  code: IngressErrorCode,
  message: string,
  options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
): IngressResponse {
  return {
    status,
    body: { error: { code, message }, ...options.extra },
    headers: { 'cache-control': 'no-store', ...options.headers },
  };
}

/** Retry-After in whole seconds, at least 1. */
export function retryAfterHeader(ms: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}
