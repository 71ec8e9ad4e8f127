// Sink throughput per flush size against the local stand-ins and the Pub/Sub emulator, through the
// official clients: what group commit buys. For each sink and flush size, rows are written in
// sequential flushes of that size; `group(bigquery+pubsub)` has one concurrent writer per row and
// lets GroupCommitSink form the flushes (maxRows = the flush size), as the feature function does.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BigQueryFeatureSink, createBigQueryClient } from '../shared/adapters/bigquery-feature-sink.js';
import { PubSubFeatureRowSink } from '../shared/adapters/pubsub-feature-row-sink.js';
import { createPubSubClient, PubSubPublisher } from '../shared/adapters/pubsub-publisher.js';
import type { FeatureSink } from '../shared/ports/feature-sink.js';
import type { FeatureRow } from '../shared/rows/feature-row.js';
import { GroupCommitSink } from '../shared/runtime/group-commit-sink.js';
import { featureRowFixtures } from '../test/helpers/feature-row-fixtures.js';

export interface SinkBenchOptions {
  pubsubEmulatorHost: string;
  bigqueryStandinUrl: string;
  projectId: string;
  flushSizes?: number[];
  /** Rows per measurement at most; small flush sizes write fewer (MAX_FLUSHES_PER_POINT flushes). */
  rows?: number;
}

export interface SinkBenchResult {
  sink: string;
  flushRows: number;
  rowsPerS: number;
  msPerFlush: number;
}

const DEFAULT_FLUSH_SIZES = [1, 10, 100, 500];
const DEFAULT_ROWS = 1000;
/** Bounds a measurement's duration: one-row flushes are slow by design, 100 of them say enough. */
const MAX_FLUSHES_PER_POINT = 100;

export async function runSinkBench(opts: SinkBenchOptions): Promise<SinkBenchResult[]> {
  const flushSizes = opts.flushSizes ?? DEFAULT_FLUSH_SIZES;
  const maxRows = opts.rows ?? DEFAULT_ROWS;
  const run = randomUUID().replaceAll('-', '').slice(0, 10);

  const pubsub = createPubSubClient({
    projectId: opts.projectId,
    pubsubEmulatorHost: opts.pubsubEmulatorHost,
  });
  const topic = `feature-rows-${run}`;
  await pubsub.createTopic(topic);
  const featureRows = new PubSubFeatureRowSink(new PubSubPublisher(pubsub), topic);

  const bigqueryClient = createBigQueryClient({
    projectId: opts.projectId,
    bigquery: {
      dataset: `sink_bench_${run}`,
      featuresTable: 'features',
      location: 'US',
      apiEndpoint: opts.bigqueryStandinUrl,
    },
  });
  const bigquery = new BigQueryFeatureSink(bigqueryClient, {
    dataset: `sink_bench_${run}`,
    table: 'features',
  });
  await bigquery.ensureTable();

  const results: SinkBenchResult[] = [];
  for (const sink of [bigquery, featureRows]) {
    for (const flushRows of flushSizes) {
      const rows = featureRowFixtures(`${sink.name}-${flushRows}-${run}`, pointRows(flushRows, maxRows));
      results.push(await measureSequentialFlushes(sink, rows, flushRows));
    }
  }
  for (const flushRows of flushSizes) {
    const rows = featureRowFixtures(`group-${flushRows}-${run}`, pointRows(flushRows, maxRows));
    results.push(await measureGroupCommit([bigquery, featureRows], rows, flushRows));
  }
  await pubsub.close();
  return results;
}

function pointRows(flushRows: number, maxRows: number): number {
  return Math.max(1, Math.min(maxRows, flushRows * MAX_FLUSHES_PER_POINT));
}

async function measureSequentialFlushes(
  sink: FeatureSink,
  rows: readonly FeatureRow[],
  flushRows: number,
): Promise<SinkBenchResult> {
  let flushes = 0;
  const started = performance.now();
  for (let i = 0; i < rows.length; i += flushRows) {
    await sink.write(rows.slice(i, i + flushRows));
    flushes += 1;
  }
  return result(sink.name, flushRows, rows.length, flushes, performance.now() - started);
}

async function measureGroupCommit(
  sinks: readonly FeatureSink[],
  rows: readonly FeatureRow[],
  flushRows: number,
): Promise<SinkBenchResult> {
  const group = new GroupCommitSink(sinks, { maxRows: flushRows, maxMs: 5 });
  const started = performance.now();
  await Promise.all(rows.map((row) => group.write([row])));
  await group.close();
  const elapsed = performance.now() - started;
  return result(group.name, flushRows, rows.length, group.stats().flushes, elapsed);
}

function result(sink: string, flushRows: number, rows: number, flushes: number, ms: number): SinkBenchResult {
  return {
    sink,
    flushRows,
    rowsPerS: Math.round((rows / ms) * 1000),
    msPerFlush: Math.round((ms / Math.max(1, flushes)) * 100) / 100,
  };
}
