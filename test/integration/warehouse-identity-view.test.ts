import { randomUUID } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BigQueryFeatureSink,
  createBigQueryClient,
  identityViewId,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { FEATURE_COLUMNS, type FeatureRow } from '../../shared/rows/feature-row.js';
import { featureRowFixture, featureRowFixtures } from '../helpers/feature-row-fixtures.js';
import { localServers } from '../helpers/local-servers.js';

// The warehouse's view by identity (vehicle_id, event_ts) through the official client against the
// BigQuery stand-in the global setup started: rows written twice under other event_ids (a retry
// after a failed write, an expired vehicle state, a crash) come out of the view once.

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const DATASET = `identity_${suffix}`;
const TABLE = 'features';
const VIEW = identityViewId(TABLE);

let projectId: string;
let client: BigQuery;
let sink: BigQueryFeatureSink;

const newSink = () => new BigQueryFeatureSink(client, { dataset: DATASET, table: TABLE });

beforeAll(async () => {
  const servers = localServers();
  projectId = servers.projectId;
  client = createBigQueryClient({
    projectId,
    bigquery: {
      dataset: DATASET,
      featuresTable: TABLE,
      location: 'US',
      apiEndpoint: servers.bigqueryStandinUrl,
    },
  });
  sink = newSink();
  // Instances racing at start-up: every creation after the first is a 409, which is success.
  await Promise.all([sink.ensureTable(), newSink().ensureTable(), newSink().ensureTable()]);
});

const later = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

interface ViewRow {
  event_id: string;
  vehicle_id: string;
  event_ts: { value: string };
  speed_kmh: number;
}

describe(`ensureTable creates the view ${VIEW}`, () => {
  it('named after the table, of type VIEW, with the features schema (no helper column)', async () => {
    expect(sink.identityViewRef).toBe(`${DATASET}.${VIEW}`);
    const [metadata] = await client.dataset(DATASET).table(VIEW).getMetadata();
    expect(metadata.type).toBe('VIEW');
    expect(metadata.view.useLegacySql).toBe(false);
    expect(metadata.view.query).toContain(`\`${projectId}.${DATASET}.${TABLE}\``);
    expect(metadata.schema.fields.map((field: { name: string }) => field.name)).toEqual(
      FEATURE_COLUMNS.map((column) => column.name),
    );
  });

  it('also when the table already exists without the view (a deployment from before the view)', async () => {
    await client.dataset(DATASET).table(VIEW).delete();
    expect(await client.dataset(DATASET).table(VIEW).exists()).toEqual([false]);

    await newSink().ensureTable();

    expect(await client.dataset(DATASET).table(VIEW).exists()).toEqual([true]);
  });
});

describe('the view keeps one row per reading identity: the first processed copy', () => {
  const run = `identity-${suffix}`;
  const originals = featureRowFixtures(run, 6);
  const [first, second, third] = originals as [FeatureRow, FeatureRow, FeatureRow];
  const copies: FeatureRow[] = [
    // Re-written later under another event_id with other values: the original stands.
    {
      ...first,
      event_id: `${run}:copy-later`,
      processed_ts: later(first.processed_ts, 60_000),
      speed_kmh: 1,
    },
    // A copy processed before the row that reached the table first: the copy stands.
    { ...second, event_id: `${run}:copy-earlier`, processed_ts: later(second.processed_ts, -5_000) },
    // Processed at the same instant: the smaller event_id stands (deterministic tie-break).
    { ...third, event_id: `${run}:0-copy-tie`, speed_kmh: 2 },
  ];
  // Another vehicle at the same instant is another reading.
  const otherVehicle = featureRowFixture(run, 0, {
    event_id: `${run}:other-vehicle`,
    vehicle_id: 'other-vehicle',
  });

  beforeAll(async () => {
    await sink.write(originals);
    await sink.write([...copies, otherVehicle]);
  });

  it('stores every copy in the table (distinct event_ids, so insertId cannot catch them)', async () => {
    const [rows] = await client.query({
      query: `SELECT COUNT(*) AS copies FROM \`${projectId}.${DATASET}.${TABLE}\` WHERE STARTS_WITH(event_id, @run)`,
      params: { run: `${run}:` },
    });
    expect(rows).toEqual([{ copies: originals.length + copies.length + 1 }]);
  });

  it('returns each (vehicle_id, event_ts) once, choosing by processed_ts, then event_id', async () => {
    const [rows] = (await client.query({
      query: `SELECT event_id, vehicle_id, event_ts, speed_kmh FROM \`${projectId}.${DATASET}.${VIEW}\`
              WHERE STARTS_WITH(event_id, @run) ORDER BY vehicle_id, event_ts`,
      params: { run: `${run}:` },
    })) as [ViewRow[], ...unknown[]];

    const identities = rows.map((row) => `${row.vehicle_id}@${row.event_ts.value}`);
    expect(new Set(identities).size).toBe(rows.length);
    expect(rows).toHaveLength(originals.length + 1);

    const kept = new Map(rows.map((row) => [row.event_id, row]));
    const expected = [
      first.event_id,
      `${run}:copy-earlier`,
      `${run}:0-copy-tie`,
      ...originals.slice(3).map((row) => row.event_id),
      otherVehicle.event_id,
    ];
    expect([...kept.keys()].sort()).toEqual([...expected].sort());
    expect(kept.get(first.event_id)?.speed_kmh).toBe(first.speed_kmh);
    expect(kept.get(`${run}:0-copy-tie`)?.speed_kmh).toBe(2);
    expect(kept.get(otherVehicle.event_id)?.event_ts.value).toBe(new Date(first.event_ts).toISOString());
  });
});
