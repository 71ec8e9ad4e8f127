import type { BoundedRaw } from './bounded-raw.js';

/** Why a message or reading was refused. Stable codes: dashboards, DLQ attributes and tests key on them. */
export type TelemetryRejectReason =
  // the whole message
  | 'malformed_json'
  | 'message_too_large'
  | 'not_an_object'
  | 'batch_too_large'
  | 'empty_batch'
  | 'invalid_batch'
  // one reading
  | 'nested_batch'
  | 'too_deeply_nested'
  | 'invalid_field'
  | 'missing_field'
  | 'out_of_range'
  | 'invalid_vehicle_id'
  | 'invalid_event_id'
  | 'invalid_timestamp'
  | 'timestamp_in_future'
  | 'timestamp_too_old';

export interface TelemetryIssue {
  /** Where, e.g. `readings[3].speed_kmh`; `''` is the message itself. */
  path: string;
  message: string;
  reason: TelemetryRejectReason;
}

export interface TelemetryReject {
  /** Position in a `{"readings": [...]}` batch; null for a single reading or a whole-message reject. */
  index: number | null;
  /** The most telling issue's reason (see REASON_PRIORITY). */
  reason: TelemetryRejectReason;
  message: string;
  /** Every problem found, each with its field path. */
  issues: TelemetryIssue[];
  /**
   * What was refused, for the quarantine: the reading as decoded, or for a whole message the parsed
   * value or the decoded text (malformed JSON). Always safe to serialize with JSON.stringify and
   * small: a value too large or too deep is replaced by a preview string (see `rawTruncated`).
   */
  raw: unknown;
  /** `raw` is only the start of the refused input's text (it was too large or too deep to keep). */
  rawTruncated: boolean;
}

/** When a reading has several problems, the reject carries the first of these that occurs. */
export const REASON_PRIORITY: readonly TelemetryRejectReason[] = [
  'malformed_json',
  'message_too_large',
  'not_an_object',
  'invalid_batch',
  'batch_too_large',
  'empty_batch',
  'nested_batch',
  'too_deeply_nested',
  'invalid_vehicle_id',
  'invalid_event_id',
  'missing_field',
  'invalid_timestamp',
  'timestamp_too_old',
  'timestamp_in_future',
  'invalid_field',
  'out_of_range',
];

/** `refused` comes from `boundRaw`/`boundText`, so no reject ever holds an unbounded value. */
export function rejectFrom(
  index: number | null,
  issues: [TelemetryIssue, ...TelemetryIssue[]],
  refused: BoundedRaw,
): TelemetryReject {
  const first = issues.reduce((best, issue) =>
    REASON_PRIORITY.indexOf(issue.reason) < REASON_PRIORITY.indexOf(best.reason) ? issue : best,
  );
  const where = index === null ? '' : `reading ${index}: `;
  const details = issues.map((issue) => (issue.path ? `${issue.path} ${issue.message}` : issue.message));
  const message =
    issues.length === 1
      ? `${where}${details[0]}`
      : `${where}${issues.length} problems: ${details.join('; ')}`;
  return {
    index,
    reason: first.reason,
    message,
    issues,
    raw: refused.raw,
    rawTruncated: refused.rawTruncated,
  };
}

/** A short, safe description of a JSON value for messages (never echoes more than 40 characters). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
    return `the string ${shown}${value.length > 40 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : `the non-finite number ${value}`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
