import { boundRaw } from './bounded-raw.js';
import { deriveEventId } from './telemetry-event-id.js';
import {
  DEFAULT_MAX_FUTURE_SKEW_MS,
  EVENT_ID_PATTERN,
  FIELD_RANGES,
  KNOWN_FIELDS,
  type KnownField,
  MAX_READING_DEPTH,
  type NumericField,
  REQUIRED_NUMERIC_FIELDS,
  type TelemetryReading,
  telemetryReadingWireSchema,
  VEHICLE_ID_PATTERN,
} from './telemetry-reading.js';
import { describeValue, rejectFrom, type TelemetryIssue, type TelemetryReject } from './telemetry-reject.js';
import { checkClockSkew, normalizeTimestamp } from './telemetry-timestamp.js';

export interface TelemetryClockOptions {
  /** The receiving clock, epoch ms. Passed in so validation stays pure and testable. */
  nowMs: number;
  /** How far ahead of `nowMs` a reading may be stamped. Default 5 minutes. */
  maxFutureSkewMs?: number;
}

export type TelemetryReadingResult =
  | { ok: true; reading: TelemetryReading }
  | { ok: false; reject: TelemetryReject };

const KNOWN = new Set<string>(KNOWN_FIELDS);
const REQUIRED = new Set<string>(['vehicle_id', 'timestamp', ...REQUIRED_NUMERIC_FIELDS]);

/**
 * Judges one decoded reading (a value from JSON.parse) against contract v1 and normalizes it.
 * `index` is its position in a batch, null for a single reading. Every problem is reported, each
 * with its path; never throws for plain JSON data.
 */
export function validateTelemetryReading(
  value: unknown,
  options: TelemetryClockOptions,
  index: number | null = null,
): TelemetryReadingResult {
  const root = index === null ? '' : `readings[${index}]`;
  const pathOf = (field: string) => (root ? `${root}.${field}` : field);
  const fail = (issues: [TelemetryIssue, ...TelemetryIssue[]]): TelemetryReadingResult => ({
    ok: false,
    reject: rejectFrom(index, issues, boundRaw(value)),
  });

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail([
      { path: root, reason: 'not_an_object', message: `must be a JSON object, got ${describeValue(value)}` },
    ]);
  }
  const fields = value as Record<string, unknown>;
  if (Object.hasOwn(fields, 'readings')) {
    return fail([
      {
        path: pathOf('readings'),
        reason: 'nested_batch',
        message: 'is reserved for the batch envelope; a reading cannot hold readings',
      },
    ]);
  }
  if (exceedsDepth(fields, MAX_READING_DEPTH)) {
    return fail([
      { path: root, reason: 'too_deeply_nested', message: `nests deeper than ${MAX_READING_DEPTH} levels` },
    ]);
  }

  // zod sees only the contract's fields: the schema is loose, so unknown fields pass it untouched,
  // and walking them there too made a 100k-key reading cost three passes instead of one.
  const contractFields: Record<string, unknown> = {};
  for (const field of KNOWN_FIELDS) if (Object.hasOwn(fields, field)) contractFields[field] = fields[field];
  const parsed = telemetryReadingWireSchema.safeParse(contractFields);
  const zodMessages = new Map<string, string>();
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const field = String(issue.path[0] ?? '');
    if (!zodMessages.has(field)) zodMessages.set(field, issue.message);
  }

  const issues: TelemetryIssue[] = [];
  let eventTsMs: number | null = null;
  for (const field of KNOWN_FIELDS) {
    const raw = fields[field];
    if (field === 'timestamp') {
      const ts = normalizeTimestamp(raw);
      if (!ts.ok) {
        issues.push({ path: pathOf(field), reason: ts.reason, message: ts.message });
      } else if (zodMessages.has(field)) {
        // The schema and the normalizer disagree: trust the stricter one.
        issues.push({ path: pathOf(field), reason: 'invalid_timestamp', message: zodMessages.get(field)! });
      } else {
        eventTsMs = ts.ms;
        const skew = checkClockSkew(
          ts.ms,
          options.nowMs,
          options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS,
        );
        if (skew) issues.push({ path: pathOf(field), reason: 'timestamp_in_future', message: skew });
      }
      continue;
    }
    const zodMessage = zodMessages.get(field);
    if (zodMessage !== undefined) {
      issues.push({ path: pathOf(field), ...explainField(field, raw, zodMessage) });
    }
  }
  for (const [field, message] of zodMessages) {
    if (!KNOWN.has(field)) issues.push({ path: pathOf(field), reason: 'invalid_field', message });
  }

  const [firstIssue, ...moreIssues] = issues;
  if (firstIssue) return fail([firstIssue, ...moreIssues]);
  if (eventTsMs === null) {
    return fail([{ path: pathOf('timestamp'), reason: 'invalid_timestamp', message: 'could not be read' }]);
  }

  const vehicleId = fields.vehicle_id as string;
  const givenEventId = fields.event_id;
  return {
    ok: true,
    reading: {
      event_id: typeof givenEventId === 'string' ? givenEventId : deriveEventId(vehicleId, eventTsMs),
      vehicle_id: vehicleId,
      event_ts_ms: eventTsMs,
      speed_kmh: asNumber(fields.speed_kmh),
      engine_temp_c: asNumber(fields.engine_temp_c),
      gps_lat: asNumber(fields.gps_lat),
      gps_lon: asNumber(fields.gps_lon),
      fuel_level_pct: asOptionalNumber(fields.fuel_level_pct),
      rpm: asOptionalNumber(fields.rpm),
      extra: Object.fromEntries(Object.entries(fields).filter(([key]) => !KNOWN.has(key))),
    },
  };
}

// `+ 0` turns -0 into 0 so the same value always encodes the same way downstream.
const asNumber = (value: unknown): number => (value as number) + 0;
const asOptionalNumber = (value: unknown): number | null => (typeof value === 'number' ? value + 0 : null);

function explainField(
  field: Exclude<KnownField, 'timestamp'>,
  raw: unknown,
  zodMessage: string,
): Omit<TelemetryIssue, 'path'> {
  if (raw === undefined || raw === null) {
    return REQUIRED.has(field)
      ? { reason: 'missing_field', message: raw === null ? 'is required, got null' : 'is required' }
      : { reason: 'invalid_field', message: zodMessage };
  }
  if (field === 'vehicle_id')
    return { reason: 'invalid_vehicle_id', message: explainId(raw, VEHICLE_ID_PATTERN, 64, '_.-') };
  if (field === 'event_id')
    return { reason: 'invalid_event_id', message: explainId(raw, EVENT_ID_PATTERN, 128, '_.:-') };
  return explainNumber(field, raw, zodMessage);
}

function explainNumber(field: NumericField, raw: unknown, zodMessage: string): Omit<TelemetryIssue, 'path'> {
  if (typeof raw === 'string') {
    const numeric = raw.trim() !== '' && !Number.isNaN(Number(raw));
    return {
      reason: 'invalid_field',
      message: `must be a JSON number, not ${describeValue(raw)}${numeric ? ' (numbers in strings are not accepted)' : ''}`,
    };
  }
  if (typeof raw !== 'number')
    return { reason: 'invalid_field', message: `must be a number, got ${describeValue(raw)}` };
  if (!Number.isFinite(raw))
    return { reason: 'invalid_field', message: `must be a finite number, got ${raw}` };
  const { min, max, unit } = FIELD_RANGES[field];
  if (raw < min || raw > max) {
    return { reason: 'out_of_range', message: `${raw} is outside ${min}..${max} ${unit}` };
  }
  return { reason: 'invalid_field', message: zodMessage };
}

function explainId(raw: unknown, pattern: RegExp, maxLength: number, punctuation: string): string {
  const rule = `1-${maxLength} characters of A-Z a-z 0-9 ${punctuation.split('').join(' ')}, starting with a letter or digit`;
  if (typeof raw !== 'string') return `must be a string (${rule}), got ${describeValue(raw)}`;
  if (raw.length === 0) return `must not be empty (${rule})`;
  if (raw.length > maxLength) return `is ${raw.length} characters long (${rule})`;
  const chars = [...raw];
  const at = chars.findIndex((char, i) => !pattern.test(i === 0 ? char : `a${char}`));
  const offending = chars[at];
  if (offending === undefined) return `does not match ${pattern.source}`;
  const codePoint = `U+${offending.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const shown = /^[\x21-\x7e]$/.test(offending) ? `${codePoint} '${offending}'` : codePoint;
  return at === 0 ? `starts with ${shown} (${rule})` : `contains ${shown} at position ${at} (${rule})`;
}

/** Iterative on purpose: a hostile 100k-deep value must not overflow our stack (nor a later encoder's). */
function exceedsDepth(root: object, limit: number): boolean {
  const stack: [object, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    // Only containers go on the stack: a reading of 100k scalar fields allocates nothing per field.
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
