// The ingest gateway as deployed: the real function under functions-framework (its own express
// server and body parsers), the real Redis (token buckets) and the real Pub/Sub emulator
// (telemetry-raw). Accepted readings arrive on the topic exactly as sent; every refusal has its
// status and stable code and publishes nothing; buckets are per device; a fleet secret rotates;
// Redis or Pub/Sub down means 503 with Retry-After; an over-long body is refused unread.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Message, PubSub } from '@google-cloud/pubsub';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../../local/servers/free-port.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { loadConfig } from '../../shared/config.js';
import { respondWithFetch } from '../../shared/runtime/fetch-bridge.js';
import { createIngressRuntime, type IngressRuntime } from '../../shared/runtime/ingress-runtime.js';
import { parseTelemetryMessage } from '../../shared/telemetry/index.js';
import {
  CODES,
  FUZZ_DEVICE,
  REFUSALS,
  requestArb,
  SUCCESS,
  signatureHeaders,
} from '../helpers/hostile-ingress-requests.js';
import { reading, signedHeaders, TEST_FLEET_SECRET } from '../helpers/ingress-fakes.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

const suffix = randomBytes(4).toString('hex');
const TOPIC = `telemetry-raw-gw-${suffix}`;
const dev = (name: string) => `gw-${name}-${suffix}`;

let env: Record<string, string>;
let pubsub: PubSub;
const servers: Server[] = [];
const runtimes: IngressRuntime[] = [];
/** Every message that reached telemetry-raw during the suite. */
const received: { data: string; attributes: Record<string, string> }[] = [];
let gatewayUrl = '';
let gatewayServer: Server;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      servers.push(server);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** A gateway with its own configuration, served by functions-framework through the same bridge. */
async function gatewayWith(name: string, overrides: Record<string, string>): Promise<string> {
  const runtime = createIngressRuntime(loadConfig({ ...env, ...overrides }));
  runtimes.push(runtime);
  functions.http(name, (req, res) => respondWithFetch(req, res, runtime.app.fetch));
  return listen(getTestServer(name));
}

function send(
  url: string,
  body: string,
  options: { deviceId: string; secret?: string; path?: string; headers?: Record<string, string> },
) {
  return fetch(`${url}${options.path ?? '/v1/telemetry'}`, {
    method: 'POST',
    body,
    headers: {
      ...signedHeaders(body, {
        deviceId: options.deviceId,
        fleetSecret: options.secret ?? TEST_FLEET_SECRET,
      }),
      ...options.headers,
    },
  });
}

const messagesOf = (deviceId: string) => received.filter((m) => m.attributes.device_id === deviceId);

beforeAll(async () => {
  const local = localServers();
  env = {
    GOOGLE_CLOUD_PROJECT: local.projectId,
    REDIS_URL: local.redisUrl,
    PUBSUB_EMULATOR_HOST: local.pubsubEmulatorHost,
    TELEMETRY_TOPIC: TOPIC,
    INGEST_FLEET_SECRET: TEST_FLEET_SECRET,
    INGEST_RATE_PER_S: '1000',
    INGEST_BURST: '100000',
    LOG_LEVEL: 'silent',
  };
  Object.assign(process.env, env);
  pubsub = createPubSubClient(loadConfig(env));
  const [topic] = await pubsub.topic(TOPIC).get({ autoCreate: true });
  const [subscription] = await topic.createSubscription(`${TOPIC}-watch`);
  subscription.on('message', (message: Message) => {
    received.push({ data: message.data.toString('utf8'), attributes: message.attributes });
    message.ack();
  });
  // The function registers itself when imported, as on Cloud Functions.
  await import('../../functions/ingest-gateway/index.js');
  gatewayServer = getTestServer('ingestGateway');
  gatewayUrl = await listen(gatewayServer);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await Promise.all(runtimes.map((r) => r.close()));
  await pubsub?.close();
});

describe('accepted readings reach telemetry-raw exactly as sent', () => {
  it('forwards a signed batch element for element, and a single reading byte for byte', async () => {
    const device = dev('batch');
    const now = Date.now();
    // Spacing, escapes, number spellings and an unknown 30-digit integer: nothing is re-encoded.
    const texts = [
      `{ "vehicle_id": "${device}", "timestamp": "${new Date(now - 3000).toISOString()}", "speed_kmh": 5.50, "engine_temp_c": 9.0e1, "gps_lat": 48.1, "gps_lon": 11.5, "odometer": 123456789012345678901234567890 }`,
      `{"vehicle_id":"${device}","timestamp":${now - 2000},"speed_kmh":0,"engine_temp_c":-1,"gps_lat":-0.0,"gps_lon":0,"note":"\\u00fcber \\ud83d\\ude97"}`,
      `{"vehicle_id":"${device}","timestamp":${(now - 1000) / 1000},"speed_kmh":1,"engine_temp_c":1,"gps_lat":1,"gps_lon":1,"rpm":null}`,
    ];
    const body = `{\n  "readings": [\n    ${texts.join(',\n    ')}\n  ]\n}`;
    const response = await send(gatewayUrl, body, { deviceId: device });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 3, rejected: 0, rejects: [] });

    const single = JSON.stringify(reading(device, 10, { firmware: 'tcu-4.2.1' }));
    expect((await send(gatewayUrl, single, { deviceId: device })).status).toBe(202);

    await waitUntil(() => messagesOf(device).length === 2, { what: 'two messages on telemetry-raw' });
    const data = messagesOf(device).map((m) => m.data);
    expect(data).toContain(`{"readings":[${texts.join(',')}]}`);
    expect(data).toContain(single);
    expect(messagesOf(device)[0]!.attributes).toEqual({
      source: 'ingest-gateway',
      device_id: device,
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/),
    });
  });

  it('forwards the valid readings of a mixed batch and lists the others by index and reason', async () => {
    const device = dev('mixed');
    const readings = [reading(device, 3), { ...reading(device, 2), gps_lon: 181 }, reading(device, 1)];
    const response = await send(gatewayUrl, JSON.stringify({ readings }), { deviceId: device });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({
      accepted: 2,
      rejected: 1,
      rejects: [{ index: 1, reason: 'out_of_range' }],
    });
    await waitUntil(() => messagesOf(device).length === 1, { what: 'the mixed batch on telemetry-raw' });
    expect(messagesOf(device)[0]!.data).toBe(
      `{"readings":[${JSON.stringify(readings[0])},${JSON.stringify(readings[2])}]}`,
    );
  });
});

describe('refusals through the real server: status, code, nothing published', () => {
  const refused: string[] = [];
  const one = (device: string) => JSON.stringify(reading(device, 1));
  const cases: [string, (device: string) => Promise<Response>, number, string][] = [
    [
      'malformed JSON (not the framework HTML page)',
      (d) => send(gatewayUrl, '{"vehicle_id": ', { deviceId: d }),
      400,
      'malformed_json',
    ],
    [
      'text/plain',
      (d) => send(gatewayUrl, one(d), { deviceId: d, headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    ],
    [
      'gzip',
      (d) => send(gatewayUrl, one(d), { deviceId: d, headers: { 'content-encoding': 'gzip' } }),
      415,
      'unsupported_content_encoding',
    ],
    [
      'a body over 1 MiB',
      (d) => send(gatewayUrl, `{"readings":[${' '.repeat(2 ** 20)}]}`, { deviceId: d }),
      413,
      'body_too_large',
    ],
    [
      'a chunked body',
      (d) =>
        fetch(`${gatewayUrl}/v1/telemetry`, {
          method: 'POST',
          headers: signedHeaders(one(d), { deviceId: d }),
          body: new Blob([one(d)]).stream(),
          duplex: 'half',
        } as RequestInit),
      411,
      'length_required',
    ],
    [
      'more readings than the batch limit',
      (d) =>
        send(
          gatewayUrl,
          JSON.stringify({ readings: Array.from({ length: 501 }, (_, i) => reading(d, i + 1)) }),
          { deviceId: d },
        ),
      413,
      'batch_too_large',
    ],
    [
      'no signature',
      (d) => send(gatewayUrl, one(d), { deviceId: d, headers: { 'x-signature': '' } }),
      401,
      'missing_signature',
    ],
    [
      'a bad signature',
      (d) => send(gatewayUrl, one(d), { deviceId: d, secret: 'x'.repeat(40) }),
      401,
      'invalid_signature',
    ],
    [
      'a replayed request',
      (d) => {
        const body = one(d);
        return fetch(`${gatewayUrl}/v1/telemetry`, {
          method: 'POST',
          body,
          headers: signedHeaders(body, { deviceId: d, nowMs: Date.now() - 301_000 }),
        });
      },
      401,
      'timestamp_out_of_range',
    ],
    [
      'a reading of another vehicle',
      (d) => send(gatewayUrl, one(`${d}-x`), { deviceId: d }),
      403,
      'vehicle_mismatch',
    ],
    [
      'only invalid readings',
      (d) => send(gatewayUrl, JSON.stringify({ ...reading(d, 1), speed_kmh: 999 }), { deviceId: d }),
      422,
      'no_valid_readings',
    ],
    [
      'an unknown route',
      (d) => send(gatewayUrl, one(d), { deviceId: d, path: '/v1/other' }),
      404,
      'not_found',
    ],
    ['GET', () => fetch(`${gatewayUrl}/v1/telemetry`), 405, 'method_not_allowed'],
  ];
  it.each(cases)('%s', async (name, request, status, code) => {
    const device = dev(`r${cases.findIndex((c) => c[0] === name)}`);
    refused.push(device);
    const response = await request(device);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code } });
  });

  it('refuses a body declared over the limit without reading it (64 MiB declared, 16 MiB sent)', async () => {
    let bytesRead = 0;
    const counted = (socket: import('node:net').Socket) =>
      socket.once('close', () => (bytesRead += socket.bytesRead));
    gatewayServer.on('connection', counted);
    const port = Number(new URL(gatewayUrl).port);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /v1/telemetry HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${64 * 2 ** 20}\r\n\r\n`,
        );
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 16 * 2 ** 20 && !socket.destroyed) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('error', () => {}); // EPIPE once the server has closed: expected
      socket.on('close', () => resolve(text));
    });
    await waitUntil(() => bytesRead > 0, { what: 'the server socket closed' });
    gatewayServer.off('connection', counted);
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(reply).toMatch(/connection: close/i);
    expect(reply).toContain('"code":"body_too_large"');
    expect(bytesRead).toBeLessThan(4 * 2 ** 20);
  });

  it('published nothing for any refused request', async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received.filter((m) => refused.some((d) => m.attributes.device_id?.startsWith(d)))).toEqual([]);
  });
});

describe('rate limiting per device (Redis token bucket)', () => {
  it('answers 429 with Retry-After past the burst, publishes nothing for it, and serves another device', async () => {
    const url = await gatewayWith('gwBurst', {
      INGEST_RATE_PER_S: '1',
      INGEST_BURST: '10',
      MAX_BATCH_READINGS: '10',
    });
    const [a, b] = [dev('burst-a'), dev('burst-b')];
    const batch = (device: string, n: number, from: number) =>
      JSON.stringify({ readings: Array.from({ length: n }, (_, i) => reading(device, from + i)) });
    expect((await send(url, batch(a, 6, 100), { deviceId: a })).status).toBe(202);
    expect((await send(url, batch(a, 4, 200), { deviceId: a })).status).toBe(202);
    const refused = await send(url, batch(a, 5, 300), { deviceId: a });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(4);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await send(url, batch(b, 10, 100), { deviceId: b })).status).toBe(202);
    await waitUntil(() => messagesOf(a).length === 2 && messagesOf(b).length === 1, {
      what: 'the allowed batches',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messagesOf(a)).toHaveLength(2);
  });
});

describe('fleet secret rotation', () => {
  it('accepts both secrets during a rotation and rejects the old one after', async () => {
    const oldSecret = `old-${'o'.repeat(40)}`;
    const newSecret = `new-${'n'.repeat(40)}`;
    const before = await gatewayWith('gwRotBefore', { INGEST_FLEET_SECRET: oldSecret });
    const during = await gatewayWith('gwRotDuring', {
      INGEST_FLEET_SECRET: newSecret,
      INGEST_FLEET_SECRET_PREVIOUS: oldSecret,
    });
    const after = await gatewayWith('gwRotAfter', { INGEST_FLEET_SECRET: newSecret });
    const device = dev('rotation');
    const status = async (url: string, secret: string, s: number) =>
      (await send(url, JSON.stringify(reading(device, s)), { deviceId: device, secret })).status;
    expect(await status(before, oldSecret, 1)).toBe(202);
    expect(await status(before, newSecret, 2)).toBe(401);
    expect(await status(during, oldSecret, 3)).toBe(202);
    expect(await status(during, newSecret, 4)).toBe(202);
    expect(await status(after, newSecret, 5)).toBe(202);
    const refused = await send(after, JSON.stringify(reading(device, 6)), {
      deviceId: device,
      secret: oldSecret,
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    await waitUntil(() => messagesOf(device).length === 4, { what: 'the four accepted readings' });
  });
});

describe('backends down: fail closed with 503 and Retry-After', () => {
  it('answers 503 rate_limiter_unavailable when Redis is unreachable, and publishes nothing', async () => {
    const url = await gatewayWith('gwNoRedis', { REDIS_URL: `redis://127.0.0.1:${await getFreePort()}` });
    const device = dev('no-redis');
    const started = Date.now();
    const response = await send(url, JSON.stringify(reading(device, 1)), { deviceId: device });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response.json()).toMatchObject({ error: { code: 'rate_limiter_unavailable' } });
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messagesOf(device)).toEqual([]);
  });

  it('answers 503 publish_unavailable when Pub/Sub is unreachable', async () => {
    const url = await gatewayWith('gwNoPubsub', {
      PUBSUB_EMULATOR_HOST: `127.0.0.1:${await getFreePort()}`,
      INGEST_PUBLISH_TIMEOUT_MS: '1500',
    });
    const device = dev('no-pubsub');
    const response = await send(url, JSON.stringify(reading(device, 1)), { deviceId: device });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response.json()).toMatchObject({ error: { code: 'publish_unavailable' } });
  }, 20_000);
});

describe('hostile requests through the real server (a smaller set than the in-process fuzz)', () => {
  it('never 5xx, always JSON with a documented code, and publishes exactly what it accepted', async () => {
    let accepted = 0;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        requestArb.filter((r) => r.backend === 'up' && r.deviceHeader === FUZZ_DEVICE),
        async (r) => {
          const bytes = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : Buffer.from(r.body);
          let headers: Headers;
          try {
            headers = new Headers({
              'content-type': r.contentType,
              ...signatureHeaders(r.sign, r.deviceHeader, bytes, Date.now()),
            });
            for (const [name, value] of r.extraHeaders) {
              if (name !== 'content-length' && name !== 'transfer-encoding') headers.append(name, value);
            }
          } catch {
            return;
          }
          const response = await fetch(`${gatewayUrl}${r.path}`, {
            method: r.method,
            headers,
            ...(r.method === 'GET' ? {} : { body: bytes }),
          });
          sent++;
          const text = await response.text();
          expect(response.status).toBeLessThan(500);
          const answer = JSON.parse(text) as { error?: { code: string }; accepted?: number };
          if (SUCCESS.has(response.status)) accepted += answer.accepted!;
          else {
            expect(REFUSALS).toContain(response.status);
            expect(CODES).toContain(answer.error?.code);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(sent).toBeGreaterThan(200);
    const readingsOnTopic = () =>
      messagesOf(FUZZ_DEVICE).flatMap((m) => {
        const parsed = parseTelemetryMessage(m.data, { nowMs: Date.now() });
        expect(parsed.rejects).toEqual([]);
        expect(parsed.readings.every((x) => x.vehicle_id === FUZZ_DEVICE)).toBe(true);
        return parsed.readings;
      });
    await waitUntil(() => readingsOnTopic().length >= accepted, {
      what: 'every accepted reading on the topic',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(readingsOnTopic()).toHaveLength(accepted);
  }, 120_000);
});
