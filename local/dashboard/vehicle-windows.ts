// One vehicle's feature rows over time, from the warehouse (one row per reading: the identity
// view), column-wise for the page's charts. Bounded by event time, so BigQuery prunes partitions.

import { identityViewOf, tablePath } from '../../shared/model/features-by-identity.js';
import type { FeatureTableRef, SqlValue, Warehouse } from '../../shared/ports/warehouse.js';
import { VEHICLE_ID_PATTERN } from '../../shared/telemetry/telemetry-reading.js';
import {
  type VehicleWindowsAnswer,
  WINDOW_SERIES_COLUMNS,
  type WindowSeriesColumn,
} from './dashboard-api.js';

export async function readVehicleWindows(args: {
  warehouse: Warehouse;
  table: FeatureTableRef;
  vehicleId: string;
  /** The vehicle's newest event time: the span ends there. */
  newestEventTs: string;
  spanMs: number;
  maxRows: number;
}): Promise<VehicleWindowsAnswer> {
  if (!VEHICLE_ID_PATTERN.test(args.vehicleId)) throw new Error(`not a vehicle id: ${args.vehicleId}`);
  const to = new Date(args.newestEventTs);
  const from = new Date(to.getTime() - args.spanMs);
  // The newest rows first, so a long span keeps its recent end; reversed below for the time axis.
  const rows = await args.warehouse.query({
    sql: `SELECT event_ts, ${WINDOW_SERIES_COLUMNS.join(', ')}
      FROM ${tablePath(args.table, identityViewOf(args.table.table))}
      WHERE vehicle_id = @vehicle_id AND event_ts > @from AND event_ts <= @to
      ORDER BY event_ts DESC LIMIT ${Math.trunc(args.maxRows)}`,
    params: {
      vehicle_id: { type: 'STRING', value: args.vehicleId },
      from: { type: 'TIMESTAMP', value: from.toISOString() },
      to: { type: 'TIMESTAMP', value: to.toISOString() },
    },
  });
  rows.reverse();
  const series = Object.fromEntries(
    WINDOW_SERIES_COLUMNS.map((column) => [column, rows.map((row) => numberOrNull(row[column]))]),
  ) as Record<WindowSeriesColumn, (number | null)[]>;
  return {
    vehicleId: args.vehicleId,
    from: from.toISOString(),
    to: to.toISOString(),
    time: rows.map((row) => Date.parse(String(row.event_ts)) / 1000),
    series,
  };
}

function numberOrNull(value: SqlValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
