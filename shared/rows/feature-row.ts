import type { TelemetryReading } from '../telemetry/telemetry-reading.js';
import type {
  MetricStats,
  ReadingValues,
  WindowAggregate,
  WindowSnapshot,
} from '../windows/window-snapshot.js';
import { WINDOWS, type WindowSpec } from '../windows/window-spec.js';

/** Engine temperature above which a reading is an anomaly (DESIGN.md, feature row contract). */
export const TEMP_ANOMALY_C = 105;

type WindowName = WindowSpec['name'];
type WindowColumns = {
  [K in `count_${WindowName}` | `distance_km_${WindowName}`]: number;
} & {
  [K in `${'speed' | 'temp'}_${'mean' | 'min' | 'max' | 'std'}_${WindowName}`]: number | null;
};

/**
 * One feature row per applied reading: what BigQuery's `features` table and the GCS
 * `features/` objects hold, and what the online API serves. Timestamps are ISO 8601 UTC.
 */
export type FeatureRow = {
  event_id: string;
  vehicle_id: string;
  event_ts: string;
  processed_ts: string;
  speed_kmh: number;
  engine_temp_c: number;
  gps_lat: number;
  gps_lon: number;
  fuel_level_pct: number | null;
  rpm: number | null;
  temp_anomaly: boolean;
  /** Applied after a reading with a later event time (out of order, within the allowed lateness). */
  late: boolean;
  model_version: string | null;
  risk_score: number | null;
} & WindowColumns;

export type FeatureRowReading = Pick<TelemetryReading, 'event_id' | 'vehicle_id'> & ReadingValues;

// Snapshot statistics are float32; 4 decimals is well inside their precision and reads cleanly.
const round4 = (value: number) => Math.round(value * 1e4) / 1e4;

/** Column names per window, built once: a row is assembled per reading, on the hot path. */
const WINDOW_COLUMN_NAMES = WINDOWS.map((spec) => {
  const w = spec.name;
  return {
    window: w,
    count: `count_${w}`,
    speed: [`speed_mean_${w}`, `speed_min_${w}`, `speed_max_${w}`, `speed_std_${w}`],
    temp: [`temp_mean_${w}`, `temp_min_${w}`, `temp_max_${w}`, `temp_std_${w}`],
    distance: `distance_km_${w}`,
  } as const;
});

function putMetric(
  row: Record<string, unknown>,
  names: readonly string[],
  stats: MetricStats,
  empty: boolean,
): void {
  row[names[0]!] = empty ? null : round4(stats.mean);
  row[names[1]!] = empty ? null : round4(stats.min);
  row[names[2]!] = empty ? null : round4(stats.max);
  row[names[3]!] = empty ? null : round4(stats.std);
}

/**
 * Assemble a row from a reading and the window snapshot the store returned for it (pure).
 * Columns in schema order: the reading, per window count, speed and temp mean/min/max/std (null
 * for an empty window), distance, then the flags and the model's columns.
 */
export function buildFeatureRow(reading: FeatureRowReading, snapshot: WindowSnapshot): FeatureRow {
  const row: Record<string, unknown> = {
    event_id: reading.event_id,
    vehicle_id: reading.vehicle_id,
    event_ts: new Date(reading.event_ts_ms).toISOString(),
    processed_ts: new Date(snapshot.processedTsMs).toISOString(),
    speed_kmh: reading.speed_kmh,
    engine_temp_c: reading.engine_temp_c,
    gps_lat: reading.gps_lat,
    gps_lon: reading.gps_lon,
    fuel_level_pct: reading.fuel_level_pct,
    rpm: reading.rpm,
  };
  for (let i = 0; i < WINDOW_COLUMN_NAMES.length; i++) {
    const names = WINDOW_COLUMN_NAMES[i]!;
    const aggregate: WindowAggregate | undefined = snapshot.windows[i];
    if (aggregate === undefined) throw new Error(`snapshot has no aggregate for window ${names.window}`);
    const empty = aggregate.count === 0;
    row[names.count] = aggregate.count;
    putMetric(row, names.speed, aggregate.speed, empty);
    putMetric(row, names.temp, aggregate.temp, empty);
    row[names.distance] = round4(aggregate.distanceKm);
  }
  row.temp_anomaly = reading.engine_temp_c > TEMP_ANOMALY_C;
  row.late = snapshot.status === 'out_of_order';
  row.model_version = null;
  row.risk_score = null;
  return row as FeatureRow;
}

export interface FeatureColumn {
  name: string;
  type: 'STRING' | 'TIMESTAMP' | 'FLOAT64' | 'INT64' | 'BOOL';
  mode: 'REQUIRED' | 'NULLABLE';
  description: string;
}

/** The row's schema, in BigQuery terms: the features table is created from it. */
export const FEATURE_COLUMNS: readonly FeatureColumn[] = [
  { name: 'event_id', type: 'STRING', mode: 'REQUIRED', description: 'reading identity (insertId)' },
  { name: 'vehicle_id', type: 'STRING', mode: 'REQUIRED', description: 'vehicle' },
  { name: 'event_ts', type: 'TIMESTAMP', mode: 'REQUIRED', description: 'event time (partitioning)' },
  { name: 'processed_ts', type: 'TIMESTAMP', mode: 'REQUIRED', description: 'first processing time' },
  { name: 'speed_kmh', type: 'FLOAT64', mode: 'REQUIRED', description: 'reading' },
  { name: 'engine_temp_c', type: 'FLOAT64', mode: 'REQUIRED', description: 'reading' },
  { name: 'gps_lat', type: 'FLOAT64', mode: 'REQUIRED', description: 'reading' },
  { name: 'gps_lon', type: 'FLOAT64', mode: 'REQUIRED', description: 'reading' },
  { name: 'fuel_level_pct', type: 'FLOAT64', mode: 'NULLABLE', description: 'reading' },
  { name: 'rpm', type: 'FLOAT64', mode: 'NULLABLE', description: 'reading' },
  ...WINDOWS.flatMap((w): FeatureColumn[] => [
    { name: `count_${w.name}`, type: 'INT64', mode: 'REQUIRED', description: `readings in ${w.name}` },
    ...(['speed', 'temp'] as const).flatMap((metric) =>
      (['mean', 'min', 'max', 'std'] as const).map(
        (stat): FeatureColumn => ({
          name: `${metric}_${stat}_${w.name}`,
          type: 'FLOAT64',
          mode: 'NULLABLE',
          description: `${stat} of ${metric} over ${w.name} (population std)`,
        }),
      ),
    ),
    {
      name: `distance_km_${w.name}`,
      type: 'FLOAT64',
      mode: 'REQUIRED',
      description: `GPS distance in ${w.name} (haversine between consecutive in-order readings)`,
    },
  ]),
  { name: 'temp_anomaly', type: 'BOOL', mode: 'REQUIRED', description: `engine_temp_c > ${TEMP_ANOMALY_C}` },
  { name: 'late', type: 'BOOL', mode: 'REQUIRED', description: 'applied out of event-time order' },
  { name: 'model_version', type: 'STRING', mode: 'NULLABLE', description: 'model that scored the row' },
  { name: 'risk_score', type: 'FLOAT64', mode: 'NULLABLE', description: 'model risk score' },
];
