import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Storage } from '@google-cloud/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { FleetError } from '../../shared/errors.js';
import { FEATURE_COLUMNS, type FeatureRow } from '../../shared/features/feature-row.js';
import { GcsFeatureSink } from '../../shared/features/gcs-feature-sink.js';
import { GroupCommitSink } from '../../shared/features/group-commit.js';
import { featureRowFixture, featureRowFixtures } from '../helpers/feature-row-fixtures.js';
import { localServers } from '../helpers/local-servers.js';

// The official clients against the GCS and BigQuery stand-ins the global setup started. Every test
// writes rows of its own run prefix; fixtures put them at 09:58-10:02 UTC, across two hour partitions.

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const DATASET = `sinks_${suffix}`;
const BUCKET = `feature-sinks-${suffix}`;

let storage: Storage;
let bigqueryClient: BigQuery;
let store: GcsObjectStore;
let bigquery: BigQueryFeatureSink;
let gcs: GcsFeatureSink;
let projectId: string;

beforeAll(async () => {
  const servers = localServers();
  projectId = servers.projectId;
  storage = createStorageClient({ projectId, storageEmulatorHost: servers.gcsStandinUrl });
  await storage.createBucket(BUCKET);
  store = new GcsObjectStore(storage, BUCKET);
  gcs = new GcsFeatureSink(store);
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
});

const groupCommit = (maxRows: number) => new GroupCommitSink([bigquery, gcs], { maxRows, maxMs: 20 });

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

/** Every feature object in the bucket that holds rows of this run, with its parsed rows. */
async function gcsObjects(run: string): Promise<Array<{ name: string; rows: FeatureRow[] }>> {
  const objects = [];
  for (const name of await store.list('features/')) {
    const body = await store.get(name);
    const text = gunzipSync(body!).toString('utf8');
    const rows = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as FeatureRow);
    if (rows.some((row) => row.event_id.startsWith(`${run}:`))) objects.push({ name, rows });
  }
  return objects;
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

describe('feature rows through GroupCommitSink([bigquery, gcs])', () => {
  const run = `land-${suffix}`;
  const rows = featureRowFixtures(run, 150);

  it('land exactly once in BigQuery and in GCS, with the same contents', async () => {
    const group = groupCommit(50);
    await Promise.all(rows.map((row) => group.write([row])));

    const counts = await bigqueryCounts(run);
    expect(counts.size).toBe(rows.length);
    expect([...counts.values()].every((copies) => copies === 1)).toBe(true);

    const objects = await gcsObjects(run);
    const gcsRows = objects.flatMap((object) => object.rows).sort(byEventId);
    expect(gcsRows.map((row) => row.event_id)).toEqual(rows.map((row) => row.event_id).sort());
    expect(gcsRows).toEqual([...rows].sort(byEventId));
    expect(await bigqueryRows(run)).toEqual([...rows].sort(byEventId));
    for (const object of objects) {
      expect(object.name).toMatch(/^features\/dt=2026-03-14\/hour=(09|10)\/part-[0-9a-f]{24}\.ndjson\.gz$/);
      const hour = object.name.includes('hour=09') ? '09' : '10';
      expect(object.rows.every((row) => row.event_ts.slice(11, 13) === hour)).toBe(true);
    }
  });

  it('change nothing when written again: BigQuery de-duplicates by insertId, GCS finds the same names', async () => {
    const before = (await gcsObjects(run)).map((object) => object.name);
    const group = groupCommit(50);

    await Promise.all(rows.map((row) => group.write([row])));

    expect([...(await bigqueryCounts(run)).values()].every((copies) => copies === 1)).toBe(true);
    expect((await bigqueryCounts(run)).size).toBe(rows.length);
    expect((await gcsObjects(run)).map((object) => object.name)).toEqual(before);
    const first = before[0]!;
    const body = (await store.get(first))!;
    expect(
      await store.putIfAbsent(first, body, { contentType: 'application/x-ndjson', contentEncoding: 'gzip' }),
    ).toBe('exists');
  });
});

describe('group commit under many concurrent writers', () => {
  it('writes a few objects per flush, not one per row', async () => {
    const run = `burst-${suffix}`;
    const rows = featureRowFixtures(run, 300);
    const group = groupCommit(100);

    await Promise.all(rows.map((row) => group.write([row])));

    const { flushes } = group.stats();
    const objects = await gcsObjects(run);
    expect(flushes).toBeLessThanOrEqual(4);
    // One object per hour partition a flush touches: the rows span two hours.
    expect(objects.length).toBeLessThanOrEqual(flushes * 2);
    expect(objects.flatMap((object) => object.rows)).toHaveLength(300);
    expect((await bigqueryCounts(run)).size).toBe(300);
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
    const rows = featureRowFixtures(`dead-${suffix}`, 2);

    await expect(new GcsFeatureSink(deadStore).write(rows)).rejects.toMatchObject({
      code: 'transient_sink',
      transient: true,
    });
    await expect(deadBigQuery.write(rows)).rejects.toMatchObject({ code: 'transient_sink', transient: true });
  });

  it('a missing bucket is a non-transient sink_rejected', async () => {
    const missing = new GcsObjectStore(storage, `missing-${suffix}`);

    await expect(
      missing.putIfAbsent('features/x.ndjson.gz', Buffer.from('{}'), { contentType: 'application/x-ndjson' }),
    ).rejects.toMatchObject({ code: 'sink_rejected', transient: false });
    expect(await store.get('features/no-such-object.ndjson.gz')).toBeNull();
  });
});
