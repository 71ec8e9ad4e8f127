// Read-after-write end to end: a device POSTs signed readings to the ingest gateway with
// ?wait=true; the gateway publishes them to the real Pub/Sub emulator, which pushes them to the
// real processTelemetry function under functions-framework, which applies them in the real Redis
// and writes their rows to the BigQuery stand-in and the feature-rows topic. The gateway watches
// only Redis (never the function) and answers with the rows: the very rows the warehouse gets.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BigQuery } from '@google-cloud/bigquery';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Message, PubSub } from '@google-cloud/pubsub';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineResources } from '../../local/servers/pipeline-resources.js';
import {
  createBigQueryClient,
  createBigQueryFeatureSink,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { type FleetConfig, loadConfig } from '../../shared/config.js';
import { TELEMETRY_ROUTE } from '../../shared/ingress/request-signature.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { respondWithFetch } from '../../shared/runtime/fetch-bridge.js';
import { createIngressRuntime, type IngressRuntime } from '../../shared/runtime/ingress-runtime.js';
import { guardRequestBodies } from '../../shared/runtime/request-body-guard.js';
import { reading, signedHeaders, TEST_FLEET_SECRET } from '../helpers/ingress-fakes.js';
import { functionEnv } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

const suffix = randomBytes(4).toString('hex');
const vehicle = `wait-${suffix}`;

let config: FleetConfig;
let pubsub: PubSub;
let bigquery: BigQuery;
const servers: Server[] = [];
const runtimes: IngressRuntime[] = [];
let gatewayUrl = '';
let noFunctionUrl = '';
/** Rows as the feature function's flushes published them to feature-rows (what the GCS archive gets). */
const flushedRows: FeatureRow[] = [];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      servers.push(server);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

async function gateway(name: string, env: Record<string, string>): Promise<string> {
  const runtime = createIngressRuntime(loadConfig(env));
  runtimes.push(runtime);
  functions.http(name, (req, res) => respondWithFetch(req, res, runtime.app.fetch));
  return listen(getTestServer(name));
}

interface WaitAnswer {
  accepted: number;
  wait: { complete: boolean; readings: { index: number | null; status: string; row: FeatureRow | null }[] };
  rows: FeatureRow[];
}

async function postWait(url: string, body: unknown): Promise<{ status: number; answer: WaitAnswer }> {
  const text = JSON.stringify(body);
  const response = await fetch(`${url}/v1/telemetry?wait=true`, {
    method: 'POST',
    body: text,
    headers: signedHeaders(text, { deviceId: vehicle }),
  });
  return { status: response.status, answer: (await response.json()) as WaitAnswer };
}

/** The warehouse's rows of the vehicle, as plain values (BigQuery timestamps as ISO strings). */
async function warehouseRows(): Promise<Record<string, unknown>[]> {
  const [rows] = await bigquery.query({
    query: `SELECT * FROM \`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\` WHERE vehicle_id = @v ORDER BY event_ts`,
    params: { v: vehicle },
  });
  return (rows as Record<string, unknown>[]).map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        typeof value === 'object' && value !== null && 'value' in value
          ? new Date(String((value as { value: unknown }).value)).toISOString()
          : value,
      ]),
    ),
  );
}

beforeAll(async () => {
  const env = {
    ...functionEnv(`wait-${suffix}`),
    INGEST_FLEET_SECRET: TEST_FLEET_SECRET,
    // A row is in Redis from its apply until its flush is durable: the test keeps the gateway's
    // look (every 5 ms) well inside that, so every row is caught (README: "wait=true").
    INGEST_WAIT_POLL_MS: '5',
    INGEST_WAIT_TIMEOUT_MS: '20000',
    SINK_FLUSH_MAX_MS: '30',
  };
  Object.assign(process.env, env);
  config = loadConfig(env);
  pubsub = createPubSubClient(config);
  bigquery = createBigQueryClient(config);
  await createBigQueryFeatureSink(config, {}, bigquery).ensureTable();

  // processTelemetry shares this process: the guard covers only the gateway's route.
  guardRequestBodies({ paths: [TELEMETRY_ROUTE], maxBodyBytes: () => config.ingress.maxBodyBytes });
  await import('../../functions/process-telemetry/index.js');
  const processUrl = await listen(getTestServer('processTelemetry'));
  await createPipelineResources({
    pubsub,
    storage: createStorageClient(config),
    config: config,
    processTelemetryUrl: processUrl,
  });
  const [rowsWatch] = await pubsub
    .topic(config.topics.featureRows)
    .createSubscription(`feature-rows-wait-${suffix}-watch`);
  rowsWatch.on('message', (message: Message) => {
    for (const line of message.data.toString('utf8').split('\n')) flushedRows.push(JSON.parse(line));
    message.ack();
  });
  // The pipeline is live (a push delivered and applied) before any wait is timed.
  const warmup = `wait-warmup-${suffix}`;
  await pubsub
    .topic(config.topics.telemetry)
    .publishMessage({ data: Buffer.from(JSON.stringify(reading(warmup, 60))) });
  const redis = new Redis(config.redisUrl);
  const windows = new RedisWindowStore(redis, { allowedLatenessMs: 600_000, vehicleIdleTtlS: 3600 });
  try {
    await waitUntil(async () => (await windows.latest([warmup]))[0] != null, {
      what: 'processTelemetry applying a first pushed reading',
      timeoutMs: 60_000,
    });
  } finally {
    redis.disconnect();
  }
  gatewayUrl = await gateway('gatewayWait', env);
  // A gateway publishing to a topic nobody processes: its waits time out.
  const orphan = `telemetry-orphan-${suffix}`;
  await pubsub.topic(orphan).get({ autoCreate: true });
  noFunctionUrl = await gateway('gatewayOrphan', {
    ...env,
    TELEMETRY_TOPIC: orphan,
    INGEST_WAIT_TIMEOUT_MS: '300',
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await Promise.all(runtimes.map((r) => r.close()));
  await pubsub?.close();
});

describe('POST /v1/telemetry?wait=true', () => {
  const first = [reading(vehicle, 30), reading(vehicle, 20, { firmware: 'tcu-4.2.1' }), reading(vehicle, 10)];
  let answered: FeatureRow[] = [];

  it('answers 200 once the feature function has applied the readings, with their rows', async () => {
    const { status, answer } = await postWait(gatewayUrl, { readings: first });
    expect(status).toBe(200);
    expect(answer.wait.complete).toBe(true);
    expect(answer.wait.readings.map((r) => [r.index, r.status])).toEqual([
      [0, 'applied'],
      [1, 'applied'],
      [2, 'applied'],
    ]);
    expect(answer.rows).toHaveLength(3);
    expect(answer.rows.map((r) => r.count_1m)).toEqual([1, 2, 3]);
    answered = answer.rows;
  });

  it('returned exactly the rows the warehouse and the feature-rows topic got', async () => {
    await waitUntil(async () => (await warehouseRows()).length >= 3, {
      what: '3 rows in BigQuery',
      timeoutMs: 30_000,
    });
    await waitUntil(() => flushedRows.filter((r) => r.vehicle_id === vehicle).length >= 3, {
      what: '3 rows on feature-rows',
    });
    const byEvent = (rows: Record<string, unknown>[]) =>
      Object.fromEntries(rows.map((row) => [row.event_id as string, row]));
    expect(byEvent(await warehouseRows())).toEqual(byEvent(answered));
    expect(byEvent(flushedRows.filter((r) => r.vehicle_id === vehicle))).toEqual(byEvent(answered));
  });

  it('answers a retry at once: duplicates, and conflicts for changed values', async () => {
    const retry = [first[0]!, { ...first[2]!, speed_kmh: 1 }];
    const started = Date.now();
    const { status, answer } = await postWait(gatewayUrl, { readings: retry });
    expect(status).toBe(200);
    expect(answer.wait.readings.map((r) => r.status)).toEqual(['duplicate', 'conflict']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers 202 with the readings still accepted when the function does not apply them in time', async () => {
    const { status, answer } = await postWait(noFunctionUrl, reading(vehicle, 5));
    expect(status).toBe(202);
    expect(answer.accepted).toBe(1);
    expect(answer.wait).toMatchObject({
      complete: false,
      readings: [{ index: null, status: 'pending', row: null }],
    });
  });
});
