// The summary `npm run dev` ends with: what was sent, and what landed where.

import { EventEmitter } from 'node:events';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Storage } from '@google-cloud/storage';
import type { ArchiveSubscriptions } from '../../shared/archive-subscriptions.js';
import type { FleetConfig } from '../../shared/config.js';
import type { ArchiveWriters } from '../servers/cloud-storage-subscription-writer.js';
import type { RunningFunction } from '../servers/function-servers.js';
import { vehicleIdFor } from '../simulator/device-simulator.js';
import type { PublishedFleet } from '../simulator/simulated-publisher.js';
import type { DevProgress, LandedCounts } from './dev-progress.js';
import type { LatencySummary, PipelineHealth } from './pipeline-health.js';
import type { PipelineHealthSampler } from './pipeline-health-sampler.js';

export interface FeatureArchiveSummary {
  objects: number;
  rows: number;
  /** Distinct (vehicle_id, event_ts): a reading's identity. */
  distinctReadings: number;
  rowsPerObject: { median: number; min: number; max: number };
}

export interface DevSummary {
  published: PublishedFleet;
  landed: LandedCounts;
  warehouse: { vehicles: number; outOfOrderRows: number; tempAnomalyRows: number };
  archive: FeatureArchiveSummary;
  rawArchive: { objects: number; messages: number };
  onlineSample: { vehicleId: string; status: number; body: unknown };
  /** The last health sample: freshness, from the feature function's log lines. */
  health: PipelineHealth;
}

export async function collectSummary(deps: {
  bigquery: BigQuery;
  storage: Storage;
  config: FleetConfig;
  published: PublishedFleet;
  progress: DevProgress;
  featuresApi: RunningFunction;
  archives: ArchiveSubscriptions;
  archiveWriters: ArchiveWriters;
  health: PipelineHealthSampler;
}): Promise<DevSummary> {
  const { config } = deps;
  const landed = await deps.progress.poll();
  const health = await deps.health.sample();
  const table = `\`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\``;
  const [stats] = await deps.bigquery.query({
    query: `SELECT COUNT(DISTINCT vehicle_id) AS vehicles, COUNTIF(late) AS ooo, COUNTIF(temp_anomaly) AS hot FROM ${table}`,
  });
  const first = (stats[0] ?? {}) as { vehicles?: number; ooo?: number; hot?: number };

  const bucket = deps.storage.bucket(config.featuresBucket);
  const [featureFiles] = await bucket.getFiles({ prefix: deps.archives.features.filenamePrefix });
  const rowsPerObject: number[] = [];
  const readings = new Set<string>();
  for (const file of featureFiles) {
    const [bytes] = await withListenerHeadroom(() => file.download());
    const lines = bytes.toString('utf8').split('\n');
    rowsPerObject.push(lines.length);
    for (const line of lines) {
      const row = JSON.parse(line) as { vehicle_id: string; event_ts: string };
      readings.add(`${row.vehicle_id}\u0000${row.event_ts}`);
    }
  }
  const [rawFiles] = await bucket.getFiles({ prefix: deps.archives.raw.filenamePrefix });

  const vehicleId = vehicleIdFor(0);
  const response = await fetch(`${deps.featuresApi.url}/v1/vehicles/${vehicleId}/features`);
  return {
    published: deps.published,
    landed,
    warehouse: {
      vehicles: Number(first.vehicles ?? 0),
      outOfOrderRows: Number(first.ooo ?? 0),
      tempAnomalyRows: Number(first.hot ?? 0),
    },
    archive: {
      objects: featureFiles.length,
      rows: rowsPerObject.reduce((a, b) => a + b, 0),
      distinctReadings: readings.size,
      rowsPerObject: spread(rowsPerObject),
    },
    // Raw messages may hold newlines (they are kept as sent), so the writer's count, not lines.
    rawArchive: { objects: rawFiles.length, messages: deps.archiveWriters.raw.stats().messages },
    onlineSample: { vehicleId, status: response.status, body: await response.json() },
    health,
  };
}

/**
 * A download of an object over ~16 KB stacks three pipelines and node-fetch's own handlers on one
 * response stream in the storage client (teeny-request): 11 'error' listeners, which Node reports
 * as a possible leak (MaxListenersExceededWarning). It is not one; give such streams room.
 */
async function withListenerHeadroom<T>(run: () => Promise<T>): Promise<T> {
  const previous = EventEmitter.defaultMaxListeners;
  EventEmitter.defaultMaxListeners = Math.max(previous, 20);
  try {
    return await run();
  } finally {
    EventEmitter.defaultMaxListeners = previous;
  }
}

/** Median, min and max (0s for no values). */
export function spread(values: readonly number[]): { median: number; min: number; max: number } {
  if (values.length === 0) return { median: 0, min: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)! };
}

export function printSummary(
  summary: DevSummary,
  paths: { dataDir: string; warehousePath: string; objectStoreRoot: string },
): void {
  const { published, landed, warehouse, archive, rawArchive } = summary;
  const k = published.byKind;
  const sample = summary.onlineSample.body as Record<string, unknown>;
  const perObject = archive.rowsPerObject;
  const warehouseExact =
    landed.distinctRows === published.expectedRows && landed.rows === landed.distinctRows;
  const archiveExact =
    archive.distinctReadings === published.expectedRows && archive.rows === archive.distinctReadings;
  const lines = [
    '',
    '== fleet-features local run: summary ==',
    `published        ${published.messages} messages holding ${published.readings} readings: ${k.valid} valid, ${k.out_of_order} out of order, ${k.duplicate} duplicates, ${k.late} late, ${k.malformed} malformed`,
    `expected rows    ${published.expectedRows} (each distinct reading within the allowed lateness, once)`,
    `warehouse        ${landed.rows} rows, ${landed.distinctRows} distinct event_ids, ${warehouse.vehicles} vehicles, ${warehouse.outOfOrderRows} out-of-order, ${warehouse.tempAnomalyRows} over 105 °C`,
    `                 (BigQuery stand-in, DuckDB file ${paths.warehousePath})`,
    `archive          features/: ${archive.objects} objects holding ${archive.rows} rows of ${archive.distinctReadings} distinct readings; rows per object median ${perObject.median} (min ${perObject.min}, max ${perObject.max})`,
    `raw archive      raw/: ${rawArchive.objects} objects holding ${rawArchive.messages} messages (${published.messages} published)`,
    `object store     late/: ${landed.lateObjects}; quarantine/: ${landed.quarantineObjects}`,
    `                 (GCS stand-in, folder ${paths.objectStoreRoot})`,
    `dead-lettered    ${landed.deadLettered} readings on the telemetry-dlq topic`,
    ...freshnessLines(summary.health.freshness),
    `online API       GET /v1/vehicles/${summary.onlineSample.vehicleId}/features → ${summary.onlineSample.status}` +
      (summary.onlineSample.status === 200
        ? ` (event_ts ${sample.event_ts}, speed_mean_5m ${sample.speed_mean_5m}, count_1h ${sample.count_1h})`
        : ''),
    warehouseExact && archiveExact
      ? 'check            every expected reading landed once in the warehouse and once in the archive'
      : `check            MISMATCH: expected ${published.expectedRows}; warehouse ${landed.rows} rows of ${landed.distinctRows} distinct; archive ${archive.rows} rows of ${archive.distinctReadings} distinct readings`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/**
 * Freshness as the feature function measured it (its `feature freshness` log lines). Event time is
 * the device's clock: the simulator's run `--speedup` times faster than the wall and catch up with
 * it at the end of the run, so above 1 the event-time figures hold the fast clocks' lag, not only
 * the pipeline's; publish time is the emulator's, on the wall clock, and always means what it says.
 */
export function freshnessLines(freshness: PipelineHealth['freshness']): string[] {
  const figure = (latency: LatencySummary | undefined) =>
    latency === undefined || latency.count === 0
      ? 'no rows'
      : `p50 ${formatMs(latency.p50Ms)}, p99 ${formatMs(latency.p99Ms)}`;
  const speedup = freshness.eventClockSpeedup ?? 1;
  return [
    `freshness        publish → durable ${figure(freshness.publishToDurable)}; publish → online ${figure(freshness.publishToOnline)} (over ${freshness.publishToDurable.count} rows)`,
    `                 event → durable ${figure(freshness.eventToDurable)}; event → online ${figure(freshness.eventToOnline)}`,
    ...(speedup > 1
      ? [
          `                 (the simulated device clocks run ${speedup}× faster than the wall and catch up with it at the end, so event-time figures hold their lag; --speedup 1 measures them for real)`,
        ]
      : []),
  ];
}

/** 12 ms, 1.35 s, 4.2 min. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 120_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
