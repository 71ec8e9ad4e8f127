// The gateway's HTTP surface in process (hono app.request) with in-memory ports: every refusal has
// its status and stable code and publishes nothing; accepted readings are forwarded as sent,
// packed to the feature function's message limits; ?wait=true settles from the dedupe state.
import { describe, expect, it } from 'vitest';
import { FleetError } from '../../shared/errors.js';
import type { IngestDeps } from '../../shared/ingress/ingest-telemetry.js';
import { createIngressApp } from '../../shared/ingress/ingress-app.js';
import type { ReadingRef, ReadingState } from '../../shared/ports/reading-status.js';
import { buildFeatureRow } from '../../shared/rows/feature-row.js';
import { parseTelemetryMessage } from '../../shared/telemetry/index.js';
import { parseTraceparent } from '../../shared/tracing/trace-context.js';
import type { WindowSnapshot } from '../../shared/windows/window-snapshot.js';
import { fakeIngestDeps, MemoryTokenBucket, reading, signedHeaders } from '../helpers/ingress-fakes.js';

const DEVICE = 'veh-app-1';

function post(
  deps: IngestDeps,
  body: string,
  options: { headers?: Record<string, string>; path?: string; deviceId?: string; method?: string } = {},
) {
  const app = createIngressApp(deps);
  return app.request(options.path ?? '/v1/telemetry', {
    method: options.method ?? 'POST',
    body: options.method === 'GET' ? null : body,
    headers: { ...signedHeaders(body, { deviceId: options.deviceId ?? DEVICE }), ...options.headers },
  });
}

const json = (value: unknown) => JSON.stringify(value);
const one = json(reading(DEVICE, 5));

describe('refusals: status, stable code, nothing published', () => {
  const batchOf = (n: number) =>
    json({ readings: Array.from({ length: n }, (_, i) => reading(DEVICE, i + 1)) });
  const cases: [string, () => Parameters<typeof post>, number, string][] = [
    ['an unknown route', () => [fakeIngestDeps(), one, { path: '/v1/other' }], 404, 'not_found'],
    ['GET', () => [fakeIngestDeps(), one, { method: 'GET' }], 405, 'method_not_allowed'],
    [
      'a bad wait flag',
      () => [fakeIngestDeps(), one, { path: '/v1/telemetry?wait=maybe' }],
      400,
      'invalid_query',
    ],
    [
      'text/plain',
      () => [fakeIngestDeps(), one, { headers: { 'content-type': 'text/plain' } }],
      415,
      'unsupported_media_type',
    ],
    [
      'no content type',
      () => [fakeIngestDeps(), one, { headers: { 'content-type': '' } }],
      415,
      'unsupported_media_type',
    ],
    [
      'a latin-1 charset',
      () => [fakeIngestDeps(), one, { headers: { 'content-type': 'application/json; charset=latin1' } }],
      415,
      'unsupported_media_type',
    ],
    [
      'gzip',
      () => [fakeIngestDeps(), one, { headers: { 'content-encoding': 'gzip' } }],
      415,
      'unsupported_content_encoding',
    ],
    [
      'a declared length over 1 MiB',
      () => [fakeIngestDeps(), one, { headers: { 'content-length': String(2 ** 20 + 1) } }],
      413,
      'body_too_large',
    ],
    ['a body over the limit', () => [fakeIngestDeps(), ' '.repeat(2 ** 20 + 1)], 413, 'body_too_large'],
    ['malformed JSON', () => [fakeIngestDeps(), '{"vehicle_id": '], 400, 'malformed_json'],
    [
      'invalid UTF-8',
      () => [fakeIngestDeps(), Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')],
      400,
      'malformed_json',
    ],
    ['an array', () => [fakeIngestDeps(), '[1,2]'], 400, 'not_an_object'],
    ['an empty batch', () => [fakeIngestDeps(), '{"readings":[]}'], 400, 'empty_batch'],
    ['a batch with stray keys', () => [fakeIngestDeps(), '{"readings":[],"x":1}'], 400, 'invalid_batch'],
    ['more readings than the batch limit', () => [fakeIngestDeps(), batchOf(501)], 413, 'batch_too_large'],
    [
      'no signature',
      () => [fakeIngestDeps(), one, { headers: { 'x-signature': '' } }],
      401,
      'missing_signature',
    ],
    [
      'a wrong signature',
      () => [fakeIngestDeps(), one, { headers: { 'x-signature': 'ab'.repeat(32) } }],
      401,
      'invalid_signature',
    ],
    [
      'a replayed request (6 minutes old)',
      () => [fakeIngestDeps({ clock: () => Date.now() + 360_000 }), one],
      401,
      'timestamp_out_of_range',
    ],
    [
      'a request from the future',
      () => [fakeIngestDeps({ clock: () => Date.now() - 360_000 }), one],
      401,
      'timestamp_out_of_range',
    ],
    [
      'an invalid device id',
      () => [fakeIngestDeps(), one, { headers: { 'x-device-id': '../etc' } }],
      401,
      'invalid_device_id',
    ],
    [
      'a reading of another vehicle',
      () => [fakeIngestDeps(), json({ readings: [reading(DEVICE, 2), reading('veh-other', 1)] })],
      403,
      'vehicle_mismatch',
    ],
    [
      'an invalid reading of another vehicle',
      () => [
        fakeIngestDeps(),
        json({ readings: [reading(DEVICE, 2), { ...reading('veh-other', 1), speed_kmh: -1 }] }),
      ],
      403,
      'vehicle_mismatch',
    ],
    [
      'only invalid readings',
      () => [
        fakeIngestDeps(),
        json({ readings: [{ ...reading(DEVICE, 2), speed_kmh: 401 }, { vehicle_id: DEVICE }] }),
      ],
      422,
      'no_valid_readings',
    ],
    [
      'a reading too large for a pipeline message',
      () => [fakeIngestDeps(), json({ ...reading(DEVICE, 1), blob: 'x'.repeat(300_000) })],
      422,
      'no_valid_readings',
    ],
  ];
  it.each(cases)('%s', async (_name, args, status, code) => {
    const [deps, ...rest] = args();
    const response = await post(deps, ...rest);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code } });
    expect((deps.publisher as unknown as { messages: unknown[] }).messages).toEqual([]);
  });

  it('429 with Retry-After when a device is over its bucket, while another device is served', async () => {
    const deps = fakeIngestDeps({ rateLimiter: new MemoryTokenBucket(2, 10, () => 0) });
    const batch = (device: string, n: number) =>
      json({ readings: Array.from({ length: n }, (_, i) => reading(device, i + 1)) });
    expect((await post(deps, batch(DEVICE, 8))).status).toBe(202);
    const refused = await post(deps, batch(DEVICE, 3));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1'); // 1 token short at 2 per second
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' }, retry_after_ms: 500 });
    expect((await post(deps, batch('veh-app-2', 10), { deviceId: 'veh-app-2' })).status).toBe(202);
    expect(deps.publisher.messages.map((m) => m.attributes.device_id)).toEqual([DEVICE, 'veh-app-2']);
  });

  it.each([
    ['the rate limiter', 'rateLimiter', 'rate_limiter_unavailable'],
    ['Pub/Sub', 'publisher', 'publish_unavailable'],
  ] as const)('503 with Retry-After when %s is down', async (_name, port, code) => {
    const deps = fakeIngestDeps();
    const down = new FleetError(port === 'publisher' ? 'transient_sink' : 'transient_redis', 'down');
    (deps[port] as unknown as { failWith: Error }).failWith = down;
    const response = await post(deps, one);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response.json()).toMatchObject({ error: { code } });
    expect(deps.publisher.messages).toEqual([]);
  });
});

describe('accepted readings', () => {
  it('forwards a single reading byte for byte and answers 202 with counts', async () => {
    const deps = fakeIngestDeps();
    const body = `{ "vehicle_id" : "${DEVICE}", "timestamp": ${Math.floor(Date.now() / 1000)}, "speed_kmh": 1.50, "engine_temp_c": 9e1, "gps_lat": 1, "gps_lon": 2, "fw": 123456789012345678901234567890 }`;
    const response = await post(deps, body);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1, rejected: 0, rejects: [] });
    expect(deps.publisher.messages.map((m) => m.data.toString())).toEqual([body]);
    expect(deps.publisher.messages[0]!.attributes).toEqual({
      source: 'ingest-gateway',
      device_id: DEVICE,
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/),
    });
  });

  it("carries the request's trace onto the message in a span of its own; an invalid one is replaced, never refused", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traced = fakeIngestDeps();
    const incoming = `00-${traceId}-00f067aa0ba902b7-01`;
    expect((await post(traced, one, { headers: { traceparent: incoming } })).status).toBe(202);
    const carried = parseTraceparent(traced.publisher.messages[0]!.attributes.traceparent);
    expect(carried).toMatchObject({ traceId, sampled: true });
    expect(carried!.spanId).not.toBe('00f067aa0ba902b7');

    const invalid = fakeIngestDeps();
    const bad = `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`;
    expect((await post(invalid, one, { headers: { traceparent: bad } })).status).toBe(202);
    const started = parseTraceparent(invalid.publisher.messages[0]!.attributes.traceparent);
    expect(started).toMatchObject({ sampled: false });
    expect(started!.traceId).not.toBe('0'.repeat(32));
  });

  it('forwards the valid readings of a batch as sent and lists the others by index and reason', async () => {
    const deps = fakeIngestDeps();
    const texts = [
      json(reading(DEVICE, 3)),
      json({ ...reading(DEVICE, 2), gps_lat: 91 }),
      `{"vehicle_id":"${DEVICE}","timestamp":${Date.now()},"speed_kmh":0,"engine_temp_c":0,"gps_lat":0,"gps_lon":0,"note":"\\u00fcber"}`,
    ];
    const response = await post(deps, `{"readings": [\n  ${texts.join(',\n  ')}\n]}`);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({
      accepted: 2,
      rejected: 1,
      rejects: [{ index: 1, reason: 'out_of_range' }],
    });
    expect(deps.publisher.messages.map((m) => m.data.toString())).toEqual([
      `{"readings":[${texts[0]},${texts[2]}]}`,
    ]);
  });

  it('splits a large batch into messages the feature function accepts', async () => {
    const deps = fakeIngestDeps();
    deps.limits.maxMessageBytes = 4096;
    const readings = Array.from({ length: 200 }, (_, i) => ({
      ...reading(DEVICE, i + 1),
      pad: 'p'.repeat(i % 50),
    }));
    const response = await post(deps, json({ readings }));
    expect(await response.json()).toMatchObject({ accepted: 200, rejected: 0 });
    expect(deps.publisher.messages.length).toBeGreaterThan(5);
    const forwarded = deps.publisher.messages.flatMap((m) => {
      expect(m.data.length).toBeLessThanOrEqual(4096);
      const parsed = parseTelemetryMessage(m.data, { nowMs: Date.now(), maxBytes: 4096 });
      expect(parsed.rejects).toEqual([]);
      return parsed.readings.map((r) => r.event_ts_ms);
    });
    expect(forwarded).toEqual(readings.map((r) => Date.parse(r.timestamp)));
  });
});

describe('?wait=true', () => {
  const snapshot: WindowSnapshot = {
    status: 'in_order',
    fingerprint: 0,
    processedTsMs: Date.UTC(2026, 2, 1),
    windows: Array.from({ length: 4 }, () => ({
      count: 1,
      speed: { mean: 1, min: 1, max: 1, std: 0 },
      temp: { mean: 2, min: 2, max: 2, std: 0 },
      distanceKm: 0,
    })),
  };
  /** A store whose states move on by one step per read. */
  function scriptedStatus(script: ((ref: ReadingRef) => ReadingState)[]) {
    let reads = 0;
    return {
      reads: () => reads,
      readingStates: async (_v: string, refs: readonly ReadingRef[]) => {
        const step = script[Math.min(reads++, script.length - 1)]!;
        return refs.map(step);
      },
    };
  }

  it('answers 200 with the rows once applied, 202 with pending ones at the timeout', async () => {
    const sent = reading(DEVICE, 1);
    const stored = (ref: ReadingRef): ReadingState => ({
      state: 'stored',
      stored: {
        eventId: 'e1',
        reading: { ...sent, event_ts_ms: ref.eventTsMs, fuel_level_pct: null, rpm: null },
        snapshot,
        modelVersion: null,
      },
    });
    const status = scriptedStatus([() => ({ state: 'pending' }), () => ({ state: 'pending' }), stored]);
    const deps = fakeIngestDeps({ readingStatus: status });
    const response = await post(deps, json(sent), { path: '/v1/telemetry?wait=true' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      rows: unknown[];
      wait: { complete: boolean; readings: unknown[] };
    };
    const row = buildFeatureRow(
      { ...sent, event_id: 'e1', event_ts_ms: Date.parse(sent.timestamp), fuel_level_pct: null, rpm: null },
      snapshot,
    );
    expect(body.rows).toEqual([row]);
    expect(body.wait).toMatchObject({ complete: true, readings: [{ index: null, status: 'applied', row }] });

    let now = 0;
    const slow = fakeIngestDeps({
      readingStatus: scriptedStatus([() => ({ state: 'pending' })]),
      clock: () => Date.now() + now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const late = await post(slow, json(sent), { path: '/v1/telemetry?wait=true' });
    expect(late.status).toBe(202);
    expect(await late.json()).toMatchObject({
      accepted: 1,
      wait: { complete: false, readings: [{ status: 'pending' }] },
      rows: [],
    });
    expect(slow.publisher.messages).toHaveLength(1);
  });

  it('scores each row with the model version stored with it, as the feature function does', async () => {
    const sent = reading(DEVICE, 1);
    const status = scriptedStatus([
      () => ({ state: 'pending' }),
      (ref) => ({
        state: 'stored',
        stored: {
          eventId: 'e2',
          reading: { ...sent, event_ts_ms: ref.eventTsMs, fuel_level_pct: null, rpm: null },
          snapshot,
          modelVersion: 'model-7',
        },
      }),
    ]);
    const asked: string[][] = [];
    const models = {
      currentVersion: () => 'model-8',
      scorers: async (versions: readonly string[]) => {
        asked.push([...versions]);
        return new Map([
          ['model-7', (row: Readonly<Record<string, unknown>>) => (row.speed_kmh as number) / 1000],
        ]);
      },
    };
    const response = await post(fakeIngestDeps({ readingStatus: status, models }), json(sent), {
      path: '/v1/telemetry?wait=true',
    });
    const body = (await response.json()) as { rows: { model_version: string; risk_score: number }[] };
    expect(asked).toEqual([['model-7']]);
    expect(body.rows).toMatchObject([{ model_version: 'model-7', risk_score: sent.speed_kmh / 1000 }]);
  });

  it('settles a re-send as a duplicate before publishing, without waiting', async () => {
    const status = scriptedStatus([() => ({ state: 'applied' })]);
    const deps = fakeIngestDeps({ readingStatus: status });
    const response = await post(deps, json(reading(DEVICE, 1)), { path: '/v1/telemetry?wait=true' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      wait: { complete: true, readings: [{ status: 'duplicate', row: null }] },
    });
    expect(status.reads()).toBe(1);
  });
});
