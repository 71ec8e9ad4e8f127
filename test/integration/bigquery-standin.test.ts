// The BigQuery stand-in (local/bigquery-standin) driven by the official @google-cloud/bigquery client,
// with no credentials at all: the client finds no Application Default Credentials, and
// @google-cloud/common then sends the request unauthenticated ("the API might not actually care").
// METADATA_SERVER_DETECTION=none keeps google-auth-library from probing the GCE metadata server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigQuery, type BigQueryTimestamp, type Table } from '@google-cloud/bigquery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BigQueryStandin, startBigQueryStandin } from '../../local/bigquery-standin/index.js';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT_ID = 'test-project';
const DATASET = 'fleet';

let dir: string;
let standin: BigQueryStandin;
let bigquery: BigQuery;

/** The Google API error fields the client exposes on a failed call. */
interface ApiErrorShape {
  code?: number;
  message: string;
  errors?: { reason?: string; message?: string }[];
}

async function failureOf(action: Promise<unknown>): Promise<ApiErrorShape> {
  try {
    await action;
  } catch (error) {
    return error as ApiErrorShape;
  }
  throw new Error('expected the call to fail');
}

async function createReadingsTable(tableId: string): Promise<Table> {
  const [table] = await bigquery.dataset(DATASET).createTable(tableId, {
    schema: [
      { name: 'vehicle_id', type: 'STRING', mode: 'REQUIRED' },
      { name: 'event_ts', type: 'TIMESTAMP', mode: 'REQUIRED' },
      { name: 'speed_kmh', type: 'FLOAT64' },
      { name: 'reading_count', type: 'INT64' },
    ],
    timePartitioning: { type: 'DAY', field: 'event_ts' },
    clustering: { fields: ['vehicle_id'] },
  });
  return table;
}

async function storedRows(tableId: string): Promise<Record<string, unknown>[]> {
  const [rows] = await bigquery.query(
    `SELECT vehicle_id, speed_kmh FROM \`${PROJECT_ID}.${DATASET}.${tableId}\` ORDER BY vehicle_id, speed_kmh`,
  );
  return rows;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigquery-standin-'));
  standin = await startBigQueryStandin({
    dbPath: join(dir, 'warehouse.duckdb'),
    defaultProjectId: PROJECT_ID,
  });
  bigquery = new BigQuery({ projectId: PROJECT_ID, apiEndpoint: standin.url });
  await bigquery.createDataset(DATASET);
});

afterAll(async () => {
  await standin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('datasets and tables', () => {
  it('creates a table partitioned by day on a TIMESTAMP and clustered by a STRING, and reads both back', async () => {
    await createReadingsTable('partitioned');
    const [metadata] = await bigquery.dataset(DATASET).table('partitioned').getMetadata();
    expect(metadata.timePartitioning).toEqual({ type: 'DAY', field: 'event_ts' });
    expect(metadata.clustering).toEqual({ fields: ['vehicle_id'] });
    expect(metadata.schema.fields).toEqual([
      { name: 'vehicle_id', type: 'STRING', mode: 'REQUIRED' },
      { name: 'event_ts', type: 'TIMESTAMP', mode: 'REQUIRED' },
      { name: 'speed_kmh', type: 'FLOAT', mode: 'NULLABLE' },
      { name: 'reading_count', type: 'INTEGER', mode: 'NULLABLE' },
    ]);
    expect(metadata.tableReference).toEqual({
      projectId: PROJECT_ID,
      datasetId: DATASET,
      tableId: 'partitioned',
    });
  });

  it('answers 404 notFound for a missing dataset and 409 for one that exists, like the API', async () => {
    const missing = await failureOf(bigquery.dataset('no_such_dataset').get());
    expect(missing.code).toBe(404);
    expect(missing.message).toBe(`Not found: Dataset ${PROJECT_ID}:no_such_dataset`);
    expect(missing.errors?.[0]?.reason).toBe('notFound');
    expect(await bigquery.dataset('no_such_dataset').exists()).toEqual([false]);

    const duplicate = await failureOf(bigquery.createDataset(DATASET));
    expect(duplicate.code).toBe(409);
    expect(duplicate.errors?.[0]?.reason).toBe('duplicate');
  });

  it('rejects invalid identifiers and unsupported column modes with a 4xx that says why', async () => {
    const badId = await failureOf(bigquery.createDataset('bad-name'));
    expect(badId.code).toBe(400);
    expect(badId.errors?.[0]?.reason).toBe('invalid');

    const repeated = await failureOf(
      bigquery
        .dataset(DATASET)
        .createTable('tags', { schema: [{ name: 'tags', type: 'STRING', mode: 'REPEATED' }] }),
    );
    expect(repeated.message).toMatch(/REPEATED is not supported by the BigQuery stand-in/);
  });
});

describe('streaming inserts', () => {
  it('fails a request with one invalid row as a whole: PartialFailureError names the row and the reason', async () => {
    const table = await createReadingsTable('all_or_nothing');
    const invalidRow = { vehicle_id: 'v2', event_ts: '2024-03-01T08:00:00Z', speed_kmh: 'fast' };
    const rows = [
      { vehicle_id: 'v1', event_ts: '2024-03-01T08:00:00Z', speed_kmh: 10 },
      invalidRow,
      { vehicle_id: 'v3', event_ts: '2024-03-01T08:00:00Z', speed_kmh: 30 },
    ];

    const failure = (await failureOf(table.insert(rows))) as unknown as {
      name: string;
      errors: { row: unknown; errors: { reason: string; message: string }[] }[];
      response: { insertErrors: { index: number; errors: { reason: string; location: string }[] }[] };
    };

    expect(failure.name).toBe('PartialFailureError');
    const invalid = failure.errors.find((entry) => entry.row === invalidRow);
    expect(invalid?.errors).toEqual([
      { reason: 'invalid', message: 'Cannot convert value to floating point (bad value): fast' },
    ]);
    const others = failure.errors.filter((entry) => entry.row !== invalidRow);
    expect(others.flatMap((entry) => entry.errors.map((error) => error.reason))).toEqual([
      'stopped',
      'stopped',
    ]);
    expect(failure.response.insertErrors.find((entry) => entry.index === 1)?.errors).toEqual([
      { reason: 'invalid', location: 'speed_kmh', debugInfo: '', message: expect.any(String) },
    ]);
    expect(await storedRows('all_or_nothing')).toEqual([]);
  });

  it.each([
    [
      'an unknown field',
      { vehicle_id: 'v', event_ts: '2024-03-01T08:00:00Z', colour: 'red' },
      'colour',
      'no such field: colour.',
    ],
    [
      'a missing REQUIRED field',
      { event_ts: '2024-03-01T08:00:00Z' },
      'vehicle_id',
      'Missing required field: vehicle_id.',
    ],
    [
      'an unparsable TIMESTAMP',
      { vehicle_id: 'v', event_ts: 'yesterday' },
      'event_ts',
      "Could not parse 'yesterday' as a timestamp.",
    ],
    [
      'a fractional INT64',
      { vehicle_id: 'v', event_ts: 1709280000, reading_count: 1.5 },
      'reading_count',
      'Cannot convert value to integer',
    ],
  ])('reports %s with its field as the location', async (_, row, location, message) => {
    const table = bigquery.dataset(DATASET).table('partitioned');
    const failure = (await failureOf(table.insert([row], { partialRetries: 0 }))) as ApiErrorShape & {
      response: { insertErrors: { index: number; errors: { location: string; message: string }[] }[] };
    };
    const [entry] = failure.response.insertErrors;
    expect(entry?.index).toBe(0);
    expect(entry?.errors[0]?.location).toBe(location);
    expect(entry?.errors[0]?.message).toContain(message);
  });

  it('stores the valid rows and reports only the invalid one when skipInvalidRows is set', async () => {
    const table = await createReadingsTable('skip_invalid');
    const failure = (await failureOf(
      table.insert(
        [
          { vehicle_id: 'v1', event_ts: '2024-03-01T08:00:00Z', speed_kmh: 10 },
          { vehicle_id: 'v2', event_ts: 'not a time', speed_kmh: 20 },
          { vehicle_id: 'v3', event_ts: 1709280000, speed_kmh: 30 },
        ],
        { skipInvalidRows: true, partialRetries: 0 },
      ),
    )) as ApiErrorShape & { response: { insertErrors: { index: number; errors: { reason: string }[] }[] } };

    expect(failure.response.insertErrors).toEqual([
      { index: 1, errors: [expect.objectContaining({ reason: 'invalid', location: 'event_ts' })] },
    ]);
    expect(await storedRows('skip_invalid')).toEqual([
      { vehicle_id: 'v1', speed_kmh: 10 },
      { vehicle_id: 'v3', speed_kmh: 30 },
    ]);
  });

  it('stores a row once when its insertId is sent again', async () => {
    const table = await createReadingsTable('deduplicated');
    const row = {
      insertId: 'v1-2024-03-01T08:00:00Z',
      json: { vehicle_id: 'v1', event_ts: '2024-03-01T08:00:00Z', speed_kmh: 42 },
    };
    await table.insert([row], { raw: true });
    await table.insert([row, { ...row, json: { ...row.json, speed_kmh: 99 } }], { raw: true });
    await table.insert([{ insertId: 'v1-other', json: { ...row.json, speed_kmh: 43 } }], { raw: true });

    expect(await storedRows('deduplicated')).toEqual([
      { vehicle_id: 'v1', speed_kmh: 42 },
      { vehicle_id: 'v1', speed_kmh: 43 },
    ]);
  });
});

describe('queries', () => {
  const readings = [
    { vehicle_id: 'v1', event_ts: '2024-03-01T07:00:00.000Z', speed_kmh: 5 },
    { vehicle_id: 'v1', event_ts: '2024-03-01T08:00:00.000Z', speed_kmh: 10 },
    { vehicle_id: 'v1', event_ts: '2024-03-01T08:01:00.000Z', speed_kmh: 20 },
    { vehicle_id: 'v1', event_ts: '2024-03-01T08:02:00.250Z', speed_kmh: 60 },
    { vehicle_id: 'v2', event_ts: '2024-03-01T08:00:30.000Z', speed_kmh: 100 },
  ];

  beforeAll(async () => {
    const table = await createReadingsTable('readings');
    await table.insert(readings);
  });

  it('answers a parameterized window query with the inserted instants and the right aggregates', async () => {
    const [rows] = await bigquery.query({
      query: `
        SELECT vehicle_id, event_ts,
          AVG(speed_kmh) OVER (PARTITION BY vehicle_id ORDER BY event_ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS avg_speed,
          COUNT(*) OVER (PARTITION BY vehicle_id) AS readings,
          TIMESTAMP_SUB(event_ts, INTERVAL 1 MINUTE) AS minute_before
        FROM \`${PROJECT_ID}.${DATASET}.readings\`
        WHERE vehicle_id = @vehicle AND event_ts >= @since
        ORDER BY event_ts`,
      params: { vehicle: 'v1', since: bigquery.timestamp('2024-03-01T07:30:00Z') },
    });

    expect(rows.map((row) => (row.event_ts as BigQueryTimestamp).value)).toEqual([
      '2024-03-01T08:00:00.000Z',
      '2024-03-01T08:01:00.000Z',
      '2024-03-01T08:02:00.250Z',
    ]);
    expect(rows.map((row) => row.avg_speed)).toEqual([10, 15, 40]);
    expect(rows.map((row) => row.readings)).toEqual([3, 3, 3]);
    expect(rows.map((row) => (row.minute_before as BigQueryTimestamp).value)).toEqual([
      '2024-03-01T07:59:00.000Z',
      '2024-03-01T08:00:00.000Z',
      '2024-03-01T08:01:00.250Z',
    ]);
  });

  it('aggregates with GROUP BY and COUNT(DISTINCT) under a default dataset', async () => {
    const [rows] = await bigquery.dataset(DATASET).query({
      query: `SELECT COUNT(DISTINCT vehicle_id) AS vehicles, MAX(speed_kmh) AS top, COUNT(*)
              FROM readings WHERE event_ts >= @since`,
      params: { since: bigquery.timestamp('2024-03-01T07:30:00Z') },
    });
    expect(rows).toEqual([{ vehicles: 2, top: 100, f0_: 4 }]);
  });

  it('lists stored rows with table.getRows (tabledata.list), instants intact', async () => {
    const [rows] = await bigquery.dataset(DATASET).table('readings').getRows({ maxResults: 2 });
    expect(rows).toEqual([
      {
        vehicle_id: 'v1',
        event_ts: bigquery.timestamp('2024-03-01T07:00:00.000Z'),
        speed_kmh: 5,
        reading_count: null,
      },
      {
        vehicle_id: 'v1',
        event_ts: bigquery.timestamp('2024-03-01T08:00:00.000Z'),
        speed_kmh: 10,
        reading_count: null,
      },
    ]);
  });

  it('pages a query job through getQueryResults', async () => {
    const [job] = await bigquery.createQueryJob({
      query: `SELECT speed_kmh FROM ${DATASET}.readings ORDER BY speed_kmh`,
    });
    const [firstPage, nextQuery] = await job.getQueryResults({ maxResults: 2, autoPaginate: false });
    expect(firstPage).toEqual([{ speed_kmh: 5 }, { speed_kmh: 10 }]);
    const [secondPage] = await job.getQueryResults({ ...nextQuery, autoPaginate: false });
    expect(secondPage).toEqual([{ speed_kmh: 20 }, { speed_kmh: 60 }]);
    const [all] = await job.getQueryResults();
    expect(all.map((row) => row.speed_kmh)).toEqual([5, 10, 20, 60, 100]);
  });

  it("gives BigQuery's answers where DuckDB's defaults differ", async () => {
    const [rows] = await bigquery.query(`
      SELECT
        "v1" = 'v1' AS double_quotes_are_strings,
        7 / 2 AS division,
        DIV(-7, 2) AS integer_division,
        LOG(8, 2) AS log_base_2,
        CONCAT('a', NULL) AS concat_with_null,
        EXTRACT(DAYOFWEEK FROM DATE '2024-03-03') AS sunday,
        TIMESTAMP_DIFF(TIMESTAMP '2024-03-01 10:59:00+00', TIMESTAMP '2024-03-01 10:00:00+00', HOUR) AS whole_hours,
        UNIX_SECONDS(TIMESTAMP '1969-12-31 23:59:59.5+00') AS floored_seconds,
        1.5 AS float_literal`);
    expect(rows).toEqual([
      {
        double_quotes_are_strings: true,
        division: 3.5,
        integer_division: -3,
        log_base_2: 3,
        concat_with_null: null,
        sunday: 1,
        whole_hours: 0,
        floored_seconds: -1,
        float_literal: 1.5,
      },
    ]);

    const [ordered] = await bigquery.query(
      'SELECT x FROM (SELECT 2 AS x UNION ALL SELECT NULL UNION ALL SELECT 1) ORDER BY x',
    );
    expect(ordered.map((row) => row.x)).toEqual([null, 1, 2]);
  });

  it.each([
    [
      'DML',
      `DELETE FROM ${DATASET}.readings WHERE TRUE`,
      /Statement DELETE is not supported by the BigQuery stand-in/,
    ],
    [
      'an untranslated function',
      `SELECT ARRAY_AGG(speed_kmh) FROM ${DATASET}.readings`,
      /Function ARRAY_AGG/,
    ],
    ['a column DuckDB cannot find', `SELECT colour FROM ${DATASET}.readings`, /colour/],
  ])('fails %s with a clear 400 invalidQuery error', async (_, query, message) => {
    const failure = await failureOf(bigquery.query(query));
    expect(failure.code).toBe(400);
    expect(failure.errors?.[0]?.reason).toBe('invalidQuery');
    expect(failure.message).toMatch(message);
  });

  it('refuses legacy SQL instead of running it as standard SQL', async () => {
    const failure = await failureOf(bigquery.query({ query: 'SELECT 1', useLegacySql: true }));
    expect(failure.message).toMatch(/Legacy SQL is not supported/);
  });

  it('keeps a failed query job with its error, as BigQuery does for jobs.insert', async () => {
    const failure = await failureOf(
      bigquery.createQueryJob({ query: `SELECT colour FROM ${DATASET}.readings`, jobId: 'failing_job' }),
    );
    expect(failure.errors?.[0]?.reason).toBe('invalidQuery');
    const [metadata] = await bigquery.job('failing_job').getMetadata();
    expect(metadata.status.state).toBe('DONE');
    expect(metadata.status.errorResult.reason).toBe('invalidQuery');
  });
});

describe('logical views', () => {
  const source = `\`${PROJECT_ID}.${DATASET}.view_source\``;
  const fastQuery = `SELECT vehicle_id, event_ts, speed_kmh FROM ${source} WHERE speed_kmh > 15`;

  beforeAll(async () => {
    const table = await createReadingsTable('view_source');
    await table.insert([
      { vehicle_id: 'v1', event_ts: '2024-03-01T08:00:00.000Z', speed_kmh: 10 },
      { vehicle_id: 'v1', event_ts: '2024-03-01T08:01:00.000Z', speed_kmh: 20 },
      { vehicle_id: 'v2', event_ts: '2024-03-01T08:02:00.500Z', speed_kmh: 30 },
    ]);
  });

  it('creates a view with tables.insert and reports it as type VIEW with its query and derived schema', async () => {
    // The client turns a string `view` into { query, useLegacySql: false }.
    await bigquery.dataset(DATASET).createTable('fast_readings', { view: fastQuery, description: 'fast' });

    const [metadata] = await bigquery.dataset(DATASET).table('fast_readings').getMetadata();
    expect(metadata).toMatchObject({
      type: 'VIEW',
      view: { query: fastQuery, useLegacySql: false },
      description: 'fast',
      tableReference: { projectId: PROJECT_ID, datasetId: DATASET, tableId: 'fast_readings' },
    });
    expect(metadata.schema.fields).toEqual([
      { name: 'vehicle_id', type: 'STRING', mode: 'NULLABLE' },
      { name: 'event_ts', type: 'TIMESTAMP', mode: 'NULLABLE' },
      { name: 'speed_kmh', type: 'FLOAT', mode: 'NULLABLE' },
    ]);
    expect(metadata.timePartitioning).toBeUndefined();

    const [tables] = await bigquery.dataset(DATASET).getTables();
    const listed = tables.find((table) => table.id === 'fast_readings');
    expect(listed?.metadata).toMatchObject({ type: 'VIEW', view: { useLegacySql: false } });
    expect(tables.find((table) => table.id === 'view_source')?.metadata.type).toBe('TABLE');
  });

  it('answers queries that read the view by path, by default dataset and through a CTE, instants intact', async () => {
    const [byPath] = await bigquery.query(
      `SELECT vehicle_id, event_ts FROM \`${PROJECT_ID}.${DATASET}.fast_readings\` ORDER BY event_ts`,
    );
    expect(byPath).toEqual([
      { vehicle_id: 'v1', event_ts: bigquery.timestamp('2024-03-01T08:01:00.000Z') },
      { vehicle_id: 'v2', event_ts: bigquery.timestamp('2024-03-01T08:02:00.500Z') },
    ]);
    const [unqualified] = await bigquery.dataset(DATASET).query({
      query:
        'WITH fast AS (SELECT * FROM fast_readings) SELECT COUNT(*) AS n, MAX(speed_kmh) AS top FROM fast',
    });
    expect(unqualified).toEqual([{ n: 2, top: 30 }]);
  });

  it('sees rows streamed into the table after the view was created', async () => {
    await bigquery
      .dataset(DATASET)
      .table('view_source')
      .insert([{ vehicle_id: 'v3', event_ts: '2024-03-01T08:03:00Z', speed_kmh: 99 }]);
    const [rows] = await bigquery.query(
      `SELECT vehicle_id FROM ${DATASET}.fast_readings ORDER BY vehicle_id`,
    );
    expect(rows.map((row) => row.vehicle_id)).toEqual(['v1', 'v2', 'v3']);
  });

  it.each([
    [
      'tabledata.list (getRows)',
      () => bigquery.dataset(DATASET).table('fast_readings').getRows(),
      'Cannot list a table of type VIEW.',
    ],
    [
      'insertAll',
      () =>
        bigquery
          .dataset(DATASET)
          .table('fast_readings')
          .insert([{ vehicle_id: 'v9' }], { partialRetries: 0 }),
      'Cannot add rows to a table of type VIEW.',
    ],
  ])('refuses %s on a view with a 400 invalid error', async (_, action, message) => {
    const failure = await failureOf(action());
    expect(failure.code).toBe(400);
    expect(failure.errors?.[0]?.reason).toBe('invalid');
    expect(failure.message).toBe(message);
  });

  it.each([
    ['useLegacySql: true', { query: fastQuery, useLegacySql: true }, 501, /legacy SQL view/],
    ['useLegacySql unset (the API defaults to legacy SQL)', { query: fastQuery }, 501, /legacy SQL view/],
    [
      'a table without its dataset',
      { query: 'SELECT * FROM view_source', useLegacySql: false },
      404,
      /view_source/,
    ],
    [
      'a query parameter',
      { query: `SELECT * FROM ${source} WHERE speed_kmh > @min`, useLegacySql: false },
      400,
      /Query parameters cannot be used in a view/,
    ],
    [
      'an unnamed column',
      { query: `SELECT speed_kmh * 2 FROM ${source}`, useLegacySql: false },
      400,
      /columns must be named/,
    ],
    [
      'a function outside the rewrite',
      { query: `SELECT ARRAY_AGG(speed_kmh) AS speeds FROM ${source}`, useLegacySql: false },
      400,
      /Function ARRAY_AGG/,
    ],
  ])('refuses a view with %s, and creates nothing', async (_, view, code, message) => {
    const failure = await failureOf(bigquery.dataset(DATASET).createTable('refused_view', { view }));
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
    expect(await bigquery.dataset(DATASET).table('refused_view').exists()).toEqual([false]);
  });

  it('creates a dataset, table or view once when requests race, answering 409 to the others', async () => {
    const outcomes = async (create: () => Promise<unknown>) =>
      (await Promise.allSettled([create(), create(), create()])).map((outcome) =>
        outcome.status === 'fulfilled' ? 200 : (outcome.reason as ApiErrorShape).code,
      );
    const dataset = bigquery.dataset('raced');
    expect((await outcomes(() => bigquery.createDataset('raced'))).sort()).toEqual([200, 409, 409]);
    expect(
      (
        await outcomes(() => dataset.createTable('raced_table', { schema: [{ name: 'x', type: 'INT64' }] }))
      ).sort(),
    ).toEqual([200, 409, 409]);
    expect(
      (
        await outcomes(() => dataset.createTable('raced_view', { view: 'SELECT x FROM raced.raced_table' }))
      ).sort(),
    ).toEqual([200, 409, 409]);
    await dataset.delete({ force: true });
  });

  it('answers 409 for a view whose id is taken, and drops the view (not its table) on tables.delete', async () => {
    await bigquery.dataset(DATASET).createTable('doomed_view', { view: `SELECT vehicle_id FROM ${source}` });
    const duplicate = await failureOf(
      bigquery.dataset(DATASET).createTable('doomed_view', { view: `SELECT vehicle_id FROM ${source}` }),
    );
    expect(duplicate.code).toBe(409);

    await bigquery.dataset(DATASET).table('doomed_view').delete();

    expect(await bigquery.dataset(DATASET).table('doomed_view').exists()).toEqual([false]);
    const gone = await failureOf(bigquery.query(`SELECT * FROM ${DATASET}.doomed_view`));
    expect(gone.code).toBe(404);
    const [rows] = await bigquery.query(`SELECT COUNT(*) AS n FROM ${source}`);
    expect(rows).toEqual([{ n: 4 }]);
  });

  it('fails a query with 404 once the table under a view is deleted, as BigQuery does', async () => {
    const table = await createReadingsTable('short_lived');
    await bigquery
      .dataset(DATASET)
      .createTable('orphan_view', { view: `SELECT vehicle_id FROM ${DATASET}.short_lived` });
    await table.delete();

    const failure = await failureOf(bigquery.query(`SELECT * FROM ${DATASET}.orphan_view`));
    expect(failure.code).toBe(404);
    expect(failure.errors?.[0]?.reason).toBe('notFound');
  });
});
