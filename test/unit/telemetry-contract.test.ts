import { describe, expect, it } from 'vitest';
import {
  deriveEventId,
  parseTelemetryMessage,
  type TelemetryReading,
  validateTelemetryReading,
} from '../../shared/telemetry/index.js';

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const INSTANT_MS = Date.UTC(2026, 2, 1, 10, 30, 0, 250); // 2026-03-01T10:30:00.250Z

const baseReading = {
  vehicle_id: 'veh-00042',
  timestamp: '2026-03-01T10:30:00.250Z',
  speed_kmh: 54.5,
  engine_temp_c: 89.9,
  gps_lat: 48.8566,
  gps_lon: 2.3522,
};

function parseOne(body: Record<string, unknown>, nowMs = NOW_MS): TelemetryReading {
  const result = parseTelemetryMessage(JSON.stringify(body), { nowMs });
  expect(result.rejects).toEqual([]);
  expect(result.readings).toHaveLength(1);
  return result.readings[0]!;
}

describe('telemetry contract v1: valid readings', () => {
  it('normalizes a minimal reading, deriving its event id', () => {
    expect(parseOne(baseReading)).toEqual({
      event_id: deriveEventId('veh-00042', INSTANT_MS),
      vehicle_id: 'veh-00042',
      event_ts_ms: INSTANT_MS,
      speed_kmh: 54.5,
      engine_temp_c: 89.9,
      gps_lat: 48.8566,
      gps_lon: 2.3522,
      fuel_level_pct: null,
      rpm: null,
      extra: {},
    });
  });

  const sameInstant: [string, string | number][] = [
    ['ISO with Z', '2026-03-01T10:30:00.250Z'],
    ['ISO with +00:00', '2026-03-01T10:30:00.250+00:00'],
    ['ISO with +02:00', '2026-03-01T12:30:00.250+02:00'],
    ['ISO with -05:00', '2026-03-01T05:30:00.250-05:00'],
    ['ISO with +05:30', '2026-03-01T16:00:00.250+05:30'],
    ['ISO across midnight, -11:00', '2026-02-28T23:30:00.250-11:00'],
    ['ISO with microseconds (floored)', '2026-03-01T10:30:00.250999Z'],
    ['ISO with one fraction digit', '2026-03-01T10:30:00.25Z'],
    ['epoch seconds with a fraction', INSTANT_MS / 1000],
    ['epoch milliseconds', INSTANT_MS],
    ['epoch milliseconds with a fraction (floored)', INSTANT_MS + 0.9],
  ];
  it.each(sameInstant)('%s is the same instant and the same derived event id', (_name, timestamp) => {
    const reading = parseOne({ ...baseReading, timestamp });
    expect(reading.event_ts_ms).toBe(INSTANT_MS);
    expect(reading.event_id).toBe(deriveEventId('veh-00042', INSTANT_MS));
  });

  it('reads a number below 1e11 as epoch seconds and from 1e11 on as milliseconds', () => {
    const wholeSecond = Date.UTC(2026, 2, 1, 10, 30, 0);
    expect(parseOne({ ...baseReading, timestamp: wholeSecond / 1000 }).event_ts_ms).toBe(wholeSecond);
    expect(parseOne({ ...baseReading, timestamp: wholeSecond }).event_ts_ms).toBe(wholeSecond);
    expect(parseOne({ ...baseReading, timestamp: '2026-03-01T10:30:00Z' }).event_ts_ms).toBe(wholeSecond);
    // Binary fractions: 1772361000.123 * 1000 is 1772361000122.9998, still ...123.
    expect(parseOne({ ...baseReading, timestamp: 1772361000.123 }).event_ts_ms).toBe(1772361000123);
  });

  it('accepts real calendar edge dates: leap day, year 2000 start, end of year', () => {
    expect(parseOne({ ...baseReading, timestamp: '2024-02-29T00:00:00Z' }).event_ts_ms).toBe(
      Date.UTC(2024, 1, 29),
    );
    expect(parseOne({ ...baseReading, timestamp: '2000-01-01T00:00:00Z' }).event_ts_ms).toBe(
      Date.UTC(2000, 0, 1),
    );
    expect(parseOne({ ...baseReading, timestamp: 946684800 }).event_ts_ms).toBe(Date.UTC(2000, 0, 1));
    expect(parseOne({ ...baseReading, timestamp: '2025-12-31T23:59:59.999Z' }).event_ts_ms).toBe(
      Date.UTC(2025, 11, 31, 23, 59, 59, 999),
    );
  });

  it('accepts a timestamp up to maxFutureSkewMs ahead of the receiving clock, default 5 minutes', () => {
    const atLimit = NOW_MS + 5 * 60_000;
    expect(parseOne({ ...baseReading, timestamp: atLimit }).event_ts_ms).toBe(atLimit);
    const tolerant = parseTelemetryMessage(
      JSON.stringify({ ...baseReading, timestamp: NOW_MS + 3_600_000 }),
      {
        nowMs: NOW_MS,
        maxFutureSkewMs: 3_600_000,
      },
    );
    expect(tolerant.readings).toHaveLength(1);
  });

  const optional: [string, Record<string, unknown>, { fuel_level_pct: number | null; rpm: number | null }][] =
    [
      ['absent', {}, { fuel_level_pct: null, rpm: null }],
      ['null', { fuel_level_pct: null, rpm: null }, { fuel_level_pct: null, rpm: null }],
      ['present', { fuel_level_pct: 63.2, rpm: 2150 }, { fuel_level_pct: 63.2, rpm: 2150 }],
      ['at the low ends', { fuel_level_pct: 0, rpm: 0 }, { fuel_level_pct: 0, rpm: 0 }],
      ['at the high ends', { fuel_level_pct: 100, rpm: 20000 }, { fuel_level_pct: 100, rpm: 20000 }],
    ];
  it.each(optional)('optional fields %s', (_name, fields, expected) => {
    expect(parseOne({ ...baseReading, ...fields })).toMatchObject(expected);
  });

  const boundaries: [string, Record<string, number>][] = [
    ['speed 0', { speed_kmh: 0 }],
    ['speed 400', { speed_kmh: 400 }],
    ['engine temperature -50', { engine_temp_c: -50 }],
    ['engine temperature 200', { engine_temp_c: 200 }],
    ['latitude -90 and longitude -180', { gps_lat: -90, gps_lon: -180 }],
    ['latitude 90 and longitude 180', { gps_lat: 90, gps_lon: 180 }],
  ];
  it.each(boundaries)('ranges are inclusive: %s', (_name, fields) => {
    expect(parseOne({ ...baseReading, ...fields })).toMatchObject(fields);
  });

  it('turns -0 into 0 so the same value always encodes the same', () => {
    const reading = parseOne(
      JSON.parse(JSON.stringify(baseReading).replace('"speed_kmh":54.5', '"speed_kmh":-0')),
    );
    expect(Object.is(reading.speed_kmh, 0)).toBe(true);
  });

  it('keeps a given event id verbatim, and derives one when it is absent or null', () => {
    expect(parseOne({ ...baseReading, event_id: 'veh-00042:1777' }).event_id).toBe('veh-00042:1777');
    expect(parseOne({ ...baseReading, event_id: null }).event_id).toBe(
      deriveEventId('veh-00042', INSTANT_MS),
    );
  });

  it('derives ids that are stable, well formed, and distinct per vehicle and per millisecond', () => {
    const id = deriveEventId('veh-00042', INSTANT_MS);
    expect(id).toMatch(/^d-[0-9a-f]{32}$/);
    expect(deriveEventId('veh-00042', INSTANT_MS)).toBe(id);
    expect(deriveEventId('veh-00043', INSTANT_MS)).not.toBe(id);
    expect(deriveEventId('veh-00042', INSTANT_MS + 1)).not.toBe(id);
  });

  it('keeps unknown fields in extra, out of the normalized values', () => {
    const big = 'x'.repeat(10_000);
    const reading = parseOne({
      ...baseReading,
      firmware: '2.4.1',
      odometer_km: 120_345.6,
      diagnostics: { dtc: ['P0301'], nested: { ok: true } },
      notes: big,
    });
    expect(reading.extra).toEqual({
      firmware: '2.4.1',
      odometer_km: 120_345.6,
      diagnostics: { dtc: ['P0301'], nested: { ok: true } },
      notes: big,
    });
    expect(Object.keys(reading).sort()).toEqual(
      [
        'event_id',
        'vehicle_id',
        'event_ts_ms',
        'speed_kmh',
        'engine_temp_c',
        'gps_lat',
        'gps_lon',
        'fuel_level_pct',
        'rpm',
        'extra',
      ].sort(),
    );
  });

  it('keeps a "__proto__" field as plain data without touching any prototype', () => {
    const text = JSON.stringify(baseReading).replace('{', '{"__proto__":{"polluted":true},');
    const result = parseTelemetryMessage(text, { nowMs: NOW_MS });
    const extra = result.readings[0]!.extra;
    expect(Object.hasOwn(extra, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(extra)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads bytes and strings alike, and tolerates a leading byte order mark', () => {
    const text = JSON.stringify(baseReading);
    const fromString = parseTelemetryMessage(text, { nowMs: NOW_MS });
    const fromBytes = parseTelemetryMessage(new TextEncoder().encode(text), { nowMs: NOW_MS });
    const withBom = parseTelemetryMessage(
      new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]),
      {
        nowMs: NOW_MS,
      },
    );
    expect(fromBytes).toEqual(fromString);
    expect(withBom).toEqual(fromString);
    expect(parseTelemetryMessage(`\ufeff${text}`, { nowMs: NOW_MS })).toEqual(fromString);
  });
});

describe('telemetry contract v1: batches', () => {
  it('judges each reading alone: valid ones are kept in order, invalid ones rejected with their index and path', () => {
    const batch = {
      readings: [
        { ...baseReading, event_id: 'a-0' },
        { ...baseReading, event_id: 'a-1', speed_kmh: '12' },
        { ...baseReading, event_id: 'a-2', timestamp: '2026-03-01T12:30:00.250+02:00' },
        'not a reading',
        { ...baseReading, event_id: 'a-4', gps_lat: 91 },
        { ...baseReading, event_id: 'a-5', rpm: 900 },
      ],
    };
    const result = parseTelemetryMessage(JSON.stringify(batch), { nowMs: NOW_MS });
    expect(result.readings.map((r) => r.event_id)).toEqual(['a-0', 'a-2', 'a-5']);
    expect(result.rejects.map((r) => [r.index, r.reason, r.issues.map((i) => i.path)])).toEqual([
      [1, 'invalid_field', ['readings[1].speed_kmh']],
      [3, 'not_an_object', ['readings[3]']],
      [4, 'out_of_range', ['readings[4].gps_lat']],
    ]);
    expect(result.rejects[0]!.raw).toEqual(batch.readings[1]);
    expect(result.rejects[0]!.message).toContain('reading 1');
  });

  it('the same instant in two formats inside one batch is one identity', () => {
    const result = parseTelemetryMessage(
      JSON.stringify({ readings: [baseReading, { ...baseReading, timestamp: INSTANT_MS / 1000 }] }),
      { nowMs: NOW_MS },
    );
    expect(new Set(result.readings.map((r) => r.event_id)).size).toBe(1);
  });

  it('accepts exactly maxBatch readings (configurable)', () => {
    const three = JSON.stringify({ readings: [baseReading, baseReading, baseReading] });
    expect(parseTelemetryMessage(three, { nowMs: NOW_MS, maxBatch: 3 }).readings).toHaveLength(3);
    expect(parseTelemetryMessage(three, { nowMs: NOW_MS, maxBatch: 2 }).rejects[0]!.reason).toBe(
      'batch_too_large',
    );
    const full = JSON.stringify({ readings: Array.from({ length: 500 }, () => baseReading) });
    expect(parseTelemetryMessage(full, { nowMs: NOW_MS }).readings).toHaveLength(500);
  });

  it('accepts a message of exactly maxBytes (configurable)', () => {
    const text = JSON.stringify(baseReading);
    const size = Buffer.byteLength(text);
    expect(parseTelemetryMessage(text, { nowMs: NOW_MS, maxBytes: size }).readings).toHaveLength(1);
    expect(parseTelemetryMessage(text, { nowMs: NOW_MS, maxBytes: size - 1 }).rejects[0]!.reason).toBe(
      'message_too_large',
    );
  });
});

describe('telemetry contract v1: reporting', () => {
  it('lists every problem of a reading with its path, and names the most telling one as the reason', () => {
    const result = parseTelemetryMessage(
      JSON.stringify({
        timestamp: '2026-03-01T10:30:00',
        speed_kmh: '12',
        engine_temp_c: 90,
        gps_lat: 120,
        gps_lon: 2,
      }),
      { nowMs: NOW_MS },
    );
    const [reject] = result.rejects;
    expect(reject!.reason).toBe('missing_field');
    expect(reject!.issues.map((i) => [i.path, i.reason])).toEqual([
      ['vehicle_id', 'missing_field'],
      ['timestamp', 'invalid_timestamp'],
      ['speed_kmh', 'invalid_field'],
      ['gps_lat', 'out_of_range'],
    ]);
    expect(reject!.message).toMatch(/^4 problems: vehicle_id is required; timestamp has no UTC offset/);
    expect(reject!.message).toContain('speed_kmh must be a JSON number, not the string "12"');
    expect(reject!.message).toContain('gps_lat 120 is outside -90..90 degrees');
  });

  it('says plainly that numbers in strings are not accepted', () => {
    const [reject] = parseTelemetryMessage(JSON.stringify({ ...baseReading, speed_kmh: '12' }), {
      nowMs: NOW_MS,
    }).rejects;
    expect(reject!.message).toBe(
      'speed_kmh must be a JSON number, not the string "12" (numbers in strings are not accepted)',
    );
  });

  it('rejects NaN and Infinity handed over by a JavaScript caller', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const result = validateTelemetryReading({ ...baseReading, engine_temp_c: bad }, { nowMs: NOW_MS });
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.reject.issues).toMatchObject([{ path: 'engine_temp_c', reason: 'invalid_field' }]);
    }
    const badTs = validateTelemetryReading({ ...baseReading, timestamp: Number.NaN }, { nowMs: NOW_MS });
    expect(badTs.ok ? null : badTs.reject.reason).toBe('invalid_timestamp');
  });

  it('treats bad options as a programming error, with a stable code', () => {
    expect(() => parseTelemetryMessage('{}', { nowMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'invalid_telemetry_options' }),
    );
    expect(() => parseTelemetryMessage('{}', { nowMs: NOW_MS, maxBatch: 0 })).toThrow(/maxBatch/);
  });
});
