// Generators of hostile requests to the ingest gateway (fast-check), shared by the in-process
// fuzz test and the smaller real-server set: random bytes, deep nesting, huge numbers, unicode,
// prototype keys, wrong or stale signatures, header values that try to smuggle headers, mutated
// valid batches, readings for other vehicles.
import fc from 'fast-check';
import { deriveDeviceKey, signRequest } from '../../shared/ingress/request-signature.js';
import { TEST_FLEET_SECRET } from './ingress-fakes.js';

export const FUZZ_DEVICE = 'veh-fuzz-1';
export const FUZZ_OTHER = 'veh-fuzz-2';
const DEVICE = FUZZ_DEVICE;
const OTHER = FUZZ_OTHER;
const NOW = Date.now();

/** Every documented refusal code. */
export const CODES = new Set([
  'not_found',
  'method_not_allowed',
  'invalid_query',
  'invalid_request',
  'unsupported_media_type',
  'unsupported_content_encoding',
  'length_required',
  'invalid_content_length',
  'body_too_large',
  'missing_signature',
  'invalid_device_id',
  'malformed_signature',
  'timestamp_out_of_range',
  'invalid_signature',
  'malformed_json',
  'not_an_object',
  'invalid_batch',
  'empty_batch',
  'batch_too_large',
  'vehicle_mismatch',
  'no_valid_readings',
  'rate_limited',
]);
export const SUCCESS = new Set([200, 202]);
/** Statuses of refusals (5xx aside: only the documented 503s may occur). */
export const REFUSALS = new Set([400, 401, 403, 404, 405, 411, 413, 415, 422, 429]);

// ---- bodies ----------------------------------------------------------------------------------
const timestampArb = fc.oneof(
  fc.integer({ min: NOW - 7_200_000, max: NOW + 60_000 }).map((ms) => new Date(ms).toISOString()),
  fc.integer({ min: NOW - 7_200_000, max: NOW + 600_000 }),
  fc.integer({ min: Math.floor(NOW / 1000) - 7200, max: Math.floor(NOW / 1000) + 600 }),
  fc.constantFrom('2026-02-30T00:00:00Z', '1999-12-31T23:59:59Z', 'now', '', 1e308, -1, '1772352000'),
);
const numberArb = fc.oneof(
  fc.double({ min: -100, max: 500, noNaN: true }),
  fc.integer({ min: 0, max: 400 }),
  fc.constantFrom(0, -0, 400, 400.0000001, Number.MAX_VALUE, Number.MIN_VALUE, 1e21),
  fc.constantFrom('12', null, true, [], {}),
);
const vehicleArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(DEVICE) },
  fc.constant(OTHER),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('veh}{x', 'veh\u0000', '../../etc', 'veh-fuzz-1 ', 'VEH-FUZZ-1'),
);
const readingArb = fc.record(
  {
    vehicle_id: vehicleArb,
    timestamp: timestampArb,
    speed_kmh: numberArb,
    engine_temp_c: numberArb,
    gps_lat: numberArb,
    gps_lon: numberArb,
    fuel_level_pct: numberArb,
    rpm: numberArb,
    event_id: fc.oneof(fc.string({ maxLength: 140 }), fc.constant(null)),
    note: fc.string({ unit: 'binary', maxLength: 40 }),
    __proto__: fc.constant({ polluted: true }),
    constructor: fc.constant({ prototype: { polluted: true } }),
    readings: fc.constant([]),
  },
  { requiredKeys: ['vehicle_id', 'timestamp', 'speed_kmh', 'engine_temp_c', 'gps_lat', 'gps_lon'] },
);
/** Mostly-valid readings, so the accepting path is exercised as much as the refusing ones. */
const goodReadingArb = fc.record({
  vehicle_id: fc.constantFrom(DEVICE, DEVICE, DEVICE, OTHER),
  timestamp: fc.integer({ min: NOW - 3_600_000, max: NOW }),
  speed_kmh: fc.double({ min: 0, max: 400, noNaN: true }),
  engine_temp_c: fc.double({ min: -50, max: 200, noNaN: true }),
  gps_lat: fc.double({ min: -90, max: 90, noNaN: true }),
  gps_lon: fc.double({ min: -180, max: 180, noNaN: true }),
});
const deepArb = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[]', '{"a":}', '"x"'))
  .map(([depth, inner]) =>
    inner === '{"a":}'
      ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
      : `${'['.repeat(depth)}${inner === '"x"' ? '"x"' : ''}${']'.repeat(depth)}`,
  );
const hugeNumberTextArb = fc.constantFrom(
  '1e309',
  '-1e999',
  '123456789'.repeat(40),
  '0.' + '0'.repeat(500) + '1',
  '-0',
);

const bodyArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ unit: 'binary', maxLength: 500 }),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
  readingArb.map((r) => JSON.stringify(r)),
  { weight: 2, arbitrary: goodReadingArb.map((r) => JSON.stringify(r)) },
  fc
    .array(fc.oneof(goodReadingArb, readingArb, fc.jsonValue({ maxDepth: 3 })), { maxLength: 30 })
    .map((readings) => JSON.stringify({ readings })),
  {
    weight: 3,
    arbitrary: fc
      .array(goodReadingArb, { minLength: 1, maxLength: 40 })
      .map((readings) => JSON.stringify({ readings })),
  },
  deepArb.map((deep) => `{"readings":[${deep}]}`),
  deepArb.map(
    (deep) =>
      `{"vehicle_id":"${DEVICE}","timestamp":${NOW},"speed_kmh":1,"engine_temp_c":1,"gps_lat":1,"gps_lon":1,"x":${deep}}`,
  ),
  hugeNumberTextArb.map(
    (n) =>
      `{"vehicle_id":"${DEVICE}","timestamp":${NOW},"speed_kmh":${n},"engine_temp_c":1,"gps_lat":1,"gps_lon":1,"big":${n}}`,
  ),
  fc.constantFrom(
    '{"readings":[1],"readings":[{"vehicle_id":"veh-fuzz-2","timestamp":1,"speed_kmh":1,"engine_temp_c":1,"gps_lat":1,"gps_lon":1}]}',
    `{"\\u0072eadings":[{"vehicle_id":"${DEVICE}","timestamp":${NOW},"speed_kmh":1,"engine_temp_c":1,"gps_lat":1,"gps_lon":1}]}`,
    `{"vehicle_id":"\\ud800","timestamp":${NOW}}`,
    '\ufeff{}',
    '',
    'null',
    '{"readings":{"length":1,"0":{}}}',
  ),
  // A valid batch with one byte changed, inserted or removed.
  fc
    .tuple(
      fc.array(goodReadingArb, { minLength: 1, maxLength: 5 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(2),
    )
    .map(([readings, at, byte, op]) => {
      const text = JSON.stringify({ readings });
      const i = at % text.length;
      const c = String.fromCharCode(byte);
      return op === 0
        ? text.slice(0, i) + c + text.slice(i + 1)
        : op === 1
          ? text.slice(0, i) + c + text.slice(i)
          : text.slice(0, i) + text.slice(i + 1);
    }),
);

// ---- requests --------------------------------------------------------------------------------
export type SignMode =
  | 'valid'
  | 'other_secret'
  | 'other_device_key'
  | 'stale'
  | 'future'
  | 'random'
  | 'missing'
  | 'other_body';
const signArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<SignMode>('valid') },
  fc.constantFrom<SignMode>(
    'other_secret',
    'other_device_key',
    'stale',
    'future',
    'random',
    'missing',
    'other_body',
  ),
);
const headerValueArb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    'veh-fuzz-1\r\nx-signature: 00',
    'veh-fuzz-1\nHost: evil',
    'veh-fuzz-1, veh-fuzz-2',
    'veh-fuzz-1\u0000',
    'ä',
    ' veh-fuzz-1',
  ),
);
export const requestArb = fc.record({
  body: bodyArb,
  sign: signArb,
  deviceHeader: fc.oneof({ weight: 8, arbitrary: fc.constant(DEVICE) }, headerValueArb),
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'text/plain',
      'application/json; charset=utf-16',
      '',
    ),
    fc.string({ maxLength: 30 }),
  ),
  extraHeaders: fc.array(
    fc.tuple(
      fc.constantFrom(
        'x-signature',
        'x-timestamp',
        'x-device-id',
        'content-encoding',
        'content-length',
        'x-forwarded-for',
        'transfer-encoding',
        'x-extra',
      ),
      headerValueArb,
    ),
    { maxLength: 2 },
  ),
  path: fc.oneof(
    { weight: 10, arbitrary: fc.constant('/v1/telemetry') },
    fc.constantFrom(
      '/v1/telemetry?wait=true',
      '/v1/telemetry?wait=1',
      '/v1/telemetry/',
      '/V1/TELEMETRY',
      '/v1/telemetry?wait=true&wait=false',
      '/v1/%2e%2e/telemetry',
      '//v1/telemetry',
    ),
  ),
  method: fc.oneof(
    { weight: 10, arbitrary: fc.constant('POST') },
    fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  ),
  backend: fc.oneof(
    { weight: 30, arbitrary: fc.constant('up' as const) },
    fc.constantFrom('bucket_down' as const, 'pubsub_down' as const),
  ),
  tightBucket: fc.boolean(),
});

export function signatureHeaders(
  mode: SignMode,
  deviceHeader: string,
  body: Uint8Array,
  now = NOW,
): Record<string, string> {
  if (mode === 'missing') return {};
  if (mode === 'random')
    return {
      'x-device-id': deviceHeader,
      'x-timestamp': String(Math.floor(NOW / 1000)),
      'x-signature': 'ab'.repeat(32),
    };
  const secret = mode === 'other_secret' ? 'another-fleet-secret-000000000000000000000' : TEST_FLEET_SECRET;
  const keyFor = mode === 'other_device_key' ? OTHER : deviceHeader;
  const nowMs = mode === 'stale' ? now - 600_000 : mode === 'future' ? now + 600_000 : now;
  const signed = signRequest({
    deviceKey: deriveDeviceKey(secret, keyFor),
    deviceId: deviceHeader,
    body: mode === 'other_body' ? Buffer.concat([body, Buffer.from(' ')]) : body,
    nowMs,
  });
  return signed;
}
