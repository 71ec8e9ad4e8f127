import { EPOCH_SECONDS_LIMIT, ISO_TIMESTAMP_PATTERN, MIN_TIMESTAMP_MS } from './telemetry-reading.js';
import { describeValue, type TelemetryRejectReason } from './telemetry-reject.js';

export type TimestampResult =
  | { ok: true; ms: number }
  | {
      ok: false;
      reason: Extract<TelemetryRejectReason, 'missing_field' | 'invalid_timestamp' | 'timestamp_too_old'>;
      message: string;
    };

// Loose on purpose: recognizes near-misses so the message can say what is wrong with them.
const ISO_LIKE =
  /^(\d{4,})-(\d{1,2})-(\d{1,2})([Tt ])(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
// Unambiguous on purpose: `\d+\.?\d*` splits a digit run in n ways and backtracks in O(n²) (a 20k
// digit string took 1.4 s); here the second digit run needs the dot.
const NUMERIC_STRING = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?\s*$/i;
const STRICT_PARTS =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Turns a wire timestamp into integer epoch milliseconds, floored: fractions of a millisecond are
 * dropped, so 12:00:00.1239Z, 1767268800.1239 and 1767268800123.9 are all ...123. Epoch seconds
 * are first rounded to the microsecond to absorb binary fractions (1767268800.123 * 1000 is
 * 1767268800122.9998). Does not look at the clock: see `checkClockSkew`.
 */
export function normalizeTimestamp(value: unknown): TimestampResult {
  if (value === undefined || value === null) {
    return {
      ok: false,
      reason: 'missing_field',
      message: value === null ? 'is required, got null' : 'is required',
    };
  }
  if (typeof value === 'number') return fromEpochNumber(value);
  if (typeof value === 'string') return fromIsoString(value);
  return {
    ok: false,
    reason: 'invalid_timestamp',
    message: `must be an ISO 8601 string with offset or an epoch number, got ${describeValue(value)}`,
  };
}

function fromEpochNumber(value: number): TimestampResult {
  if (!Number.isFinite(value)) {
    return { ok: false, reason: 'invalid_timestamp', message: `must be a finite number, got ${value}` };
  }
  const asSeconds = value < EPOCH_SECONDS_LIMIT;
  const ms = asSeconds ? Math.floor(Math.round(value * 1e6) / 1000) : Math.floor(value);
  if (ms < MIN_TIMESTAMP_MS) {
    return {
      ok: false,
      reason: 'timestamp_too_old',
      message: `is before 2000-01-01, is the device clock set? (got ${value}: epoch ${asSeconds ? 'seconds' : 'milliseconds'}, ${isoOrRaw(ms)})`,
    };
  }
  return { ok: true, ms };
}

function fromIsoString(value: string): TimestampResult {
  const strict = STRICT_PARTS.exec(value);
  if (strict && ISO_TIMESTAMP_PATTERN.test(value)) {
    const [, y, mo, d, h, mi, s, frac, sign, oh, om] = strict;
    const fracMs = Number((frac ?? '').padEnd(3, '0').slice(0, 3));
    const offsetMin = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    const ms = utc + fracMs - offsetMin * 60_000;
    // The pattern checks the written year; the floor is on the instant (2000-01-01T00:30+01:00 is 1999).
    if (ms < MIN_TIMESTAMP_MS) {
      return {
        ok: false,
        reason: 'timestamp_too_old',
        message: `is before 2000-01-01, is the device clock set? (got ${describeValue(value)})`,
      };
    }
    return { ok: true, ms };
  }
  return { ok: false, ...explainBadIsoString(value) };
}

function explainBadIsoString(value: string): Omit<Extract<TimestampResult, { ok: false }>, 'ok'> {
  const invalid = (why: string) => ({ reason: 'invalid_timestamp' as const, message: why });
  const example = 'e.g. 2026-03-01T08:30:00Z or 2026-03-01T10:30:00.250+02:00';
  if (NUMERIC_STRING.test(value)) {
    return invalid(`must be a JSON number for epoch time, not a string (got ${describeValue(value)})`);
  }
  const loose = ISO_LIKE.exec(value);
  if (!loose) return invalid(`is not ISO 8601 with an offset, ${example} (got ${describeValue(value)})`);
  const [, y, mo, d, sep, h, mi, s, , zone] = loose;
  if (!zone) {
    return invalid(
      `has no UTC offset, so the instant is ambiguous: add Z or ±HH:MM (got ${describeValue(value)})`,
    );
  }
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return invalid(`is not a real calendar date (got ${describeValue(value)})`);
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) {
    return invalid(`is not a valid time of day (got ${describeValue(value)})`);
  }
  const wellFormed = y?.length === 4 && mo?.length === 2 && d?.length === 2 && sep === 'T' && s !== undefined;
  const zoneWellFormed = zone === 'Z' || /^[+-](?:[01]\d|2[0-3]):[0-5]\d$/.test(zone);
  if (wellFormed && zoneWellFormed && year < 2000) {
    return {
      reason: 'timestamp_too_old',
      message: `is before 2000-01-01, is the device clock set? (got ${describeValue(value)})`,
    };
  }
  return invalid(`is not in the accepted ISO 8601 form, ${example} (got ${describeValue(value)})`);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isoOrRaw(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

/** The clock-relative rule no static schema can hold: a reading from the future is invalid. */
export function checkClockSkew(eventTsMs: number, nowMs: number, maxFutureSkewMs: number): string | null {
  const ahead = eventTsMs - nowMs;
  if (ahead <= maxFutureSkewMs) return null;
  return `is ${formatDuration(ahead)} ahead of the receiving clock, the limit is ${formatDuration(maxFutureSkewMs)} (got ${isoOrRaw(eventTsMs)})`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}
