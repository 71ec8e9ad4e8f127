import { FleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MessagePublisher } from '../ports/dead-letter.js';
import type { ModelScoring } from '../ports/model-scoring.js';
import type { RateDecision, RateLimiter } from '../ports/rate-limiter.js';
import type { ReadingStatusReader } from '../ports/reading-status.js';
import type { FeatureRow } from '../rows/feature-row.js';
import {
  parseTelemetryMessage,
  type TelemetryReading,
  type TelemetryReject,
  type TelemetryRejectReason,
} from '../telemetry/index.js';
import {
  childSpan,
  formatTraceparent,
  parseTraceparent,
  startTrace,
  TRACEPARENT,
} from '../tracing/trace-context.js';
import {
  errorResponse,
  type IngressErrorCode,
  type IngressResponse,
  retryAfterHeader,
} from './ingress-response.js';
import { type OutgoingReading, packMessages } from './outgoing-messages.js';
import { readingSpans } from './raw-reading-spans.js';
import { ReadAfterWrite, type WaitOutcome } from './read-after-write.js';
import { type SignatureHeaders, verifyRequestSignature } from './request-signature.js';

export interface IngestLimits {
  /** Largest request body (bytes). */
  maxBodyBytes: number;
  /** Most readings in one request, and in one message to the feature function. */
  maxBatchReadings: number;
  /** Largest message the feature function accepts (its MAX_MESSAGE_BYTES). */
  maxMessageBytes: number;
  maxFutureSkewMs: number;
  signatureMaxSkewMs: number;
}

export interface IngestDeps {
  /** Current fleet secret first, then the one being rotated out. */
  fleetSecrets: readonly string[];
  rateLimiter: RateLimiter;
  publisher: MessagePublisher;
  /** telemetry-raw. */
  topic: string;
  /** Longest wait for Pub/Sub's acknowledgement before answering 503. */
  publishTimeoutMs: number;
  readingStatus: ReadingStatusReader;
  /** Scores `?wait=true` rows as the feature function does (absent: rows keep risk_score null). */
  models?: ModelScoring;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
  limits: IngestLimits;
  wait: { timeoutMs: number; pollMs: number };
}

export interface IngestRequest {
  signature: SignatureHeaders;
  body: Uint8Array;
  wait: boolean;
  /** The request's W3C `traceparent` header; a new trace is started when it is absent or invalid. */
  traceparent?: string | undefined;
}

/** Reasons that refuse the whole message (index null), not one reading of it, as HTTP answers. */
const MESSAGE_ERRORS = {
  malformed_json: [400, 'malformed_json'],
  not_an_object: [400, 'not_an_object'],
  invalid_batch: [400, 'invalid_batch'],
  empty_batch: [400, 'empty_batch'],
  batch_too_large: [413, 'batch_too_large'],
  message_too_large: [413, 'body_too_large'],
} as const satisfies Partial<Record<TelemetryRejectReason, readonly [number, IngressErrorCode]>>;
type MessageReason = keyof typeof MESSAGE_ERRORS;
const isMessageReason = (reason: TelemetryRejectReason): reason is MessageReason =>
  Object.hasOwn(MESSAGE_ERRORS, reason);
/** How long a client should wait before retrying when a backend is down. */
const UNAVAILABLE_RETRY_MS = 2000;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

interface RejectSummary {
  index: number | null;
  reason: TelemetryRejectReason;
  message: string;
}

const summary = (reject: TelemetryReject): RejectSummary => ({
  index: reject.index,
  reason: reject.reason,
  message: reject.message,
});

/**
 * POST /v1/telemetry after the HTTP checks: authenticate, validate with the telemetry contract
 * (the feature function's own parser), rate limit, publish the accepted readings exactly as sent,
 * and answer once Pub/Sub has stored them (with `wait`, once the feature function has applied
 * them). Expected refusals are answers; only a bug throws.
 */
export async function ingestTelemetry(deps: IngestDeps, request: IngestRequest): Promise<IngressResponse> {
  const nowMs = deps.clock();
  const auth = verifyRequestSignature({
    headers: request.signature,
    body: request.body,
    fleetSecrets: deps.fleetSecrets,
    nowMs,
    maxSkewMs: deps.limits.signatureMaxSkewMs,
  });
  if (!auth.ok) return errorResponse(401, auth.code, auth.message);
  const deviceId = auth.deviceId;

  let text: string | null = null;
  try {
    text = strictUtf8.decode(request.body); // drops a leading byte order mark, as the parser does
  } catch {
    text = null; // the parser explains invalid UTF-8 in its own words
  }
  const parsed = parseTelemetryMessage(text ?? request.body, {
    nowMs,
    maxFutureSkewMs: deps.limits.maxFutureSkewMs,
    maxBatch: deps.limits.maxBatchReadings,
    maxBytes: deps.limits.maxBodyBytes,
  });
  const wholeReject =
    parsed.readings.length === 0 && parsed.rejects.length === 1 && isMessageReason(parsed.rejects[0]!.reason)
      ? parsed.rejects[0]!
      : undefined;

  // Every signed request costs at least a token, so no device can hammer the parser for free.
  const cost = wholeReject ? 1 : parsed.readings.length + parsed.rejects.length;
  let decision: RateDecision;
  try {
    decision = await deps.rateLimiter.take(deviceId, cost);
  } catch (error) {
    deps.logger.error(
      { err: error, device_id: deviceId },
      'rate limiter unavailable: refusing (fail closed)',
    );
    return errorResponse(503, 'rate_limiter_unavailable', 'rate limiter unavailable, retry later', {
      headers: retryAfterHeader(UNAVAILABLE_RETRY_MS),
    });
  }
  if (!decision.allowed) {
    return errorResponse(429, 'rate_limited', `device ${deviceId} is over its rate limit`, {
      extra: { retry_after_ms: decision.retryAfterMs },
      headers: retryAfterHeader(decision.retryAfterMs),
    });
  }

  if (wholeReject) {
    const [status, code] = MESSAGE_ERRORS[wholeReject.reason as MessageReason];
    return errorResponse(status, code, wholeReject.message);
  }

  const foreign = foreignVehicle(deviceId, parsed.readings, parsed.rejects);
  if (foreign) {
    return errorResponse(
      403,
      'vehicle_mismatch',
      `${foreign.index === null ? 'a reading' : `reading ${foreign.index}`} is for another vehicle than the signing device ${deviceId}`,
    );
  }

  const accepted =
    parsed.readings.length === 0 ? [] : acceptedWithText(text!, parsed.readings, parsed.rejects);
  const packed = packMessages(
    accepted.map((a) => a.outgoing),
    { maxBytes: deps.limits.maxMessageBytes, maxReadings: deps.limits.maxBatchReadings },
  );
  const rejects: RejectSummary[] = parsed.rejects.map(summary);
  const oversized = new Set(packed.oversized.map((o) => o.index));
  for (const o of packed.oversized) {
    rejects.push({
      index: o.index,
      reason: 'message_too_large',
      message: `reading is ${o.bytes} bytes; a message to the pipeline holds at most ${deps.limits.maxMessageBytes}`,
    });
  }
  rejects.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const sent = accepted.filter((a) => !oversized.has(a.outgoing.index));
  if (sent.length === 0) {
    return errorResponse(422, 'no_valid_readings', 'no reading in the request is valid', {
      extra: { accepted: 0, rejected: rejects.length, rejects },
    });
  }

  const watch = request.wait
    ? new ReadAfterWrite(
        {
          readingStatus: deps.readingStatus,
          ...(deps.models === undefined ? {} : { models: deps.models }),
          clock: deps.clock,
          sleep: deps.sleep,
          logger: deps.logger,
          ...deps.wait,
        },
        deviceId,
        sent.map((a) => ({ index: a.outgoing.index, reading: a.reading })),
      )
    : undefined;
  await watch?.before();

  // The gateway's span of the request's trace rides on every message, to the feature function's logs.
  const caller = parseTraceparent(request.traceparent);
  const attributes = {
    source: 'ingest-gateway',
    device_id: deviceId,
    [TRACEPARENT]: formatTraceparent(caller === undefined ? startTrace(false) : childSpan(caller)),
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const published = Promise.all(
      packed.messages.map((message) => deps.publisher.publish(deps.topic, message.data, attributes)),
    );
    // The client's own deadline can run long while it reconnects; the device is told to retry
    // (a publish that still lands later makes the retry a duplicate, which changes nothing).
    await Promise.race([
      published,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new FleetError(
                'transient_sink',
                `no Pub/Sub acknowledgement within ${deps.publishTimeoutMs} ms`,
              ),
            ),
          deps.publishTimeoutMs,
        );
      }),
    ]);
  } catch (error) {
    if (error instanceof FleetError && !error.transient) throw error;
    deps.logger.error({ err: error, device_id: deviceId }, 'publishing telemetry failed');
    return errorResponse(503, 'publish_unavailable', 'could not hand the readings to Pub/Sub, retry later', {
      headers: retryAfterHeader(UNAVAILABLE_RETRY_MS),
    });
  } finally {
    clearTimeout(timer);
  }

  const counts = { accepted: sent.length, rejected: rejects.length, rejects };
  if (watch === undefined) return { status: 202, body: counts, headers: { 'cache-control': 'no-store' } };
  const outcome: WaitOutcome = await watch.until();
  const rows: FeatureRow[] = outcome.readings.flatMap((r) => (r.row === null ? [] : [r.row]));
  return {
    status: outcome.complete ? 200 : 202,
    body: {
      ...counts,
      wait: { complete: outcome.complete, waited_ms: outcome.waitedMs, readings: outcome.readings },
      rows,
    },
    headers: { 'cache-control': 'no-store' },
  };
}

/** The first reading (accepted, or refused but legible) that names another vehicle. */
function foreignVehicle(
  deviceId: string,
  readings: readonly TelemetryReading[],
  rejects: readonly TelemetryReject[],
): { index: number | null } | undefined {
  if (readings.some((reading) => reading.vehicle_id !== deviceId)) return { index: null };
  for (const reject of rejects) {
    const raw = reject.raw;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) continue;
    const vehicleId = (raw as Record<string, unknown>).vehicle_id;
    if (typeof vehicleId === 'string' && vehicleId !== deviceId) return { index: reject.index };
  }
  return undefined;
}

interface AcceptedReading {
  outgoing: OutgoingReading;
  reading: TelemetryReading;
}

/** Each accepted reading with its text as sent (the parser keeps batch order, refusals aside). */
function acceptedWithText(
  text: string,
  readings: readonly TelemetryReading[],
  rejects: readonly TelemetryReject[],
): AcceptedReading[] {
  const spans = readingSpans(text);
  if (spans === null) {
    if (readings.length !== 1)
      throw new FleetError('internal', 'a single-reading body parsed to several readings');
    return [{ outgoing: { index: null, text }, reading: readings[0]! }];
  }
  if (spans.length !== readings.length + rejects.length) {
    throw new FleetError('internal', 'the batch scanner disagrees with the parser', {
      metadata: { spans: spans.length, elements: readings.length + rejects.length },
    });
  }
  const refused = new Set(rejects.map((r) => r.index));
  const accepted: AcceptedReading[] = [];
  let next = 0;
  spans.forEach(([start, end], index) => {
    if (refused.has(index)) return;
    accepted.push({ outgoing: { index, text: text.slice(start, end) }, reading: readings[next++]! });
  });
  return accepted;
}
