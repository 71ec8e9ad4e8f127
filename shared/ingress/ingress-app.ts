import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TRACEPARENT } from '../tracing/trace-context.js';
import { type IngestDeps, ingestTelemetry } from './ingest-telemetry.js';
import { errorResponse, type IngressResponse } from './ingress-response.js';
import { bodyTooLarge, checkContentType, checkDeclaredBody } from './request-checks.js';
import { SIGNATURE_HEADERS, TELEMETRY_ROUTE } from './request-signature.js';

/**
 * The ingest gateway's HTTP surface (hono): POST /v1/telemetry[?wait=true]. Every answer is JSON
 * with a stable `error.code` when it is a refusal; nothing of an error's inside (stack, cause,
 * configuration) ever reaches a response. Runs on any fetch-style runtime: the function's bridge
 * (shared/runtime/fetch-bridge.ts) and `app.request` in tests.
 */
export function createIngressApp(deps: IngestDeps): Hono {
  const app = new Hono();
  const maxBodyBytes = deps.limits.maxBodyBytes;

  app.post(TELEMETRY_ROUTE, async (c) => {
    const wait = c.req.query('wait');
    if (wait !== undefined && wait !== 'true' && wait !== 'false') {
      return send(c, errorResponse(400, 'invalid_query', 'wait must be true or false'));
    }
    const headers = c.req.raw.headers;
    // An empty header is no header.
    const header = (name: string) => headers.get(name) || undefined;
    const refused =
      checkContentType(header('content-type')) ??
      checkDeclaredBody(
        {
          contentLength: header('content-length'),
          transferEncoding: header('transfer-encoding'),
          contentEncoding: header('content-encoding'),
        },
        maxBodyBytes,
      );
    if (refused) return send(c, refused);
    const body = await readAtMost(c.req.raw, maxBodyBytes);
    if (body === null) return send(c, bodyTooLarge(maxBodyBytes));
    const answer = await ingestTelemetry(deps, {
      signature: {
        deviceId: header(SIGNATURE_HEADERS.deviceId),
        timestamp: header(SIGNATURE_HEADERS.timestamp),
        signature: header(SIGNATURE_HEADERS.signature),
      },
      body,
      wait: wait === 'true',
      traceparent: header(TRACEPARENT),
    });
    if (answer.status >= 400 && answer.status < 500) {
      const { code } = answer.body.error as { code: string };
      deps.logger.debug({ status: answer.status, code }, 'telemetry request refused');
    }
    return send(c, answer);
  });
  app.all(TELEMETRY_ROUTE, (c) =>
    send(c, errorResponse(405, 'method_not_allowed', 'use POST', { headers: { allow: 'POST' } })),
  );
  app.notFound((c) =>
    send(c, errorResponse(404, 'not_found', `unknown route; devices POST ${TELEMETRY_ROUTE}`)),
  );
  app.onError((error, c) => {
    deps.logger.error({ err: error }, 'ingest request failed');
    return send(c, errorResponse(500, 'internal', 'internal error'));
  });
  return app;
}

function send(c: Context, answer: IngressResponse): Response {
  return c.json(answer.body, answer.status as ContentfulStatusCode, answer.headers);
}

/** The body, or null as soon as it passes `max` bytes (the rest is never read). */
async function readAtMost(request: Request, max: number): Promise<Uint8Array | null> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
