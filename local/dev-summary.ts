// The summary `npm run dev` ends with: what was sent, and what landed where.

import { gunzipSync } from 'node:zlib';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Storage } from '@google-cloud/storage';
import type { FleetConfig } from '../shared/config.js';
import type { DevProgress, LandedCounts } from './dev-progress.js';
import { vehicleIdFor } from './device-simulator.js';
import type { RunningFunction } from './function-servers.js';
import type { PublishedFleet } from './simulated-publisher.js';

export interface DevSummary {
  published: PublishedFleet;
  landed: LandedCounts;
  warehouse: { vehicles: number; outOfOrderRows: number; tempAnomalyRows: number };
  objectRows: number;
  /** Re-sent readings are written again (same row) and de-duplicated by event_id downstream. */
  objectDistinctRows: number;
  onlineSample: { vehicleId: string; status: number; body: unknown };
}

export async function collectSummary(deps: {
  bigquery: BigQuery;
  storage: Storage;
  config: FleetConfig;
  published: PublishedFleet;
  progress: DevProgress;
  featuresApi: RunningFunction;
}): Promise<DevSummary> {
  const { config } = deps;
  const landed = await deps.progress.poll();
  const table = `\`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\``;
  const [stats] = await deps.bigquery.query({
    query: `SELECT COUNT(DISTINCT vehicle_id) AS vehicles, COUNTIF(late) AS ooo, COUNTIF(temp_anomaly) AS hot FROM ${table}`,
  });
  const first = (stats[0] ?? {}) as { vehicles?: number; ooo?: number; hot?: number };

  const [files] = await deps.storage.bucket(config.featuresBucket).getFiles({ prefix: 'features/' });
  let objectRows = 0;
  const objectEventIds = new Set<string>();
  for (const file of files) {
    const [bytes] = await file.download({ decompress: false });
    for (const line of gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean)) {
      objectRows++;
      objectEventIds.add((JSON.parse(line) as { event_id: string }).event_id);
    }
  }

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
    objectRows,
    objectDistinctRows: objectEventIds.size,
    onlineSample: { vehicleId, status: response.status, body: await response.json() },
  };
}

export function printSummary(
  summary: DevSummary,
  paths: { dataDir: string; warehousePath: string; objectStoreRoot: string },
): void {
  const { published, landed, warehouse } = summary;
  const k = published.byKind;
  const sample = summary.onlineSample.body as Record<string, unknown>;
  const lines = [
    '',
    '== fleet-features local run: summary ==',
    `published        ${published.messages} messages holding ${published.readings} readings: ${k.valid} valid, ${k.out_of_order} out of order, ${k.duplicate} duplicates, ${k.late} late, ${k.malformed} malformed`,
    `expected rows    ${published.expectedRows} (each distinct reading within the allowed lateness, once)`,
    `warehouse        ${landed.rows} rows, ${landed.distinctRows} distinct event_ids, ${warehouse.vehicles} vehicles, ${warehouse.outOfOrderRows} out-of-order, ${warehouse.tempAnomalyRows} over 105 °C`,
    `                 (BigQuery stand-in, DuckDB file ${paths.warehousePath})`,
    `object store     features/: ${landed.featureObjects} objects holding ${summary.objectRows} rows (${summary.objectDistinctRows} distinct event_ids); late/: ${landed.lateObjects}; quarantine/: ${landed.quarantineObjects}`,
    `                 (GCS stand-in, folder ${paths.objectStoreRoot})`,
    `dead-lettered    ${landed.deadLettered} readings on the telemetry-dlq topic`,
    `online API       GET /v1/vehicles/${summary.onlineSample.vehicleId}/features → ${summary.onlineSample.status}` +
      (summary.onlineSample.status === 200
        ? ` (event_ts ${sample.event_ts}, speed_mean_5m ${sample.speed_mean_5m}, count_1h ${sample.count_1h})`
        : ''),
    landed.distinctRows === published.expectedRows &&
    landed.rows === landed.distinctRows &&
    summary.objectDistinctRows === published.expectedRows
      ? 'check            every expected reading landed: once in the warehouse, and in the object store'
      : `check            MISMATCH: ${landed.distinctRows} distinct rows for ${published.expectedRows} expected`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
