import { join } from 'node:path';
import { startBigQueryStandin } from '../local/bigquery-standin/index.js';
import { startPubSubEmulator } from '../local/servers/pubsub-emulator.js';
import type { BenchProgress } from './bench-progress.js';
import type { SinkBenchRow } from './bench-report.js';
import { runSinkBench } from './sink-bench.js';

const PROJECT_ID = 'fleet-features-bench';

/**
 * Sink writes, measured apart from the engine: rows per second per flush size against a private
 * Pub/Sub emulator and BigQuery stand-in (under `dir`), stopped afterwards, error or not.
 */
export async function runSinks(dir: string, progress: BenchProgress): Promise<SinkBenchRow[]> {
  progress.log('sinks: starting the Pub/Sub emulator and the BigQuery stand-in');
  const pubsub = await startPubSubEmulator({ dir: join(dir, 'pubsub'), projectId: PROJECT_ID });
  try {
    const bigquery = await startBigQueryStandin({
      dbPath: join(dir, 'bigquery', 'warehouse.duckdb'),
      defaultProjectId: PROJECT_ID,
    });
    try {
      const results = await runSinkBench({
        pubsubEmulatorHost: pubsub.host,
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
    await pubsub.stop();
  }
}
