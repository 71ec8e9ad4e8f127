import { randomUUID } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudStorageSubscriptionWriter } from '../../local/servers/cloud-storage-subscription-writer.js';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { featureRowMessages, PubSubFeatureRowSink } from '../../shared/adapters/pubsub-feature-row-sink.js';
import { createPubSubClient, PubSubPublisher } from '../../shared/adapters/pubsub-publisher.js';
import { archiveSubscriptions } from '../../shared/archive-subscriptions.js';
import { FleetError } from '../../shared/errors.js';
import { FEATURE_COLUMNS, type FeatureRow } from '../../shared/rows/feature-row.js';
import { GroupCommitSink } from '../../shared/runtime/group-commit-sink.js';
import { featureRowFixture, featureRowFixtures } from '../helpers/feature-row-fixtures.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

// The official clients against the BigQuery stand-in and the Pub/Sub emulator the global setup
// started, and the feature-rows archive as the local Cloud Storage subscription writes it to the
// GCS stand-in. Every test writes rows of its own run prefix.

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const DATASET = `sinks_${suffix}`;
const BUCKET = `feature-sinks-${suffix}`;
const archive = archiveSubscriptions({
  telemetry: `unused-${suffix}`,
  featureRows: `feature-rows-${suffix}`,
}).features;

let storage: Storage;
let bigqueryClient: BigQuery;
let store: GcsObjectStore;
let bigquery: BigQueryFeatureSink;
let pubsub: PubSub;
let featureRows: PubSubFeatureRowSink;
let archiveWriter: CloudStorageSubscriptionWriter;
let projectId: string;

beforeAll(async () => {
  const servers = localServers();
  projectId = servers.projectId;
  storage = createStorageClient({ projectId, storageEmulatorHost: servers.gcsStandinUrl });
  await storage.createBucket(BUCKET);
  store = new GcsObjectStore(storage, BUCKET);
  bigqueryClient = createBigQueryClient({
    projectId,
    bigquery: {
      dataset: DATASET,
      featuresTable: 'features',
      location: 'US',
      apiEndpoint: servers.bigqueryStandinUrl,
    },
  });
  bigquery = new BigQueryFeatureSink(bigqueryClient, {
    dataset: DATASET,
    table: 'features',
    retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 50 },
  });
  await bigquery.ensureTable();
  pubsub = createPubSubClient({ projectId, pubsubEmulatorHost: servers.pubsubEmulatorHost });
  const [topic] = await pubsub.createTopic(archive.topic);
  await topic.createSubscription(archive.subscription, { ackDeadlineSeconds: archive.ackDeadlineS });
  featureRows = new PubSubFeatureRowSink(new PubSubPublisher(pubsub, { maxDelayMs: 0 }), archive.topic);
  archiveWriter = new CloudStorageSubscriptionWriter({ pubsub, store, settings: archive });
  archiveWriter.start();
});

afterAll(async () => {
  await archiveWriter?.stop();
  await pubsub?.close();
});

const groupCommit = (maxRows: number) => new GroupCommitSink([bigquery, featureRows], { maxRows, maxMs: 20 });

/** event_id → number of copies in the BigQuery table, for one run's rows. */
async function bigqueryCounts(run: string): Promise<Map<string, number>> {
  const [rows] = await bigqueryClient.query({
    query: `SELECT event_id, COUNT(*) AS copies FROM \`${projectId}.${DATASET}.features\`
            WHERE event_id LIKE @pattern GROUP BY event_id`,
    params: { pattern: `${run}:%` },
  });
  return new Map(rows.map((row: { event_id: string; copies: number }) => [row.event_id, Number(row.copies)]));
}

/** One run's rows as BigQuery returns them, in FeatureRow shape (timestamps as ISO strings). */
async function bigqueryRows(run: string): Promise<FeatureRow[]> {
  const [rows] = await bigqueryClient.query({
    query: `SELECT * FROM \`${projectId}.${DATASET}.features\` WHERE event_id LIKE @pattern ORDER BY event_id`,
    params: { pattern: `${run}:%` },
  });
  return rows.map((row: Record<string, unknown>) => {
    const normalized: Record<string, unknown> = {};
    for (const column of FEATURE_COLUMNS) {
      const value = row[column.name];
      normalized[column.name] =
        column.type === 'TIMESTAMP' ? new Date((value as { value: string }).value).toISOString() : value;
    }
    return normalized as FeatureRow;
  });
}

/** Waits until the archive writer has received `messages` more than `since`, then writes what it holds. */
async function settleArchive(since = 0, messages = 0): Promise<void> {
  await waitUntil(() => archiveWriter.stats().received >= since + messages, {
    what: `${messages} feature-rows messages at the archive writer`,
  });
  await archiveWriter.flush();
}

/** Every archive object with its text, and the rows of this run (objects are by time, not by run). */
async function archivedRows(
  run: string,
): Promise<{ objects: { name: string; text: string }[]; rows: FeatureRow[] }> {
  const objects = [];
  for (const name of await store.list(archive.filenamePrefix)) {
    objects.push({ name, text: (await store.get(name))!.toString('utf8') });
  }
  const rows = objects
    .flatMap((object) => object.text.split('\n'))
    .map((line) => JSON.parse(line) as FeatureRow)
    .filter((row) => row.event_id.startsWith(`${run}:`));
  return { objects, rows };
}

const byEventId = (a: FeatureRow, b: FeatureRow) => (a.event_id < b.event_id ? -1 : 1);

describe('BigQueryFeatureSink.ensureTable', () => {
  it('creates the dataset and a table partitioned by day on event_ts and clustered by vehicle_id', async () => {
    const [metadata] = await bigqueryClient.dataset(DATASET).table('features').getMetadata();

    expect(metadata.timePartitioning).toMatchObject({ type: 'DAY', field: 'event_ts' });
    expect(metadata.clustering).toEqual({ fields: ['vehicle_id'] });
    expect(metadata.schema.fields.map((f: { name: string }) => f.name)).toEqual(
      FEATURE_COLUMNS.map((c) => c.name),
    );
  });

  it('is idempotent and safe when instances race to create the same table, with optional partition expiry', async () => {
    const expiring = () =>
      new BigQueryFeatureSink(bigqueryClient, {
        dataset: DATASET,
        table: 'features_expiring',
        partitionExpirationDays: 30,
      });

    await Promise.all([expiring().ensureTable(), expiring().ensureTable(), expiring().ensureTable()]);
    await expiring().ensureTable();

    const [metadata] = await bigqueryClient.dataset(DATASET).table('features_expiring').getMetadata();
    expect(metadata.timePartitioning).toMatchObject({
      type: 'DAY',
      field: 'event_ts',
      expirationMs: '2592000000',
    });
  });
});

describe('feature rows through GroupCommitSink([bigquery, feature-rows topic])', () => {
  const run = `land-${suffix}`;
  const rows = featureRowFixtures(run, 150);

  it('land once in BigQuery and once in the archive, with the same contents, one message per flush', async () => {
    const group = groupCommit(50);
    const before = archiveWriter.stats();

    await Promise.all(rows.map((row) => group.write([row])));
    await settleArchive(before.received, group.stats().flushes);

    const counts = await bigqueryCounts(run);
    expect(counts.size).toBe(rows.length);
    expect([...counts.values()].every((copies) => copies === 1)).toBe(true);
    expect(await bigqueryRows(run)).toEqual([...rows].sort(byEventId));

    const archived = await archivedRows(run);
    expect([...archived.rows].sort(byEventId)).toEqual([...rows].sort(byEventId));
    expect(archiveWriter.stats().messages - before.messages).toBe(group.stats().flushes);
    for (const object of archived.objects) {
      expect(object.name).toMatch(/^features\/\d{4}-\d{2}-\d{2}\/\d{2}_\d{2}_\d{2}Z_[0-9a-f-]{36}\.ndjson$/);
      // NDJSON in schema column order: the text format puts a newline between messages only.
      for (const line of object.text.split('\n')) {
        expect(Object.keys(JSON.parse(line))).toEqual(FEATURE_COLUMNS.map((c) => c.name));
      }
    }
  });

  it('leave BigQuery unchanged when written again (insertId = event_id)', async () => {
    const group = groupCommit(50);
    const before = archiveWriter.stats();

    await Promise.all(rows.map((row) => group.write([row])));
    // Pub/Sub publishes are not idempotent: the engine never writes a durable row again.
    await settleArchive(before.received, group.stats().flushes);

    expect([...(await bigqueryCounts(run)).values()].every((copies) => copies === 1)).toBe(true);
    expect((await bigqueryCounts(run)).size).toBe(rows.length);
  });
});

describe('group commit under many concurrent writers', () => {
  it('publishes one message per flush, not one per row, and the archive holds them in one object', async () => {
    const run = `burst-${suffix}`;
    const rows = featureRowFixtures(run, 300);
    const group = groupCommit(100);
    const before = archiveWriter.stats();

    await Promise.all(rows.map((row) => group.write([row])));
    await settleArchive(before.received, group.stats().flushes);

    const archived = await archivedRows(run);
    const after = archiveWriter.stats();
    expect(group.stats().flushes).toBeLessThanOrEqual(4);
    expect(after.messages - before.messages).toBe(group.stats().flushes);
    expect(after.objects - before.objects).toBe(1);
    expect(archived.rows).toHaveLength(300);
    expect((await bigqueryCounts(run)).size).toBe(300);
  });

  it("splits a flush over Pub/Sub's message size limit into several messages, losing no row", async () => {
    const run = `split-${suffix}`;
    const rows = featureRowFixtures(run, 200);
    const small = new PubSubFeatureRowSink(new PubSubPublisher(pubsub, { maxDelayMs: 0 }), archive.topic, {
      maxMessageBytes: 64 * 1024,
    });
    const before = archiveWriter.stats();
    const expected = featureRowMessages(rows, 64 * 1024).messages.length;

    await small.write(rows);
    await settleArchive(before.received, expected);

    const archived = await archivedRows(run);
    expect(expected).toBeGreaterThan(1);
    expect(archiveWriter.stats().messages - before.messages).toBe(expected);
    expect([...archived.rows].sort(byEventId)).toEqual([...rows].sort(byEventId));
  });
});

describe('a row BigQuery rejects', () => {
  it('fails with sink_rejected naming its event_id, while the valid rows of the call land', async () => {
    const run = `invalid-${suffix}`;
    const rows = featureRowFixtures(run, 10);
    const bad = { ...rows[3]!, speed_kmh: 'fast' as unknown as number };
    const call = [...rows.slice(0, 3), bad, ...rows.slice(4)];

    const error = await bigquery.write(call).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(FleetError);
    expect(error).toMatchObject({ code: 'sink_rejected', transient: false });
    expect((error as FleetError).message).toContain(`${run}:3`);
    expect((error as FleetError).metadata.rejectedEventIds).toEqual([`${run}:3`]);
    const counts = await bigqueryCounts(run);
    expect([...counts.keys()].sort()).toEqual(
      rows
        .filter((_, i) => i !== 3)
        .map((r) => r.event_id)
        .sort(),
    );
  });

  it('through group commit fails only the caller that wrote it', async () => {
    const run = `owner-${suffix}`;
    const group = groupCommit(10);
    const bad = featureRowFixture(run, 7, { engine_temp_c: 'hot' as unknown as number });
    const writes = Array.from({ length: 10 }, (_, i) =>
      group.write([i === 7 ? bad : featureRowFixture(run, i)]),
    );

    const results = await Promise.allSettled(writes);

    expect(results.map((r) => r.status)).toEqual([
      ...Array(7).fill('fulfilled'),
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(results[7]).toMatchObject({ reason: { code: 'sink_rejected' } });
    expect((await bigqueryCounts(run)).size).toBe(9);
  });
});

describe('unreachable backends', () => {
  it('are transient failures, so the reading is redelivered', async () => {
    const closedPort = '127.0.0.1:1';
    const deadStore = new GcsObjectStore(
      createStorageClient(
        { projectId, storageEmulatorHost: closedPort },
        { retryOptions: { autoRetry: false } },
      ),
      BUCKET,
    );
    const deadBigQuery = new BigQueryFeatureSink(
      createBigQueryClient(
        {
          projectId,
          bigquery: {
            dataset: DATASET,
            featuresTable: 'features',
            location: 'US',
            apiEndpoint: `http://${closedPort}`,
          },
        },
        { retryOptions: { autoRetry: false } },
      ),
      { dataset: DATASET, table: 'features' },
    );
    const deadPubSub = createPubSubClient({ projectId, pubsubEmulatorHost: closedPort });
    const deadTopic = new PubSubFeatureRowSink(
      new PubSubPublisher(deadPubSub, { timeoutMs: 1000 }),
      archive.topic,
    );
    const rows = featureRowFixtures(`dead-${suffix}`, 2);

    try {
      await expect(deadTopic.write(rows)).rejects.toMatchObject({ code: 'transient_sink', transient: true });
      await expect(deadBigQuery.write(rows)).rejects.toMatchObject({
        code: 'transient_sink',
        transient: true,
      });
      await expect(
        deadStore.putIfAbsent('late/x.json', Buffer.from('{}'), { contentType: 'application/json' }),
      ).rejects.toMatchObject({ code: 'transient_sink', transient: true });
    } finally {
      await deadPubSub.close();
    }
  });

  it('a missing bucket is a non-transient sink_rejected', async () => {
    const missing = new GcsObjectStore(storage, `missing-${suffix}`);

    await expect(
      missing.putIfAbsent('late/x.json', Buffer.from('{}'), { contentType: 'application/json' }),
    ).rejects.toMatchObject({ code: 'sink_rejected', transient: false });
    expect(await store.get('late/no-such-object.json')).toBeNull();
  });
});
