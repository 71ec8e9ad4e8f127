import { BigQuery } from '@google-cloud/bigquery';
import { startBigQueryStandin } from './local/bigquery-standin/index.js';
process.env.METADATA_SERVER_DETECTION = 'none';
const s = await startBigQueryStandin({ dbPath: '/tmp/bqx/smoke/w.duckdb', defaultProjectId: 'test-project' });
try {
  const bq = new BigQuery({ projectId: 'test-project', apiEndpoint: s.url });
  const [ds] = await bq.createDataset('fleet');
  const [t] = await ds.createTable('features', {
    schema: [
      { name: 'vehicle_id', type: 'STRING', mode: 'REQUIRED' },
      { name: 'ts', type: 'TIMESTAMP', mode: 'REQUIRED' },
      { name: 'speed', type: 'FLOAT64' },
      { name: 'n', type: 'INT64' },
    ],
    timePartitioning: { type: 'DAY', field: 'ts' },
    clustering: { fields: ['vehicle_id'] },
  });
  console.log((await t.getMetadata())[0]);
  await t.insert([{ vehicle_id: 'v1', ts: '2024-01-01T10:00:00.123456Z', speed: 10, n: 1 }, { vehicle_id: 'v1', ts: new Date('2024-01-01T10:01:00Z'), speed: 20, n: 2 }]);
  try { await t.insert([{ vehicle_id: 'v2', ts: '2024-01-01T10:00:00Z', speed: 'fast' }, { vehicle_id: 'v2', ts: '2024-01-01T10:00:00Z', speed: 1 }], { partialRetries: 0 }); } catch (e: any) { console.log(e.name, JSON.stringify(e.errors), JSON.stringify(e.response)); }
  const [rows] = await bq.query({ query: 'SELECT vehicle_id, ts, AVG(speed) OVER (PARTITION BY vehicle_id ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS avg_speed, COUNT(*) OVER () AS c FROM `test-project.fleet.features` WHERE vehicle_id = @v AND ts >= @since ORDER BY ts', params: { v: 'v1', since: bq.timestamp('2024-01-01T00:00:00Z') } });
  console.log(rows, rows.map((r: any) => r.ts.value));
  const [job] = await bq.createQueryJob({ query: 'SELECT n, TIMESTAMP_SUB(ts, INTERVAL 5 MINUTE) AS t5 FROM fleet.features ORDER BY n', useLegacySql: false });
  const [r2] = await job.getQueryResults({ maxResults: 1 });
  console.log('page1', r2);
  const [r3] = await job.getQueryResults();
  console.log('all', r3);
  try { await bq.query('DELETE FROM fleet.features WHERE true'); } catch (e: any) { console.log('err', e.code, e.message); }
  try { await bq.query('SELECT nope FROM fleet.features'); } catch (e: any) { console.log('err', e.code, e.message); }
  try { await bq.createQueryJob({ query: 'SELECT nope FROM fleet.features', jobId: 'x1' }); } catch (e: any) { console.log('err job', e.code, e.message); }
  const [rows2] = await t.getRows();
  console.log(rows2);
  console.log(await ds.exists(), await bq.dataset('nope').exists());
} finally { await s.close(); }
