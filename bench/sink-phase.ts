import type { BenchProgress } from './bench-progress.js';
import type { SinkBenchRow } from './bench-report.js';

/**
 * Sink writes, measured apart from the engine: rows per second per flush size against the GCS and
 * BigQuery stand-ins.
 *
 * INTEGRATION POINT: bench/sink-bench.ts (`runSinkBench`) is written by another helper and did not
 * exist yet. Once it does: start the stand-ins here (startGcsStandin / startBigQueryStandin under
 * `dir`), call runSinkBench({ gcsStandinUrl, bigqueryStandinUrl, projectId }), close them, return
 * its rows.
 */
export async function runSinks(_dir: string, progress: BenchProgress): Promise<SinkBenchRow[] | undefined> {
  progress.log('sinks: skipped, bench/sink-bench.ts is not there yet');
  return undefined;
}
