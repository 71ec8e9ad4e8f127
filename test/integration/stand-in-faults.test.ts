// The stand-ins' fault injection (local/fault-injection/), as the chaos suite uses it: the
// production sinks, through the official clients, meet the failures Google's services answer and
// still write every row once; reads are never faulted; `POST /_fault` changes the plan at run time.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BigQueryStandin, startBigQueryStandin } from '../../local/bigquery-standin/index.js';
import { FAULT_ADMIN_PATH, FaultInjector } from '../../local/fault-injection/fault-injector.js';
import { type GcsStandin, startGcsStandin } from '../../local/gcs-standin/index.js';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { featureRowFixtures } from '../helpers/feature-row-fixtures.js';

const projectId = 'fleet-features-faults';
let dir = '';
let bq: BigQueryStandin;
let gcs: GcsStandin;
const bqFaults = new FaultInjector({ seed: 3 });
const gcsFaults = new FaultInjector({ seed: 4 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stand-in-faults-'));
  [bq, gcs] = await Promise.all([
    startBigQueryStandin({
      dbPath: join(dir, 'warehouse.duckdb'),
      defaultProjectId: projectId,
      faults: bqFaults,
    }),
    startGcsStandin({ root: join(dir, 'objects'), faults: gcsFaults }),
  ]);
});

afterAll(async () => {
  await Promise.allSettled([bq?.close(), gcs?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stand-ins with injected faults', () => {
  it('BigQuery: partial insertErrors, 500/503 and lost answers still leave every row exactly once', async () => {
    const client = createBigQueryClient(
      {
        projectId,
        bigquery: { dataset: 'faults', featuresTable: 'features', location: 'US', apiEndpoint: bq.url },
      },
      { authClient: new PassThroughClient() },
    );
    const sink = new BigQueryFeatureSink(client, {
      dataset: 'faults',
      table: 'features',
      retry: { retries: 10, minTimeoutMs: 10, maxTimeoutMs: 50 },
    });
    await sink.ensureTable();
    bqFaults.configure({ partialShare: 0.5, errorShare: 0.1, lostResponseShare: 0.1, partialRowShare: 0.3 });
    const rows = featureRowFixtures('faults', 200);
    for (let i = 0; i < rows.length; i += 20) await sink.write(rows.slice(i, i + 20));
    const counts = bqFaults.counts();
    bqFaults.configure({});
    expect(counts.partials).toBeGreaterThan(0);
    expect(counts.failedRows).toBeGreaterThan(0);
    const [stored] = await client.query({
      query: `SELECT event_id, COUNT(*) AS n FROM \`${projectId}.faults.features\` GROUP BY event_id`,
    });
    expect(stored).toHaveLength(200);
    expect(stored.every((r: { n: number }) => Number(r.n) === 1)).toBe(true);
  });

  it('GCS: writes fail with the planned status while reads are served; POST /_fault {} ends it', async () => {
    const store = new GcsObjectStore(
      createStorageClient({ projectId, storageEmulatorHost: gcs.url }),
      'faults',
    );
    await createStorageClient({ projectId, storageEmulatorHost: gcs.url }).createBucket('faults');
    await store.putIfAbsent('before.txt', Buffer.from('kept'), { contentType: 'text/plain' });

    const set = await fetch(`${gcs.url}${FAULT_ADMIN_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ errorShare: 1, errorStatuses: [503] }),
    });
    expect(((await set.json()) as { plan: { errorShare: number } }).plan.errorShare).toBe(1);
    await expect(
      fetch(`${gcs.url}/upload/storage/v1/b/faults/o?uploadType=media&name=x.txt`, {
        method: 'POST',
        body: 'x',
      }),
    ).resolves.toMatchObject({ status: 503 });
    const read = await fetch(`${gcs.url}/storage/v1/b/faults/o/before.txt?alt=media`);
    expect(await read.text()).toBe('kept');

    await fetch(`${gcs.url}${FAULT_ADMIN_PATH}`, { method: 'POST', body: '{}' });
    await store.putIfAbsent('after.txt', Buffer.from('written'), { contentType: 'text/plain' });
    const state = (await (await fetch(`${gcs.url}${FAULT_ADMIN_PATH}`)).json()) as {
      counts: { errors: number };
    };
    expect(state.counts.errors).toBe(1);
  });

  it('refuses an invalid plan over HTTP and keeps the current one', async () => {
    const answer = await fetch(`${gcs.url}${FAULT_ADMIN_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ errorShare: 2 }),
    });
    expect(answer.status).toBe(400);
    expect(gcsFaults.plan.errorShare).toBe(0);
  });
});
