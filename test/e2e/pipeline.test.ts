// End to end on the local stack: readings published to the real Pub/Sub emulator are pushed to the
// real functions-framework serving processTelemetry, and land as rows in the BigQuery stand-in and
// objects in the GCS stand-in; invalid ones reach the dead-letter topic and quarantine with their
// reason; the online API serves the latest vector.

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { BigQuery } from '@google-cloud/bigquery';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Message, PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineResources } from '../../local/pipeline-resources.js';
import {
  createBigQueryClient,
  createBigQueryFeatureSink,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { type FleetConfig, loadConfig } from '../../shared/config.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

const suffix = randomBytes(4).toString('hex');
const vehicleA = `e2e-a-${suffix}`;
const vehicleB = `e2e-b-${suffix}`;

let config: FleetConfig;
let pubsub: PubSub;
let storage: Storage;
let bigquery: BigQuery;
const servers: Server[] = [];
let apiUrl = '';
const deadLettered: { attributes: Record<string, string>; body: { reason: string; index: number | null } }[] =
  [];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      servers.push(server);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

const now = Date.now();
const reading = (vehicle: string, secondsAgo: number, extra: Record<string, unknown> = {}) => ({
  vehicle_id: vehicle,
  timestamp: new Date(now - secondsAgo * 1000).toISOString(),
  speed_kmh: 40 + secondsAgo,
  engine_temp_c: 90,
  gps_lat: 48.85 + secondsAgo * 1e-4,
  gps_lon: 2.35,
  ...extra,
});

beforeAll(async () => {
  const local = localServers();
  Object.assign(process.env, {
    GOOGLE_CLOUD_PROJECT: local.projectId,
    REDIS_URL: local.redisUrl,
    PUBSUB_EMULATOR_HOST: local.pubsubEmulatorHost,
    STORAGE_EMULATOR_HOST: local.gcsStandinUrl,
    BIGQUERY_API_ENDPOINT: local.bigqueryStandinUrl,
    FEATURES_BUCKET: `e2e-${suffix}`,
    BIGQUERY_DATASET: `e2e_${suffix}`,
    TELEMETRY_TOPIC: `telemetry-raw-${suffix}`,
    DEAD_LETTER_TOPIC: `telemetry-dlq-${suffix}`,
    LOG_LEVEL: 'warn',
  });
  config = loadConfig();
  pubsub = createPubSubClient(config);
  storage = createStorageClient(config);
  bigquery = createBigQueryClient(config);
  await createBigQueryFeatureSink(config, {}, bigquery).ensureTable();

  // The functions register themselves with the framework when imported, as on Cloud Functions.
  await import('../../functions/process-telemetry/index.js');
  await import('../../functions/features-api/index.js');
  const processUrl = await listen(getTestServer('processTelemetry'));
  apiUrl = await listen(getTestServer('featuresApi'));
  const subscriptions = await createPipelineResources({
    pubsub,
    storage,
    projectId: config.projectId,
    bucket: config.featuresBucket,
    telemetryTopic: config.topics.telemetry,
    deadLetterTopic: config.topics.deadLetter,
    processTelemetryUrl: processUrl,
  });
  pubsub.subscription(subscriptions.deadLetterWatch).on('message', (message: Message) => {
    deadLettered.push({ attributes: message.attributes, body: JSON.parse(message.data.toString()) });
    message.ack();
  });

  const topic = pubsub.topic(config.topics.telemetry);
  const publish = (payload: unknown) =>
    topic.publishMessage({
      data: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    });
  // Vehicle A: three in-order readings, one exact re-send. Vehicle B: a batch with one invalid reading.
  await publish(reading(vehicleA, 30));
  await publish(reading(vehicleA, 20));
  await publish(reading(vehicleA, 10));
  await publish({ ...reading(vehicleA, 10), timestamp: now - 10_000 });
  await publish({
    readings: [reading(vehicleB, 5), { ...reading(vehicleB, 4), speed_kmh: 999 }, reading(vehicleB, 3)],
  });
  await publish('{"vehicle_id": "broken", ');
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await pubsub?.close();
});

async function warehouseRows(): Promise<Record<string, unknown>[]> {
  const [rows] = await bigquery.query({
    query: `SELECT * FROM \`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\` ORDER BY event_ts`,
  });
  return rows as Record<string, unknown>[];
}

async function objectRows(prefix: string): Promise<Record<string, unknown>[]> {
  const [files] = await storage.bucket(config.featuresBucket).getFiles({ prefix });
  const rows: Record<string, unknown>[] = [];
  for (const file of files) {
    const [bytes] = await file.download({ decompress: false });
    const text = file.name.endsWith('.gz') ? gunzipSync(bytes).toString() : bytes.toString();
    if (file.name.endsWith('.json')) rows.push(JSON.parse(text));
    else for (const line of text.split('\n').filter(Boolean)) rows.push(JSON.parse(line));
  }
  return rows;
}

describe('the local pipeline, end to end', () => {
  it('turns every valid reading into exactly one row in BigQuery and in GCS, with equal contents', async () => {
    await waitUntil(async () => (await warehouseRows()).length >= 5, {
      what: '5 rows in BigQuery',
      timeoutMs: 60_000,
    });
    await waitUntil(async () => (await objectRows('features/')).length >= 5, {
      what: '5 rows in GCS objects',
      timeoutMs: 30_000,
    });
    const warehouse = await warehouseRows();
    const objects = await objectRows('features/');
    expect(warehouse.map((r) => r.event_id).sort()).toEqual(objects.map((r) => r.event_id).sort());
    expect(new Set(warehouse.map((r) => r.event_id)).size).toBe(5);
    const lastOfA = objects
      .filter((r) => r.vehicle_id === vehicleA)
      .sort((x, y) => String(x.event_ts).localeCompare(String(y.event_ts)))
      .at(-1)!;
    expect(lastOfA.count_1m).toBe(3);
    expect(lastOfA.speed_max_1m).toBe(70);
    expect(lastOfA.distance_km_1m).toBeGreaterThan(0);
    const lastOfB = objects
      .filter((r) => r.vehicle_id === vehicleB)
      .sort((x, y) => String(x.event_ts).localeCompare(String(y.event_ts)))
      .at(-1)!;
    expect(lastOfB.count_1m).toBe(2);
  });

  it('sends each invalid reading to the dead-letter topic and quarantine, with its reason', async () => {
    await waitUntil(() => deadLettered.length >= 2, { what: '2 dead-lettered readings', timeoutMs: 60_000 });
    const reasons = deadLettered.map((d) => d.attributes.reason).sort();
    expect(reasons).toEqual(['malformed_json', 'out_of_range']);
    const outOfRange = deadLettered.find((d) => d.attributes.reason === 'out_of_range')!;
    expect(outOfRange.attributes.reading_index).toBe('1');
    const quarantined = await objectRows('quarantine/');
    expect(
      quarantined.flatMap((q) => (q.rejects as { reason: string }[]).map((r) => r.reason)).sort(),
    ).toEqual(['malformed_json', 'out_of_range']);
  });

  it('serves the latest vector online: 200 with the newest reading, 404 unknown, 400 invalid', async () => {
    const ok = await fetch(`${apiUrl}/v1/vehicles/${vehicleA}/features`);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Record<string, unknown>;
    expect(body.vehicle_id).toBe(vehicleA);
    expect(body.count_1m).toBe(3);
    expect((await fetch(`${apiUrl}/v1/vehicles/nobody-${suffix}/features`)).status).toBe(404);
    expect((await fetch(`${apiUrl}/v1/vehicles/${encodeURIComponent('a:b')}/features`)).status).toBe(400);
    const batch = await fetch(
      `${apiUrl}/v1/features?vehicle_id=${vehicleA}&vehicle_id=${vehicleB}&vehicle_id=none-${suffix}`,
    );
    const vehicles = ((await batch.json()) as { vehicles: { vehicle_id: string; features: unknown }[] })
      .vehicles;
    expect(vehicles.map((v) => [v.vehicle_id, v.features !== null])).toEqual([
      [vehicleA, true],
      [vehicleB, true],
      [`none-${suffix}`, false],
    ]);
  });
});
