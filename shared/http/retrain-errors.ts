import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { FleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ModelError, type ModelErrorCode } from '../model/model-error.js';

/**
 * Errors of the retraining functions as HTTP answers, `{"error": {"code", "message", ...}}`, with a
 * stable code: 4xx for a request that is wrong or cannot be done now (never retry as is), 503 for a
 * backend that may answer on retry (Workflows' default retry predicate retries 429 and 502-504),
 * 500 for what needs a person (configuration, a broken artifact).
 */
const STATUS: Record<ModelErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  model_not_found: 404,
  run_not_found: 404,
  champion_moved: 409,
  no_champion: 409,
  quality_failed: 422,
  insufficient_data: 422,
  gate_not_passed: 422,
  invalid_task: 500,
  feature_not_point_in_time: 500,
  invalid_expectations: 500,
  invalid_artifact: 500,
};

export class RequestError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'invalid_json' | 'not_found',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export function errorAnswer(error: unknown): {
  status: ContentfulStatusCode;
  body: { error: Record<string, unknown> };
} {
  if (error instanceof RequestError) {
    return {
      status: error.code === 'not_found' ? 404 : 400,
      body: { error: { code: error.code, message: error.message, ...error.details } },
    };
  }
  if (error instanceof ModelError) {
    return {
      status: STATUS[error.code],
      body: { error: { code: error.code, message: error.message, ...error.metadata } },
    };
  }
  if (error instanceof FleetError) {
    return error.transient
      ? { status: 503, body: { error: { code: 'backend_unavailable', message: `${error.message}; retry` } } }
      : {
          status: 500,
          body: {
            error: {
              code: error.code === 'config_invalid' ? error.code : 'backend_error',
              message: error.message,
            },
          },
        };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

/** Hono's onError: the answer, and one log entry for what is not the caller's fault. */
export function answerError(logger: () => Logger | undefined) {
  return (error: Error, c: Context) => {
    const { status, body } = errorAnswer(error);
    if (status >= 500)
      logger()?.error({ err: error, path: c.req.path, code: body.error.code }, 'request failed');
    return c.json(body, status);
  };
}

const MAX_BODY_BYTES = 256 * 1024;

/** The JSON body, checked against a schema; RequestError naming each problem otherwise. */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new RequestError('invalid_request', `body over ${MAX_BODY_BYTES} bytes`);
  let document: unknown;
  try {
    document = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new RequestError('invalid_json', 'the body is not JSON');
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || '(body)',
      message: i.message,
    }));
    throw new RequestError('invalid_request', problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
      problems,
    });
  }
  return parsed.data;
}

const MAX_INTERVAL_MS = 92 * 86_400_000;
const instant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** A half-open interval [start, end) of ISO 8601 instants with an offset, at most 92 days long. */
export function intervalSchema<S extends string, E extends string>(startKey: S, endKey: E) {
  return z
    .object({ [startKey]: instant, [endKey]: instant } as { [K in S | E]: typeof instant })
    .refine((v) => (v as Record<string, number>)[endKey]! > (v as Record<string, number>)[startKey]!, {
      message: `${endKey} must be after ${startKey}`,
    })
    .refine(
      (v) =>
        (v as Record<string, number>)[endKey]! - (v as Record<string, number>)[startKey]! <= MAX_INTERVAL_MS,
      {
        message: 'at most 92 days',
      },
    );
}
