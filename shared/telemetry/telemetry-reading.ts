import { z } from 'zod';

/**
 * Telemetry contract v1: the wire shape of one reading (zod, the single source of truth the
 * JSON Schema is generated from) and the normalized `TelemetryReading` the pipeline works with.
 */

export const TELEMETRY_SCHEMA_VERSION = 'v1';

/** Safe in Redis keys, object names and SQL literals: no separators, no whitespace, ASCII only. */
export const VEHICLE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Like vehicle ids, plus `:` (devices often send `vehicle:sequence`), up to 128 characters. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** 2000-01-01T00:00:00Z. Anything earlier is a device with an unset clock, not a real reading. */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
/** A numeric timestamp below this is epoch seconds, at or above it epoch milliseconds (1e11 s is year 5138). */
export const EPOCH_SECONDS_LIMIT = 1e11;
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const DEFAULT_MAX_BATCH = 500;
export const DEFAULT_MAX_BYTES = 256 * 1024;
/** Deepest nesting allowed inside one reading (the reading object is depth 1). Keeps recursive encoders downstream safe. */
export const MAX_READING_DEPTH = 16;

/**
 * RFC 3339 date-time with seconds and a mandatory `Z` or `±HH:MM` offset, real calendar dates only
 * (2026-02-30 fails), year 2000 or later. The date part is zod's leap-year aware pattern; the
 * lookahead adds the year floor so the JSON Schema can express it too.
 */
export const ISO_TIMESTAMP_PATTERN = new RegExp(
  `^(?=[2-9]\\d{3}-)${z.regexes.datetime({ offset: true, local: false }).source.slice(1)}`,
);

/** Inclusive physical ranges of the numeric fields; a value outside is `out_of_range`. */
export const FIELD_RANGES = {
  speed_kmh: { min: 0, max: 400, unit: 'km/h' },
  engine_temp_c: { min: -50, max: 200, unit: '°C' },
  gps_lat: { min: -90, max: 90, unit: 'degrees' },
  gps_lon: { min: -180, max: 180, unit: 'degrees' },
  fuel_level_pct: { min: 0, max: 100, unit: '%' },
  rpm: { min: 0, max: 20000, unit: 'rev/min' },
} as const;

export type NumericField = keyof typeof FIELD_RANGES;
export const REQUIRED_NUMERIC_FIELDS = ['speed_kmh', 'engine_temp_c', 'gps_lat', 'gps_lon'] as const;
export const OPTIONAL_NUMERIC_FIELDS = ['fuel_level_pct', 'rpm'] as const;
/** Fields of the contract, in the order issues are reported. Every other key goes to `extra`. */
export const KNOWN_FIELDS = [
  'event_id',
  'vehicle_id',
  'timestamp',
  ...REQUIRED_NUMERIC_FIELDS,
  ...OPTIONAL_NUMERIC_FIELDS,
] as const;
export type KnownField = (typeof KNOWN_FIELDS)[number];

function rangedNumber(field: NumericField, description: string) {
  const { min, max, unit } = FIELD_RANGES[field];
  return z.number().min(min).max(max).describe(`${description} (${unit}, ${min}..${max}).`);
}

const isoTimestamp = z.string().regex(ISO_TIMESTAMP_PATTERN).meta({
  format: 'date-time',
  description:
    'ISO 8601 / RFC 3339 with seconds and a Z or ±HH:MM offset, e.g. 2026-03-01T08:30:00.250+02:00.',
});
const epochSeconds = z
  .number()
  .min(MIN_TIMESTAMP_MS / 1000)
  .lt(EPOCH_SECONDS_LIMIT)
  .describe('Epoch seconds (below 1e11), fractions allowed.');
const epochMilliseconds = z
  .number()
  .min(MIN_TIMESTAMP_MS)
  .describe('Epoch milliseconds (1e11 or more), fractions are floored.');

export const telemetryReadingWireSchema = z
  .looseObject({
    event_id: z
      .string()
      .regex(EVENT_ID_PATTERN)
      .nullable()
      .optional()
      .describe('Idempotency key. When absent it is derived from vehicle_id and the instant.'),
    vehicle_id: z.string().regex(VEHICLE_ID_PATTERN).describe('Vehicle identifier, 1-64 ASCII characters.'),
    timestamp: z
      .union([isoTimestamp, epochSeconds, epochMilliseconds])
      .describe('Event time: ISO 8601 with offset, or epoch seconds or milliseconds as a JSON number.'),
    speed_kmh: rangedNumber('speed_kmh', 'Ground speed'),
    engine_temp_c: rangedNumber('engine_temp_c', 'Engine coolant temperature'),
    gps_lat: rangedNumber('gps_lat', 'WGS84 latitude'),
    gps_lon: rangedNumber('gps_lon', 'WGS84 longitude'),
    fuel_level_pct: rangedNumber('fuel_level_pct', 'Fuel level').nullable().optional(),
    rpm: rangedNumber('rpm', 'Engine speed').nullable().optional(),
    // Reserved: an object with `readings` is a batch envelope, never a reading.
    readings: z.never().optional(),
  })
  .meta({
    id: 'TelemetryReading',
    title: 'Telemetry reading v1',
    description:
      'One vehicle reading. Unknown fields are allowed and archived raw, never used as features. null means absent for the optional fields.',
  });

export const telemetryBatchWireSchema = z
  .strictObject({
    readings: z.array(telemetryReadingWireSchema).min(1).max(DEFAULT_MAX_BATCH),
  })
  .meta({
    title: 'Telemetry batch v1',
    description: `Up to ${DEFAULT_MAX_BATCH} readings, each judged alone. The envelope holds nothing but readings.`,
  });

/** What one message on the wire may be: a single reading or a batch. */
export const telemetryMessageWireSchema = z.union([telemetryReadingWireSchema, telemetryBatchWireSchema]);

export type TelemetryReadingWire = z.input<typeof telemetryReadingWireSchema>;

/** A validated reading, normalized: one integer instant, an id, no unknown fields among the values. */
export interface TelemetryReading {
  /** As given, or `d-` + 32 hex of sha256(`${vehicle_id}\n${event_ts_ms}`): same vehicle and instant, same id. */
  event_id: string;
  vehicle_id: string;
  /** Integer epoch milliseconds, floored; the one identity of the instant whatever the wire format. */
  event_ts_ms: number;
  speed_kmh: number;
  engine_temp_c: number;
  gps_lat: number;
  gps_lon: number;
  fuel_level_pct: number | null;
  rpm: number | null;
  /** Unknown fields, kept for the raw archive, never used in features. */
  extra: Record<string, unknown>;
}
