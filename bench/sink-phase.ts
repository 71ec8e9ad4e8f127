import { join } from 'node:path';
import { startBigQueryStandin } from '../local/bigquery-standin/index.js';
import { startGcsStandin } from '../local/gcs-standin/index.js';
import type { BenchProgress } from './bench-progress.js';
import type { SinkBenchRow } from './bench-report.js';
import { runSinkBench } from './sink-bench.js';

const PROJECT_ID = 'fleet-features-bench';

/**
 * Sink writes, measured apart from the engine: rows per second per flush size against private
 * GCS and BigQuery stand-ins (under `dir`), stopped afterwards, error or not.
 */
export async function runSinks(dir: string, progress: BenchProgress): Promise<SinkBenchRow[]> {
  progress.log('sinks: starting the GCS and BigQuery stand-ins');
  const gcs = await startGcsStandin({ root: join(dir, 'gcs') });
  try {
    const bigquery = await startBigQueryStandin({
      dbPath: join(dir, 'bigquery', 'warehouse.duckdb'),
      defaultProjectId: PROJECT_ID,
    });
    try {
      const results = await runSinkBench({
        gcsStandinUrl: gcs.url,
        bigqueryStandinUrl: bigquery.url,
        projectId: PROJECT_ID,
      });
      return results.map((r) => ({
        sink: r.sink,
        flush_rows: r.flushRows,
        rows_per_s: r.rowsPerS,
        ms_per_flush: r.msPerFlush,
      }));
    } finally {
      await bigquery.close();
    }
  } finally {
    await gcs.close();
  }
}
