// Exactly-once effect, with the sinks production uses (shared/runtime/feature-runtime.ts): a flush is
// one BigQuery insert and one message on the feature-rows topic, whose Cloud Storage subscription is
// the archive. Here a pull subscription on that topic reads what the archive would get.
//
// - When a sink write fails after Redis has been updated (a crash, an outage), the redelivered
//   message writes the very same rows again: the store returns the stored first version while the
//   rows are not durable. BigQuery de-duplicates them by insertId; the archive may hold a second,
//   identical copy of a row only when the topic took the first flush (the publish is at least once).
// - Once the rows are durable, a re-send of the same readings, whatever its event_ids or timestamp
//   format, writes nothing anywhere.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { GcsLateArchive } from '../../shared/adapters/gcs-late-archive.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { PubSubFeatureRowSink } from '../../shared/adapters/pubsub-feature-row-sink.js';
import { createPubSubClient, PubSubPublisher } from '../../shared/adapters/pubsub-publisher.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { FleetError } from '../../shared/errors.js';
import { type FeatureServiceDeps, processTelemetryMessage } from '../../shared/features/feature-service.js';
import { createLogger } from '../../shared/logger.js';
import type { FeatureSink } from '../../shared/ports/feature-sink.js';
import type { WindowStore } from '../../shared/ports/window-store.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { GroupCommitSink } from '../../shared/runtime/group-commit-sink.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

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
const dataset = `exactly_once_${suffix}`;
const bucket = `exactly-once-${suffix}`;
const featureRowsTopic = `feature-rows-eo-${suffix}`;

let redis: Redis;
let pubsub: PubSub;
let publisher: PubSubPublisher;
let archiveSubscription: Subscription;
/** Every row the feature-rows topic carried, in arrival order (copies included). */
const archived: FeatureRow[] = [];
let store: RedisWindowStore;
let objects: GcsObjectStore;
let bqSink: FailingSink;
let topicSink: FailingSink;
let deps: FeatureServiceDeps;

beforeAll(async () => {
  const local = localServers();
  redis = new Redis(local.redisUrl, { enableAutoPipelining: true });
  const bigqueryConfig = {
    dataset,
    featuresTable: 'features',
    location: 'US',
    apiEndpoint: local.bigqueryStandinUrl,
  };
  const bigquery = new BigQueryFeatureSink(createBigQueryClient({ projectId, bigquery: bigqueryConfig }), {
    dataset,
    table: 'features',
    retry: { retries: 0 },
  });
  await bigquery.ensureTable();
  const storage = createStorageClient({ projectId, storageEmulatorHost: local.gcsStandinUrl });
  await storage.createBucket(bucket);
  objects = new GcsObjectStore(storage, bucket);

  pubsub = createPubSubClient({ projectId, pubsubEmulatorHost: local.pubsubEmulatorHost });
  const [topic] = await pubsub.createTopic(featureRowsTopic);
  [archiveSubscription] = await topic.createSubscription(`${featureRowsTopic}-archive`);
  archiveSubscription.on('message', (message: Message) => {
    for (const line of message.data.toString('utf8').split('\n').filter(Boolean))
      archived.push(JSON.parse(line) as FeatureRow);
    message.ack();
  });
  publisher = new PubSubPublisher(pubsub, { maxDelayMs: 0 });

  bqSink = new FailingSink(bigquery);
  topicSink = new FailingSink(new PubSubFeatureRowSink(publisher, featureRowsTopic));
  store = new RedisWindowStore(redis, { allowedLatenessMs: 600_000, vehicleIdleTtlS: 86_400 });
  deps = servicedBy(store);
});

afterAll(async () => {
  await archiveSubscription?.close();
  await archiveSubscription?.delete().catch(() => {});
  await publisher?.close();
  await pubsub?.close();
  redis?.disconnect();
});

function servicedBy(windows: WindowStore): FeatureServiceDeps {
  return {
    windows,
    sink: new GroupCommitSink([bqSink, topicSink], { maxRows: 500, maxMs: 5 }),
    deadLetters: {
      quarantine: async () => {
        throw new Error('no reading in this test is invalid');
      },
    },
    lateArchive: new GcsLateArchive(objects),
    clock: Date.now,
    logger: createLogger({ level: 'silent' }),
    projectId: 'fleet-features-test',
    options: { maxFutureSkewMs: 300_000, maxBatchReadings: 500, maxMessageBytes: 262_144 },
  };
}

const now = Date.now();

/** `count` readings one second apart ending a second ago, in one `{"readings": [...]}` message. */
function message(vehicle: string, count: number, resend?: { eventIdPrefix: string }) {
  const readings = Array.from({ length: count }, (_, i) => {
    const eventTsMs = now - (count - i) * 1000;
    return {
      vehicle_id: vehicle,
      // The first send: epoch milliseconds and a derived event_id. A re-send: the same instants as
      // ISO 8601 with a +02:00 offset, under event_ids of its own.
      timestamp: resend ? isoWithOffset(eventTsMs, 120) : eventTsMs,
      ...(resend ? { event_id: `${resend.eventIdPrefix}-${i}` } : {}),
      speed_kmh: 30 + i,
      engine_temp_c: 88 + i / 10,
      gps_lat: 45 + i * 1e-4,
      gps_lon: 4.8,
    };
  });
  const messageId = resend ? `m-${vehicle}-${resend.eventIdPrefix}` : `m-${vehicle}`;
  return { data: Buffer.from(JSON.stringify({ readings })), messageId };
}

function isoWithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
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

const archivedOf = (vehicle: string) => archived.filter((row) => row.vehicle_id === vehicle);

/**
 * Waits for the archive to carry at least `copies` rows of the vehicle, then a little longer so a
 * stray extra copy would show, and checks warehouse and archive: one row per reading in BigQuery,
 * every archived copy of a reading identical, and BigQuery's row equal to the archive's.
 */
async function expectExactlyOnce(vehicle: string, readings: number, copies: number): Promise<FeatureRow[]> {
  await waitUntil(() => archivedOf(vehicle).length >= copies, {
    what: `${copies} archived rows of ${vehicle}`,
  });
  await sleep(300);
  const lake = archivedOf(vehicle);
  expect(lake).toHaveLength(copies);
  const byEventId = new Map<string, FeatureRow>();
  for (const row of lake) {
    const first = byEventId.get(row.event_id);
    if (first) expect(row).toEqual(first);
    else byEventId.set(row.event_id, row);
  }
  expect(byEventId.size).toBe(readings);

  const warehouse = await rowsInBigQuery(vehicle);
  expect(warehouse).toHaveLength(readings);
  for (const twin of warehouse) {
    const row = byEventId.get(twin.event_id as string);
    expect(row, `${twin.event_id} in the archive`).toBeDefined();
    expect(new Date((twin.processed_ts as { value: string }).value).toISOString()).toBe(row!.processed_ts);
    expect([twin.count_1m, twin.speed_mean_1m, twin.distance_km_1m]).toEqual([
      row!.count_1m,
      row!.speed_mean_1m,
      row!.distance_km_1m,
    ]);
  }
  return [...byEventId.values()].sort((a, b) => a.event_ts.localeCompare(b.event_ts));
}

describe('a sink failure after the Redis update', () => {
  it.each([
    { label: 'both sinks fail (a crash before any write)', failing: 'both', archivedCopies: 6 },
    { label: 'BigQuery took the rows, the feature-rows publish failed', failing: 'topic', archivedCopies: 6 },
    // The topic stored the first flush: the retry publishes the same rows again (at least once), so
    // the archive holds two identical copies; BigQuery's insertId keeps one.
    { label: 'the topic took the rows, BigQuery failed', failing: 'bigquery', archivedCopies: 12 },
  ] as const)(
    '$label: the retry writes the same rows, once each in BigQuery',
    async ({ failing, archivedCopies }) => {
      const vehicle = `eo-${failing}-${suffix}`;
      const msg = message(vehicle, 6);
      if (failing !== 'topic') bqSink.armed = 1;
      if (failing !== 'bigquery') topicSink.armed = 1;

      await expect(processTelemetryMessage(deps, msg)).rejects.toMatchObject({ code: 'transient_sink' });
      const retry = await processTelemetryMessage(deps, msg);
      expect(retry).toMatchObject({ applied: 0, duplicates: 6, conflicts: 0 });
      expect(retry.rows).toHaveLength(6);
      const rows = await expectExactlyOnce(vehicle, 6, archivedCopies);
      expect(rows.map((r) => r.count_1m)).toEqual([1, 2, 3, 4, 5, 6]);

      // A further redelivery (the ack was lost): the rows are durable now, so nothing is written.
      const again = await processTelemetryMessage(deps, msg);
      expect(again).toMatchObject({ applied: 0, duplicates: 6, conflicts: 0, rows: [] });
      expect(await expectExactlyOnce(vehicle, 6, archivedCopies)).toEqual(rows);
    },
  );
});

describe('a re-send after the rows are durable', () => {
  it('writes nothing, whatever event_ids and timestamp format the re-send carries', async () => {
    const vehicle = `eo-resend-${suffix}`;
    const first = await processTelemetryMessage(deps, message(vehicle, 6));
    expect(first).toMatchObject({ applied: 6, duplicates: 0 });
    const rows = await expectExactlyOnce(vehicle, 6, 6);
    const [latestBefore] = await store.latest([vehicle]);

    const resent = await processTelemetryMessage(
      deps,
      message(vehicle, 6, { eventIdPrefix: 'device-retry' }),
    );
    expect(resent).toMatchObject({ applied: 0, duplicates: 6, conflicts: 0, lateCount: 0, rows: [] });
    expect(await expectExactlyOnce(vehicle, 6, 6)).toEqual(rows);
    // The first version stands: the latest vector still names the first send's reading.
    expect(await store.latest([vehicle])).toEqual([latestBefore]);
  });

  it('rewrites the same rows if dropping the stored rows failed (the message itself still succeeds)', async () => {
    const vehicle = `eo-mark-fails-${suffix}`;
    const forgetful: WindowStore = {
      apply: (...args) => store.apply(...args),
      latest: (...args) => store.latest(...args),
      markDurable: async () => {
        throw new FleetError('transient_redis', 'Redis unavailable (injected)');
      },
    };
    const withoutMarks = servicedBy(forgetful);
    const first = await processTelemetryMessage(withoutMarks, message(vehicle, 3));
    expect(first).toMatchObject({ applied: 3, duplicates: 0 });
    const again = await processTelemetryMessage(
      withoutMarks,
      message(vehicle, 3, { eventIdPrefix: 'again' }),
    );
    // Still pending: the re-send rebuilds the very same rows (first event_ids, first processed_ts).
    expect(again).toMatchObject({ applied: 0, duplicates: 3 });
    expect(again.rows).toEqual(first.rows);
    await expectExactlyOnce(vehicle, 3, 6);
  });
});
