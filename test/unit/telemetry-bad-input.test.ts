import { describe, expect, it } from 'vitest';
import { createSeededRandom, type SeededRandom } from '../../local/simulator/seeded-random.js';
import {
  EVENT_ID_PATTERN,
  parseTelemetryMessage,
  REASON_PRIORITY,
  type TelemetryRejectReason,
  VEHICLE_ID_PATTERN,
} from '../../shared/telemetry/index.js';

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const VALID = {
  vehicle_id: 'veh-00042',
  timestamp: '2026-03-01T11:59:00Z',
  speed_kmh: 54.5,
  engine_temp_c: 89.9,
  gps_lat: 48.8566,
  gps_lon: 2.3522,
  fuel_level_pct: 63,
  rpm: 2100,
};
type Field = keyof typeof VALID;

/** A valid reading with some fields replaced (undefined removes the field), as JSON text. */
function reading(changes: Partial<Record<Field | 'event_id' | 'readings' | 'extra', unknown>>): string {
  return JSON.stringify(readingObject(changes));
}
function readingObject(changes: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { ...VALID, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete body[key];
  return body;
}
const bytes = (...values: number[]) => new Uint8Array(values);
const utf8 = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((part) => [...part]));

interface BadInput {
  name: string;
  input: string | Uint8Array;
  reason: TelemetryRejectReason;
  path: string;
  index?: number;
}

const messageLevel: BadInput[] = [
  {
    name: 'malformed JSON (dangling comma)',
    input: '{"vehicle_id": "veh-1",}',
    reason: 'malformed_json',
    path: '',
  },
  { name: 'truncated JSON', input: reading({}).slice(0, 60), reason: 'malformed_json', path: '' },
  { name: 'empty message', input: '', reason: 'malformed_json', path: '' },
  { name: 'whitespace only', input: ' \n\t ', reason: 'malformed_json', path: '' },
  {
    name: 'trailing garbage after the object',
    input: `${reading({})} x`,
    reason: 'malformed_json',
    path: '',
  },
  { name: 'two objects back to back', input: reading({}) + reading({}), reason: 'malformed_json', path: '' },
  { name: 'single quotes', input: "{'vehicle_id': 'veh-1'}", reason: 'malformed_json', path: '' },
  {
    name: 'NaN literal',
    input: reading({ speed_kmh: 1 }).replace(':1,', ':NaN,'),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'Infinity literal',
    input: reading({ speed_kmh: 1 }).replace(':1,', ':Infinity,'),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'binary garbage',
    input: bytes(0x00, 0xff, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'control bytes that are valid UTF-8',
    input: bytes(0x01, 0x02, 0x03),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'invalid UTF-8 inside a string value',
    input: concat(utf8('{"vehicle_id":"veh-'), bytes(0xc3, 0x28), utf8(reading({}).slice(19))),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'overlong UTF-8 encoding of "/"',
    input: concat(utf8('{"vehicle_id":"..'), bytes(0xc0, 0xaf), utf8('x"}')),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'lone UTF-8 continuation byte',
    input: concat(utf8(reading({})), bytes(0x80)),
    reason: 'malformed_json',
    path: '',
  },
  {
    name: 'top-level array instead of an object',
    input: `[${reading({})}]`,
    reason: 'not_an_object',
    path: '',
  },
  { name: 'top-level string', input: '"veh-00042"', reason: 'not_an_object', path: '' },
  { name: 'top-level number', input: '42', reason: 'not_an_object', path: '' },
  { name: 'top-level null', input: 'null', reason: 'not_an_object', path: '' },
  {
    name: 'oversize batch (501 readings)',
    input: JSON.stringify({ readings: Array.from({ length: 501 }, () => VALID) }),
    reason: 'batch_too_large',
    path: 'readings',
  },
  {
    name: 'oversize message (over maxBytes)',
    input: reading({ extra: 'x'.repeat(256 * 1024) }),
    reason: 'message_too_large',
    path: '',
  },
  {
    name: 'oversize message of multi-byte characters (counted in UTF-8 bytes)',
    input: reading({ extra: 'é'.repeat(131_072) }),
    reason: 'message_too_large',
    path: '',
  },
  { name: 'empty batch', input: '{"readings": []}', reason: 'empty_batch', path: 'readings' },
  {
    name: 'batch that is an object, not an array',
    input: `{"readings": ${reading({})}}`,
    reason: 'invalid_batch',
    path: 'readings',
  },
  { name: 'batch that is null', input: '{"readings": null}', reason: 'invalid_batch', path: 'readings' },
  { name: 'batch that is a string', input: '{"readings": "[]"}', reason: 'invalid_batch', path: 'readings' },
  {
    name: 'batch envelope with a stray field',
    input: `{"readings": [${reading({})}], "device": "x"}`,
    reason: 'invalid_batch',
    path: 'device',
  },
];

const readingLevel: BadInput[] = [
  {
    name: 'nested readings',
    input: `{"readings": [{"readings": [${reading({})}]}]}`,
    reason: 'nested_batch',
    path: 'readings[0].readings',
    index: 0,
  },
  {
    name: 'a reading with a readings field inside a batch',
    input: `{"readings": [${reading({ readings: [] })}]}`,
    reason: 'nested_batch',
    path: 'readings[0].readings',
    index: 0,
  },
  {
    name: 'array instead of object in a batch',
    input: `{"readings": [[${reading({})}]]}`,
    reason: 'not_an_object',
    path: 'readings[0]',
    index: 0,
  },
  {
    name: 'null in a batch',
    input: '{"readings": [null]}',
    reason: 'not_an_object',
    path: 'readings[0]',
    index: 0,
  },
  { name: 'string speed', input: reading({ speed_kmh: '12' }), reason: 'invalid_field', path: 'speed_kmh' },
  { name: 'boolean latitude', input: reading({ gps_lat: true }), reason: 'invalid_field', path: 'gps_lat' },
  { name: 'array longitude', input: reading({ gps_lon: [2.35] }), reason: 'invalid_field', path: 'gps_lon' },
  {
    name: 'object engine temperature',
    input: reading({ engine_temp_c: { value: 90 } }),
    reason: 'invalid_field',
    path: 'engine_temp_c',
  },
  { name: 'string rpm', input: reading({ rpm: '2100' }), reason: 'invalid_field', path: 'rpm' },
  {
    name: '"NaN" as a string',
    input: reading({ speed_kmh: 'NaN' }),
    reason: 'invalid_field',
    path: 'speed_kmh',
  },
  {
    name: '"Infinity" as a string',
    input: reading({ engine_temp_c: 'Infinity' }),
    reason: 'invalid_field',
    path: 'engine_temp_c',
  },
  {
    name: '"-0" as a string',
    input: reading({ speed_kmh: '-0' }),
    reason: 'invalid_field',
    path: 'speed_kmh',
  },
  {
    name: '1e400 overflows to Infinity',
    input: reading({ speed_kmh: 1 }).replace(':1,', ':1e400,'),
    reason: 'invalid_field',
    path: 'speed_kmh',
  },
  {
    name: 'null required field',
    input: reading({ engine_temp_c: null }),
    reason: 'missing_field',
    path: 'engine_temp_c',
  },
  {
    name: 'null vehicle_id',
    input: reading({ vehicle_id: null }),
    reason: 'missing_field',
    path: 'vehicle_id',
  },
  ...(
    [
      ['speed_kmh', -0.1],
      ['speed_kmh', 400.1],
      ['engine_temp_c', -50.1],
      ['engine_temp_c', 200.1],
      ['gps_lat', -90.000001],
      ['gps_lat', 90.000001],
      ['gps_lon', -180.000001],
      ['gps_lon', 180.000001],
      ['fuel_level_pct', -0.1],
      ['fuel_level_pct', 100.1],
      ['rpm', -1],
      ['rpm', 20000.5],
    ] as const
  ).map(
    ([field, value]): BadInput => ({
      name: `${field} out of range at ${value}`,
      input: reading({ [field]: value }),
      reason: 'out_of_range',
      path: field,
    }),
  ),
  ...(['vehicle_id', 'timestamp', 'speed_kmh', 'engine_temp_c', 'gps_lat', 'gps_lon'] as const).map(
    (field): BadInput => ({
      name: `missing ${field}`,
      input: reading({ [field]: undefined }),
      reason: 'missing_field',
      path: field,
    }),
  ),
  {
    name: 'timestamp a day in the future',
    input: reading({ timestamp: '2026-03-02T12:00:00Z' }),
    reason: 'timestamp_in_future',
    path: 'timestamp',
  },
  {
    name: 'timestamp 6 minutes ahead',
    input: reading({ timestamp: NOW_MS + 6 * 60_000 }),
    reason: 'timestamp_in_future',
    path: 'timestamp',
  },
  {
    name: 'timestamp ahead by a positive offset trick',
    input: reading({ timestamp: '2026-03-01T23:00:00-02:00' }),
    reason: 'timestamp_in_future',
    path: 'timestamp',
  },
  {
    name: 'epoch seconds just under 1e11 (year 5138)',
    input: reading({ timestamp: 99_999_999_999 }),
    reason: 'timestamp_in_future',
    path: 'timestamp',
  },
  {
    name: 'timestamp 1970 (ISO)',
    input: reading({ timestamp: '1970-01-01T00:00:00Z' }),
    reason: 'timestamp_too_old',
    path: 'timestamp',
  },
  {
    name: 'timestamp 1999-12-31 with offset',
    input: reading({ timestamp: '1999-12-31T23:59:59+01:00' }),
    reason: 'timestamp_too_old',
    path: 'timestamp',
  },
  { name: 'epoch 0', input: reading({ timestamp: 0 }), reason: 'timestamp_too_old', path: 'timestamp' },
  {
    name: 'negative epoch',
    input: reading({ timestamp: -1 }),
    reason: 'timestamp_too_old',
    path: 'timestamp',
  },
  {
    name: 'epoch 1e11 read as milliseconds (1973)',
    input: reading({ timestamp: 1e11 }),
    reason: 'timestamp_too_old',
    path: 'timestamp',
  },
  {
    name: 'ISO without offset',
    input: reading({ timestamp: '2026-03-01T11:59:00' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO date only',
    input: reading({ timestamp: '2026-03-01' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO without seconds',
    input: reading({ timestamp: '2026-03-01T11:59Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO with a space separator',
    input: reading({ timestamp: '2026-03-01 11:59:00Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO offset without colon',
    input: reading({ timestamp: '2026-03-01T13:59:00+0200' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO with invalid date 2026-02-30',
    input: reading({ timestamp: '2026-02-30T10:00:00Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO with 2026-02-29 (not a leap year)',
    input: reading({ timestamp: '2026-02-29T10:00:00Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO with month 13',
    input: reading({ timestamp: '2026-13-01T10:00:00Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO with hour 24',
    input: reading({ timestamp: '2026-03-01T24:00:00Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'ISO with a leap second',
    input: reading({ timestamp: '2016-12-31T23:59:60Z' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'garbage timestamp',
    input: reading({ timestamp: 'yesterday' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'epoch as a string',
    input: reading({ timestamp: '1772366340' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'boolean timestamp',
    input: reading({ timestamp: true }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  {
    name: 'RFC 2822 timestamp',
    input: reading({ timestamp: 'Sun, 01 Mar 2026 11:59:00 GMT' }),
    reason: 'invalid_timestamp',
    path: 'timestamp',
  },
  ...(
    [
      ['path traversal', '../x'],
      ['a colon (key separator)', 'a:b'],
      ['braces (Redis hash tag)', '{x}'],
      ['a newline', 'a\nb'],
      ['a trailing newline', 'veh-1\n'],
      ['a space', 'a b'],
      ['fullwidth letters', 'ＡＢＣ'],
      ['a Cyrillic look-alike e', 'vеh-00042'],
      ['a zero-width space', 'veh-\u200b00042'],
      ['a NUL byte', 'veh\u0000'],
      ['a slash', 'fleet/veh-1'],
      ['a wildcard', 'veh-*'],
      ['a leading dash', '-veh'],
      ['a leading dot', '.veh'],
      ['the empty string', ''],
      ['65 characters', 'v'.repeat(65)],
      ['a 10 KB string', 'v'.repeat(10_240)],
      ['a number', 42],
      ['an array', ['veh-1']],
    ] as const
  ).map(
    ([what, id]): BadInput => ({
      name: `vehicle_id with ${what}`,
      input: reading({ vehicle_id: id }),
      reason: 'invalid_vehicle_id',
      path: 'vehicle_id',
    }),
  ),
  ...(
    [
      ['path traversal', '../x'],
      ['braces', '{x}'],
      ['a space', 'a b'],
      ['a newline', 'e\n1'],
      ['fullwidth letters', 'ｅｖ１'],
      ['the empty string', ''],
      ['129 characters', 'e'.repeat(129)],
      ['a number', 7],
      ['a leading colon', ':1'],
    ] as const
  ).map(
    ([what, id]): BadInput => ({
      name: `event_id with ${what}`,
      input: reading({ event_id: id }),
      reason: 'invalid_event_id',
      path: 'event_id',
    }),
  ),
  {
    name: 'extra values nested deeper than 16 levels',
    input: reading({ extra: JSON.parse(`${'['.repeat(20)}${']'.repeat(20)}`) }),
    reason: 'too_deeply_nested',
    path: '',
  },
  {
    name: 'extra values nested 100 000 levels (no stack overflow)',
    input: reading({ extra: 0 }).replace('"extra":0', `"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    reason: 'too_deeply_nested',
    path: '',
  },
  {
    name: 'a bad reading in a batch keeps its index in the path',
    input: JSON.stringify({
      readings: [readingObject({}), readingObject({}), readingObject({ gps_lat: 'north' })],
    }),
    reason: 'invalid_field',
    path: 'readings[2].gps_lat',
    index: 2,
  },
];

describe('telemetry parser: bad input', () => {
  it('covers at least 45 distinct bad inputs', () => {
    const all = [...messageLevel, ...readingLevel];
    expect(all.length).toBeGreaterThanOrEqual(45);
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
  });

  it.each([...messageLevel, ...readingLevel])(
    '$name → $reason at "$path"',
    ({ input, reason, path, index }) => {
      const result = parseTelemetryMessage(input, { nowMs: NOW_MS });
      const rejectsAtIndex = result.rejects.filter((r) => r.index === (index ?? null));
      expect(rejectsAtIndex).toHaveLength(1);
      const [reject] = rejectsAtIndex;
      expect(reject!.reason).toBe(reason);
      expect(reject!.issues).toContainEqual(expect.objectContaining({ path, reason }));
      expect(reject!.message.length).toBeGreaterThan(0);
      if (index === undefined) expect(result.readings).toEqual([]);
      else expect(result.readings).toHaveLength(index); // the valid ones before it in the batch
    },
  );

  it('never echoes a hostile value at length in the message', () => {
    const [reject] = parseTelemetryMessage(
      reading({ vehicle_id: 'v'.repeat(10_240), speed_kmh: 'x'.repeat(10_000) }),
      {
        nowMs: NOW_MS,
      },
    ).rejects;
    expect(reject!.message.length).toBeLessThan(600);
  });
});

describe('telemetry parser: never throws', () => {
  const options = { nowMs: NOW_MS };

  function assertWellFormed(result: ReturnType<typeof parseTelemetryMessage>) {
    expect(result.readings.length + result.rejects.length).toBeGreaterThan(0);
    for (const reject of result.rejects) {
      expect(REASON_PRIORITY).toContain(reject.reason);
      expect(reject.issues.length).toBeGreaterThan(0);
    }
    for (const r of result.readings) {
      expect(r.vehicle_id).toMatch(VEHICLE_ID_PATTERN);
      expect(r.event_id).toMatch(EVENT_ID_PATTERN);
      expect(Number.isSafeInteger(r.event_ts_ms)).toBe(true);
    }
  }

  function randomJson(rng: SeededRandom, depth: number): unknown {
    const pools: (() => unknown)[] = [
      () => null,
      () => rng.chance(0.5),
      () => rng.normal(0, 1e6),
      () => rng.pick([0, -0, 1e11, 99_999_999_999, 1e308, -1e308, 5e-324, NOW_MS, NOW_MS / 1000]),
      () =>
        rng.pick([
          '',
          'veh-1',
          '../x',
          '2026-03-01T11:00:00Z',
          '2026-02-30T00:00:00Z',
          'NaN',
          '\u0000',
          'ＡＢＣ',
        ]),
      () => String.fromCharCode(...Array.from({ length: rng.int(0, 12) }, () => rng.int(0, 0xffff))),
    ];
    if (depth > 0) {
      pools.push(() => Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth - 1)));
      pools.push(() => {
        const keys = [...Object.keys(VALID), 'event_id', 'readings', '__proto__', 'constructor', 'x'];
        return Object.fromEntries(
          Array.from({ length: rng.int(0, 9) }, () => [rng.pick(keys), randomJson(rng, depth - 1)]),
        );
      });
    }
    return rng.pick(pools)();
  }

  it('returns a verdict for thousands of random byte strings', () => {
    const rng = createSeededRandom(20260301);
    for (let i = 0; i < 3000; i++) {
      const input = new Uint8Array(Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255)));
      assertWellFormed(parseTelemetryMessage(input, options));
    }
  });

  it('returns a verdict for thousands of random JSON values and readings with random fields', () => {
    const rng = createSeededRandom(42);
    for (let i = 0; i < 2000; i++) {
      assertWellFormed(parseTelemetryMessage(JSON.stringify(randomJson(rng, 3)), options));
      const mutated = { ...VALID } as Record<string, unknown>;
      for (let k = rng.int(0, 3); k > 0; k--) mutated[rng.pick(Object.keys(VALID))] = randomJson(rng, 1);
      const batch = rng.chance(0.3) ? { readings: [mutated, randomJson(rng, 2)] } : mutated;
      assertWellFormed(parseTelemetryMessage(JSON.stringify(batch), options));
    }
  });

  it('returns a verdict for thousands of valid messages with random bytes corrupted', () => {
    const rng = createSeededRandom(7);
    const source = utf8(JSON.stringify({ readings: [VALID, { ...VALID, event_id: 'veh-00042:9' }] }));
    for (let i = 0; i < 3000; i++) {
      const copy = source.slice();
      for (let k = rng.int(1, 4); k > 0; k--) copy[rng.int(0, copy.length - 1)] = rng.int(0, 255);
      assertWellFormed(parseTelemetryMessage(copy, options));
    }
  });
});
