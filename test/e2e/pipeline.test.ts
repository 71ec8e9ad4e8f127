// End to end on the local stack: readings published to the real Pub/Sub emulator are pushed to the
// real functions-framework serving processTelemetry, and land as rows in the BigQuery stand-in and,
// through the feature-rows topic and the archive writer (the local Cloud Storage subscription), in
// objects in the GCS stand-in; the raw archive keeps every message as sent; invalid ones reach the
// dead-letter topic and quarantine with their reason; the online API serves the latest vector; a
// re-send of every reading adds nothing anywhere.

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BigQuery } from '@google-cloud/bigquery';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Message, PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArchiveWriters,
  startArchiveWriters,
} from '../../local/servers/cloud-storage-subscription-writer.js';
import { createPipelineResources } from '../../local/servers/pipeline-resources.js';
import {
  createBigQueryClient,
  createBigQueryFeatureSink,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { type FleetConfig, loadConfig } from '../../shared/config.js';
import { functionEnv } from '../helpers/local-servers.js';
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
let archives: ArchiveWriters;
/** Every payload published to the telemetry topic, in order. */
const sentPayloads: string[] = [];
/** The messages holding valid readings, to re-send. */
const validPayloads: string[] = [];
/** Push deliveries processTelemetry answered with success (acknowledged). */
let acknowledged = 0;
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
  Object.assign(process.env, functionEnv(`e2e-${suffix}`));
  config = loadConfig();
  pubsub = createPubSubClient(config);
  storage = createStorageClient(config);
  bigquery = createBigQueryClient(config);
  await createBigQueryFeatureSink(config, {}, bigquery).ensureTable();

  // The functions register themselves with the framework when imported, as on Cloud Functions.
  await import('../../functions/process-telemetry/index.js');
  await import('../../functions/features-api/index.js');
  const processServer = getTestServer('processTelemetry');
  processServer.on('request', (_request, response) => {
    response.on('finish', () => {
      if (response.statusCode < 300) acknowledged++;
    });
  });
  const processUrl = await listen(processServer);
  apiUrl = await listen(getTestServer('featuresApi'));
  const subscriptions = await createPipelineResources({
    pubsub,
    storage,
    config: config,
    processTelemetryUrl: processUrl,
  });
  archives = startArchiveWriters({
    pubsub,
    store: new GcsObjectStore(storage, config.featuresBucket),
    subscriptions: subscriptions.archives,
  });
  pubsub.subscription(subscriptions.deadLetterWatch).on('message', (message: Message) => {
    deadLettered.push({ attributes: message.attributes, body: JSON.parse(message.data.toString()) });
    message.ack();
  });

  const topic = pubsub.topic(config.topics.telemetry);
  const publish = async (payload: unknown, valid = true) => {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    sentPayloads.push(text);
    if (valid) validPayloads.push(text);
    await topic.publishMessage({ data: Buffer.from(text) });
  };
  // Vehicle A: three in-order readings (one with a field the contract does not know), one exact
  // re-send with another timestamp form. Vehicle B: a batch with one invalid reading.
  await publish({ ...reading(vehicleA, 30), firmware: 'tcu-4.2.1' });
  await publish(reading(vehicleA, 20));
  await publish(reading(vehicleA, 10));
  await publish({ ...reading(vehicleA, 10), timestamp: now - 10_000 });
  await publish({
    readings: [reading(vehicleB, 5), { ...reading(vehicleB, 4), speed_kmh: 999 }, reading(vehicleB, 3)],
  });
  await publish('{"vehicle_id": "broken", ', false);
}, 120_000);

afterAll(async () => {
  await archives?.stop({ quietMs: 0 });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await pubsub?.close();
});

async function warehouseRows(): Promise<Record<string, unknown>[]> {
  const [rows] = await bigquery.query({
    query: `SELECT * FROM \`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\` ORDER BY event_ts`,
  });
  return rows as Record<string, unknown>[];
}

/** The lines of every object under a prefix (archive objects are text: a message per line). */
async function objectLines(prefix: string): Promise<string[]> {
  const [files] = await storage.bucket(config.featuresBucket).getFiles({ prefix });
  const lines: string[] = [];
  for (const file of files) {
    const [bytes] = await file.download();
    lines.push(...bytes.toString().split('\n'));
  }
  return lines;
}

/** The feature archive's rows, once the writer has written what it holds. */
async function archivedRows(): Promise<Record<string, unknown>[]> {
  await archives.flush({ quietMs: 300 });
  return (await objectLines('features/')).map((line) => JSON.parse(line));
}

async function quarantinedObjects(): Promise<Record<string, unknown>[]> {
  const [files] = await storage.bucket(config.featuresBucket).getFiles({ prefix: 'quarantine/' });
  return Promise.all(files.map(async (file) => JSON.parse((await file.download())[0].toString())));
}

describe('the local pipeline, end to end', () => {
  it('turns every valid reading into one row in BigQuery and the same rows in the GCS archive', async () => {
    await waitUntil(async () => (await warehouseRows()).length >= 5, {
      what: '5 rows in BigQuery',
      timeoutMs: 60_000,
    });
    await waitUntil(async () => (await archivedRows()).length >= 5, {
      what: '5 rows in the archive',
      timeoutMs: 30_000,
    });
    const warehouse = await warehouseRows();
    const objects = await archivedRows();
    // A re-send that arrives while the first copy's write is under way is written again (same row).
    expect(warehouse.map((r) => r.event_id).sort()).toEqual(
      [...new Set(objects.map((r) => r.event_id))].sort(),
    );
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
    const quarantined = await quarantinedObjects();
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
  it('keeps every message as sent in the raw archive, unknown fields and malformed ones included', async () => {
    await waitUntil(() => archives.raw.stats().received >= sentPayloads.length, {
      what: 'every message at the raw archive writer',
    });
    await archives.flush({ quietMs: 300 });

    const lines = await objectLines('raw/');
    expect([...lines].sort()).toEqual([...sentPayloads].sort());
    expect(lines.some((line) => line.includes('"firmware":"tcu-4.2.1"'))).toBe(true);
  });

  // Holds once the engine writes nothing for a re-send whose row is already durable (issue 11).
  it('adds no row to the warehouse or the archive when every reading is sent once more', async () => {
    await waitUntil(async () => (await warehouseRows()).length >= 5, { what: '5 rows', timeoutMs: 60_000 });
    const warehouseBefore = (await warehouseRows()).length;
    const archiveBefore = (await archivedRows()).length;
    const acknowledgedBefore = acknowledged;
    const topic = pubsub.topic(config.topics.telemetry);

    await Promise.all(validPayloads.map((text) => topic.publishMessage({ data: Buffer.from(text) })));
    await waitUntil(() => acknowledged >= acknowledgedBefore + validPayloads.length, {
      what: 'every re-sent message acknowledged',
      timeoutMs: 60_000,
    });

    expect((await warehouseRows()).length).toBe(warehouseBefore);
    expect((await archivedRows()).length).toBe(archiveBefore);
  });
});
