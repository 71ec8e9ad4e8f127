import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { createSeededRandom, type SeededRandom } from '../../local/simulator/seeded-random.js';
import {
  buildTelemetryJsonSchema,
  CODE_ONLY_RULES,
  parseTelemetryMessage,
  type TelemetryRejectReason,
} from '../../shared/telemetry/index.js';

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const committed: unknown = JSON.parse(
  readFileSync(new URL('../../shared/telemetry/telemetry-v1.schema.json', import.meta.url), 'utf8'),
);

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validateWire = ajv.compile(committed as object);

const VALID = {
  vehicle_id: 'veh-00042',
  timestamp: '2026-03-01T11:59:00Z',
  speed_kmh: 54.5,
  engine_temp_c: 89.9,
  gps_lat: 48.8566,
  gps_lon: 2.3522,
};
const withChange = (changes: Record<string, unknown>) => {
  const body: Record<string, unknown> = { ...VALID, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete body[key];
  return body;
};

/** Both verdicts on one message: the JSON Schema's, and whether the parser accepted every reading. */
function verdicts(message: unknown) {
  const result = parseTelemetryMessage(JSON.stringify(message), { nowMs: NOW_MS });
  return {
    schema: validateWire(message),
    parser: result.rejects.length === 0,
    reasons: result.rejects.flatMap((r) => r.issues.map((i) => i.reason)),
  };
}

describe('telemetry-v1.schema.json', () => {
  it('is exactly what scripts/generate-telemetry-schema.ts generates from the zod contract', () => {
    expect(committed).toEqual(buildTelemetryJsonSchema());
  });

  it('is draft 2020-12 and lists the rules only code can check in its description', () => {
    const schema = committed as { $schema: string; description: string };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    for (const rule of CODE_ONLY_RULES) expect(schema.description).toContain(rule);
  });
});

describe('zod contract and JSON Schema agree', () => {
  const valid: [string, unknown][] = [
    ['a minimal reading', VALID],
    ['ISO with +02:00', withChange({ timestamp: '2026-03-01T13:59:00.5+02:00' })],
    ['ISO with -05:00 and microseconds', withChange({ timestamp: '2026-03-01T06:59:00.123456-05:00' })],
    ['epoch seconds', withChange({ timestamp: 1772366340.25 })],
    ['epoch milliseconds', withChange({ timestamp: 1772366340250 })],
    ['the first accepted instant, in seconds', withChange({ timestamp: 946684800 })],
    ['the first accepted instant, in milliseconds', withChange({ timestamp: 946684800000 })],
    ['a leap day', withChange({ timestamp: '2024-02-29T12:00:00Z' })],
    ['optional fields present', withChange({ fuel_level_pct: 0, rpm: 20000 })],
    ['optional fields null', withChange({ fuel_level_pct: null, rpm: null, event_id: null })],
    ['an event id with a colon', withChange({ event_id: 'veh-00042:17' })],
    ['a 128-character event id', withChange({ event_id: 'e'.repeat(128) })],
    ['a 64-character vehicle id', withChange({ vehicle_id: 'v'.repeat(64) })],
    ['unknown fields', withChange({ firmware: '2.4.1', diagnostics: { dtc: ['P0301'] } })],
    ['range ends', withChange({ speed_kmh: 400, engine_temp_c: -50, gps_lat: -90, gps_lon: 180 })],
    ['a batch', { readings: [VALID, withChange({ timestamp: 1772366340 })] }],
    ['a batch of 500', { readings: Array.from({ length: 500 }, () => VALID) }],
  ];
  it.each(valid)('both accept %s', (_name, message) => {
    expect(verdicts(message)).toMatchObject({ schema: true, parser: true });
  });

  const invalid: [string, unknown][] = [
    ['a top-level array', [VALID]],
    ['a top-level string', 'veh-00042'],
    ['null', null],
    ['a string speed', withChange({ speed_kmh: '12' })],
    ['a boolean latitude', withChange({ gps_lat: true })],
    ['a null required field', withChange({ engine_temp_c: null })],
    ['a missing vehicle_id', withChange({ vehicle_id: undefined })],
    ['a missing timestamp', withChange({ timestamp: undefined })],
    ['a missing gps_lon', withChange({ gps_lon: undefined })],
    ['speed above 400', withChange({ speed_kmh: 400.01 })],
    ['negative speed', withChange({ speed_kmh: -1 })],
    ['engine temperature below -50', withChange({ engine_temp_c: -50.5 })],
    ['latitude above 90', withChange({ gps_lat: 90.1 })],
    ['longitude below -180', withChange({ gps_lon: -180.1 })],
    ['fuel above 100', withChange({ fuel_level_pct: 101 })],
    ['negative rpm', withChange({ rpm: -1 })],
    ['a string rpm', withChange({ rpm: '900' })],
    ['an ISO time without offset', withChange({ timestamp: '2026-03-01T11:59:00' })],
    ['an ISO time without seconds', withChange({ timestamp: '2026-03-01T11:59Z' })],
    ['2026-02-30', withChange({ timestamp: '2026-02-30T11:59:00Z' })],
    ['a leap second', withChange({ timestamp: '2016-12-31T23:59:60Z' })],
    ['1999 in ISO', withChange({ timestamp: '1999-12-31T23:59:59Z' })],
    ['epoch seconds before 2000', withChange({ timestamp: 946684799 })],
    ['epoch milliseconds before 2000', withChange({ timestamp: 946684799999 })],
    ['1e11, milliseconds in 1973', withChange({ timestamp: 1e11 })],
    ['an epoch in a string', withChange({ timestamp: '1772366340' })],
    ['a vehicle id with ../', withChange({ vehicle_id: '../x' })],
    ['a vehicle id with a colon', withChange({ vehicle_id: 'a:b' })],
    ['a vehicle id with braces', withChange({ vehicle_id: '{x}' })],
    ['a vehicle id with a newline', withChange({ vehicle_id: 'a\nb' })],
    ['a vehicle id with a trailing newline', withChange({ vehicle_id: 'veh\n' })],
    ['a fullwidth vehicle id', withChange({ vehicle_id: 'ＡＢＣ' })],
    ['an empty vehicle id', withChange({ vehicle_id: '' })],
    ['a 65-character vehicle id', withChange({ vehicle_id: 'v'.repeat(65) })],
    ['a numeric vehicle id', withChange({ vehicle_id: 42 })],
    ['a 129-character event id', withChange({ event_id: 'e'.repeat(129) })],
    ['an event id with a space', withChange({ event_id: 'a b' })],
    ['an empty event id', withChange({ event_id: '' })],
    ['an empty batch', { readings: [] }],
    ['a batch of 501', { readings: Array.from({ length: 501 }, () => VALID) }],
    ['a batch that is an object', { readings: VALID }],
    ['a batch envelope with another field', { readings: [VALID], sent_at: 1 }],
    ['a nested batch', { readings: [{ readings: [VALID] }] }],
    ['a reading with a readings field', withChange({ readings: [] })],
  ];
  it.each(invalid)('both reject %s', (_name, message) => {
    expect(verdicts(message)).toMatchObject({ schema: false, parser: false });
  });

  // What only code can decide: the schema accepts, the parser rejects with a specific reason.
  const codeOnly: [string, unknown, TelemetryRejectReason][] = [
    [
      'a timestamp a day ahead of the clock',
      withChange({ timestamp: '2026-03-02T12:00:00Z' }),
      'timestamp_in_future',
    ],
    ['epoch seconds in year 5138', withChange({ timestamp: 99_999_999_999 }), 'timestamp_in_future'],
    ['epoch milliseconds far in the future', withChange({ timestamp: 1e300 }), 'timestamp_in_future'],
    [
      'a year-2000 ISO time that is 1999 in UTC',
      withChange({ timestamp: '2000-01-01T00:30:00+01:00' }),
      'timestamp_too_old',
    ],
    ['a message over 256 KiB', withChange({ notes: 'x'.repeat(300_000) }), 'message_too_large'],
    [
      'unknown values nested 20 deep',
      withChange({ deep: JSON.parse(`${'['.repeat(20)}${']'.repeat(20)}`) }),
      'too_deeply_nested',
    ],
  ];
  it.each(codeOnly)('only the parser rejects %s', (_name, message, reason) => {
    const { schema, parser, reasons } = verdicts(message);
    expect(schema).toBe(true);
    expect(parser).toBe(false);
    expect(reasons).toEqual([reason]);
  });

  it('a batch with one bad reading: the schema fails it whole, the parser keeps the good ones (by design)', () => {
    const batch = { readings: [VALID, withChange({ speed_kmh: 999 })] };
    const result = parseTelemetryMessage(JSON.stringify(batch), { nowMs: NOW_MS });
    expect(validateWire(batch)).toBe(false);
    expect(result.readings).toHaveLength(1);
    expect(result.rejects.map((r) => r.index)).toEqual([1]);
  });

  const CODE_ONLY_REASONS = new Set<TelemetryRejectReason>(['timestamp_in_future']);
  const pools: Record<string, { good: unknown[]; bad: unknown[] }> = {
    vehicle_id: {
      good: ['veh-00042', 'A', 'a.b_c-9', 'v'.repeat(64)],
      bad: ['', '../x', 'a:b', 'ＡＢＣ', 'v'.repeat(65), 42, null],
    },
    event_id: {
      good: [undefined, null, 'veh:1', 'e'.repeat(128)],
      bad: ['', 'e'.repeat(129), '{x}', 5, ':a'],
    },
    timestamp: {
      good: [
        '2026-03-01T11:00:00Z',
        '2026-03-01T13:00:00.1+02:00',
        1772362800,
        1772362800123.5,
        946684800,
        2e9,
        3e12,
      ],
      bad: [
        '2026-03-01T11:00:00',
        '2026-02-29T00:00:00Z',
        '1999-01-01T00:00:00Z',
        '',
        'now',
        946684799,
        1e11,
        -5,
        true,
        null,
      ],
    },
    speed_kmh: { good: [0, 0.1, 130, 400], bad: [-0.1, 400.1, '50', null, false] },
    engine_temp_c: { good: [-50, 0, 90.5, 200], bad: [-51, 201, '90', [90]] },
    gps_lat: { good: [-90, 0, 48.85, 90], bad: [-91, 90.01, '48.8', {}] },
    gps_lon: { good: [-180, 0, 2.35, 180], bad: [-181, 180.01, null] },
    fuel_level_pct: { good: [undefined, null, 0, 100], bad: [-1, 100.5, '50'] },
    rpm: { good: [undefined, null, 0, 20000], bad: [-1, 20001, 'idle'] },
    extra: { good: [undefined, 'x', { a: [1, { b: null }] }], bad: [] },
  };
  function randomReading(rng: SeededRandom, badChance: number): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const [field, { good, bad }] of Object.entries(pools)) {
      const value = bad.length > 0 && rng.chance(badChance) ? rng.pick(bad) : rng.pick(good);
      if (value !== undefined) body[field] = value;
    }
    if (rng.chance(0.05)) delete body[rng.pick(['vehicle_id', 'timestamp', 'speed_kmh', 'gps_lat'])];
    return body;
  }

  it('agree on 2000 random readings and batches drawn from valid and invalid values of every field', () => {
    const rng = createSeededRandom(2020_12);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const message = rng.chance(0.8)
        ? randomReading(rng, 0.08)
        : { readings: Array.from({ length: rng.int(1, 3) }, () => randomReading(rng, 0.04)) };
      const { schema, parser, reasons } = verdicts(message);
      const onlyCodeRules = !parser && reasons.every((reason) => CODE_ONLY_REASONS.has(reason));
      if (parser) accepted++;
      expect({ message, schema }).toEqual({ message, schema: parser || onlyCodeRules });
    }
    // The draw is balanced enough to exercise both verdicts.
    expect(accepted).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(1800);
  });
});
