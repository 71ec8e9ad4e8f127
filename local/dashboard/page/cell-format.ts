// What the fleet table shows of a feature row, and how each value reads (pure: the browser test
// formats the features API's answer with the same functions to compare it with the page).

import type { FeatureRow } from '../../../shared/rows/feature-row.js';

export type FleetColumn =
  | { key: 'vehicle_id'; label: string; kind: 'text' }
  | { key: 'event_ts'; label: string; kind: 'time' }
  | { key: 'temp_anomaly'; label: string; kind: 'flag' }
  | { key: NumericColumn; label: string; kind: 'number'; decimals: number; temperature?: true };

type NumericColumn = {
  [K in keyof FeatureRow]: FeatureRow[K] extends number | null ? K : never;
}[keyof FeatureRow];

export const FLEET_COLUMNS: readonly FleetColumn[] = [
  { key: 'vehicle_id', label: 'vehicle', kind: 'text' },
  { key: 'event_ts', label: 'event time (UTC)', kind: 'time' },
  { key: 'speed_kmh', label: 'speed km/h', kind: 'number', decimals: 1 },
  { key: 'speed_mean_5m', label: 'speed mean 5m', kind: 'number', decimals: 1 },
  { key: 'engine_temp_c', label: 'engine °C', kind: 'number', decimals: 1, temperature: true },
  { key: 'temp_mean_5m', label: 'temp mean 5m', kind: 'number', decimals: 1, temperature: true },
  { key: 'temp_max_1h', label: 'temp max 1h', kind: 'number', decimals: 1, temperature: true },
  { key: 'count_1h', label: 'readings 1h', kind: 'number', decimals: 0 },
  { key: 'distance_km_1h', label: 'km 1h', kind: 'number', decimals: 2 },
  { key: 'fuel_level_pct', label: 'fuel %', kind: 'number', decimals: 1 },
  { key: 'temp_anomaly', label: 'anomaly', kind: 'flag' },
  { key: 'risk_score', label: 'risk', kind: 'number', decimals: 3 },
];

export const EMPTY_CELL = '–';

export function formatNumber(value: number | null, decimals: number): string {
  return value === null ? EMPTY_CELL : value.toFixed(decimals);
}

/** The text of a row's cell in a column. */
export function formatCell(row: FeatureRow, column: FleetColumn): string {
  switch (column.kind) {
    case 'text':
      return row[column.key];
    case 'time':
      return row[column.key].slice(11, 19);
    case 'flag':
      return row[column.key] ? 'yes' : '';
    case 'number':
      return formatNumber(row[column.key], column.decimals);
  }
}

export type SortDirection = 'ascending' | 'descending';

/** Rows ordered by a column; empty cells last in either direction, ties by vehicle. */
export function sortRows(
  rows: readonly FeatureRow[],
  key: FleetColumn['key'],
  direction: SortDirection,
): FeatureRow[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || y === null) {
      if (x === y) return a.vehicle_id.localeCompare(b.vehicle_id);
      return x === null ? 1 : -1;
    }
    const order = x < y ? -1 : x > y ? 1 : 0;
    return order === 0 ? a.vehicle_id.localeCompare(b.vehicle_id) : sign * order;
  });
}
