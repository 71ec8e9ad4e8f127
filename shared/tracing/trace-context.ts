/**
 * W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/): carried from the device
 * through the gateway and Pub/Sub message attributes into the feature function's log lines, so one
 * reading can be followed end to end in Cloud Logging. A value that is not a valid traceparent is
 * ignored, never an error: tracing must not refuse a reading. Pure except for the random ids.
 */
import { randomBytes } from 'node:crypto';

export const TRACEPARENT = 'traceparent';

export interface TraceContext {
  /** 32 lowercase hex, not all zero. */
  traceId: string;
  /** 16 lowercase hex, not all zero: the span this context names (the parent of the next). */
  spanId: string;
  /** The caller records this trace (flags bit 0): the feature function logs its message at INFO. */
  sampled: boolean;
}

// version-traceid-parentid-flags; a later version may append fields after a '-'.
const PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const match = PATTERN.exec(value);
  if (match === null) return undefined;
  const [, version, traceId = '', spanId = '', flags = '', rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/** A new trace (a device, or a gateway request that came without one). */
export function startTrace(sampled: boolean): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), sampled };
}

/** The next hop's own span in the same trace: what it logs under and passes on. */
export function childSpan(parent: TraceContext): TraceContext {
  return { ...parent, spanId: randomHex(8) };
}

/** Cloud Logging's special fields of a structured entry: the entry joins the trace in Logs Explorer and Trace. */
export function cloudLoggingTraceFields(context: TraceContext, projectId: string): Record<string, unknown> {
  return {
    'logging.googleapis.com/trace': `projects/${projectId}/traces/${context.traceId}`,
    'logging.googleapis.com/spanId': context.spanId,
    'logging.googleapis.com/trace_sampled': context.sampled,
  };
}

function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (/[^0]/.test(hex)) return hex;
  }
}
