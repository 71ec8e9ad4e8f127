// Exactly-once effect: when the sink write fails after Redis has been updated (a crash, a sink
// outage), the redelivered message still writes the very same rows, and every reading ends up as
// exactly one row in BigQuery and in GCS, with equal contents.

import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { FleetError } from '../../shared/errors.js';
import type { FeatureRow } from '../../shared/features/feature-row.js';
import { type FeatureServiceDeps, processTelemetryMessage } from '../../shared/features/feature-service.js';
import { GcsFeatureSink } from '../../shared/features/gcs-feature-sink.js';
import { GroupCommitSink } from '../../shared/features/group-commit.js';
import { LateArchive } from '../../shared/features/late-archive.js';
import { createLogger } from '../../shared/logger.js';
import type { FeatureSink } from '../../shared/ports/feature-sink.js';
import { localServers } from '../helpers/local-servers.js';

/** Wraps a real sink; while armed, a write fails (as a crash or an outage would) without writing. */
class FailingSink implements FeatureSink {
  armed = 0;
  constructor(readonly inner: FeatureSink) {}
  get name() {
    return this.inner.name;
  }
  async write(rows: readonly FeatureRow[]): Promise<void> {
    if (this.armed > 0) {
      this.armed--;
      throw new FleetError('transient_sink', `${this.name} unavailable (injected)`);
    }
    await this.inner.write(rows);
  }
}

const suffix = randomBytes(4).toString('hex');
const projectId = localServers().projectId;
let redis: Redis;
let bigquery: BigQueryFeatureSink;
let objects: GcsObjectStore;
let bqSink: FailingSink;
let gcsSink: FailingSink;
let deps: FeatureServiceDeps;
const dataset = `exactly_once_${suffix}`;
const bucket = `exactly-once-${suffix}`;

beforeAll(async () => {
  const local = localServers();
  redis = new Redis(local.redisUrl, { enableAutoPipelining: true });
  const config = {
    projectId,
    bigquery: { dataset, featuresTable: 'features', location: 'US', apiEndpoint: local.bigqueryStandinUrl },
  };
  bigquery = new BigQueryFeatureSink(createBigQueryClient(config), {
    dataset,
    table: 'features',
    retry: { retries: 0 },
  });
  await bigquery.ensureTable();
  const storage = createStorageClient({ projectId, storageEmulatorHost: local.gcsStandinUrl });
  await storage.createBucket(bucket);
  objects = new GcsObjectStore(storage, bucket);
  bqSink = new FailingSink(bigquery);
  gcsSink = new FailingSink(new GcsFeatureSink(objects));
  deps = {
    windows: new RedisWindowStore(redis, {
      allowedLatenessMs: 600_000,
      dedupeRetentionS: 900,
      vehicleIdleTtlS: 7200,
    }),
    sink: new GroupCommitSink([bqSink, gcsSink], { maxRows: 500, maxMs: 5 }),
    deadLetters: {
      quarantine: async () => {
        throw new Error('no reading in this test is invalid');
      },
    },
    lateArchive: new LateArchive(objects),
    clock: Date.now,
    logger: createLogger({ level: 'silent' }),
    options: { maxFutureSkewMs: 300_000, maxBatchReadings: 500, maxMessageBytes: 262_144 },
  };
});

afterAll(() => redis?.disconnect());

const now = Date.now();
function message(vehicle: string, count: number) {
  const readings = Array.from({ length: count }, (_, i) => ({
    vehicle_id: vehicle,
    timestamp: now - (count - i) * 1000,
    speed_kmh: 30 + i,
    engine_temp_c: 88 + i / 10,
    gps_lat: 45 + i * 1e-4,
    gps_lon: 4.8,
  }));
  return { data: Buffer.from(JSON.stringify({ readings })), messageId: `m-${vehicle}` };
}

async function rowsInBigQuery(vehicle: string): Promise<Record<string, unknown>[]> {
  const client = createBigQueryClient({
    projectId,
    bigquery: {
      dataset,
      featuresTable: 'features',
      location: 'US',
      apiEndpoint: localServers().bigqueryStandinUrl,
    },
  });
  const [rows] = await client.query({
    query: `SELECT event_id, processed_ts, count_1m, speed_mean_1m, distance_km_1m FROM \`${projectId}.${dataset}.features\` WHERE vehicle_id = @vehicle`,
    params: { vehicle },
  });
  return rows as Record<string, unknown>[];
}

async function rowsInGcs(vehicle: string): Promise<FeatureRow[]> {
  const rows: FeatureRow[] = [];
  for (const name of await objects.list('features/')) {
    const body = gunzipSync((await objects.get(name))!).toString();
    for (const line of body.split('\n').filter(Boolean)) {
      const row = JSON.parse(line) as FeatureRow;
      if (row.vehicle_id === vehicle) rows.push(row);
    }
  }
  return rows;
}

async function expectExactlyOnce(vehicle: string, readings: number) {
  const warehouse = await rowsInBigQuery(vehicle);
  const lake = await rowsInGcs(vehicle);
  expect(warehouse).toHaveLength(readings);
  expect(lake).toHaveLength(readings);
  expect(new Set(lake.map((r) => r.event_id)).size).toBe(readings);
  for (const row of lake) {
    const twin = warehouse.find((w) => w.event_id === row.event_id)!;
    expect(new Date((twin.processed_ts as { value: string }).value).toISOString()).toBe(row.processed_ts);
    expect([twin.count_1m, twin.speed_mean_1m, twin.distance_km_1m]).toEqual([
      row.count_1m,
      row.speed_mean_1m,
      row.distance_km_1m,
    ]);
  }
  return lake;
}

describe('a sink failure after the Redis update', () => {
  it.each([
    ['both sinks fail (a crash before any write)', 'both'],
    ['BigQuery took the rows, GCS failed', 'gcs'],
    ['GCS took the rows, BigQuery failed', 'bigquery'],
  ] as const)('%s: the retry writes the same rows, once each', async (_label, failing) => {
    const vehicle = `eo-${failing}-${suffix}`;
    const msg = message(vehicle, 6);
    if (failing !== 'gcs') bqSink.armed = 1;
    if (failing !== 'bigquery') gcsSink.armed = 1;

    await expect(processTelemetryMessage(deps, msg)).rejects.toMatchObject({ code: 'transient_sink' });
    const retry = await processTelemetryMessage(deps, msg);
    expect([retry.applied, retry.duplicates]).toEqual([0, 6]);
    const first = await expectExactlyOnce(vehicle, 6);

    // A further redelivery (the ack was lost) changes nothing anywhere.
    const again = await processTelemetryMessage(deps, msg);
    expect(again.rows).toEqual(retry.rows);
    const second = await expectExactlyOnce(vehicle, 6);
    expect(second).toEqual(first);
    expect(Math.max(...first.map((r) => r.count_1m))).toBe(6);
  });
});
