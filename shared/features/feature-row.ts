import type { TelemetryReading } from '../telemetry/telemetry-reading.js';
import type { MetricStats, WindowAggregate, WindowSnapshot } from '../windows/window-snapshot.js';
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

export type FeatureRowReading = Pick<
  TelemetryReading,
  | 'event_id'
  | 'vehicle_id'
  | 'event_ts_ms'
  | 'speed_kmh'
  | 'engine_temp_c'
  | 'gps_lat'
  | 'gps_lon'
  | 'fuel_level_pct'
  | 'rpm'
>;

// Snapshot statistics are float32; 4 decimals is well inside their precision and reads cleanly.
const round4 = (value: number) => Math.round(value * 1e4) / 1e4;

function metricColumns(
  metric: 'speed' | 'temp',
  window: WindowName,
  stats: MetricStats,
  count: number,
): Record<string, number | null> {
  const value = (v: number) => (count === 0 ? null : round4(v));
  return {
    [`${metric}_mean_${window}`]: value(stats.mean),
    [`${metric}_min_${window}`]: value(stats.min),
    [`${metric}_max_${window}`]: value(stats.max),
    [`${metric}_std_${window}`]: value(stats.std),
  };
}

function windowColumns(spec: WindowSpec, aggregate: WindowAggregate): Record<string, number | null> {
  return {
    [`count_${spec.name}`]: aggregate.count,
    ...metricColumns('speed', spec.name, aggregate.speed, aggregate.count),
    ...metricColumns('temp', spec.name, aggregate.temp, aggregate.count),
    [`distance_km_${spec.name}`]: round4(aggregate.distanceKm),
  };
}

/** Assemble a row from a reading and the window snapshot the store returned for it (pure). */
export function buildFeatureRow(reading: FeatureRowReading, snapshot: WindowSnapshot): FeatureRow {
  const windows: Record<string, number | null> = {};
  WINDOWS.forEach((spec, i) => {
    const aggregate = snapshot.windows[i];
    if (aggregate === undefined) throw new Error(`snapshot has no aggregate for window ${spec.name}`);
    Object.assign(windows, windowColumns(spec, aggregate));
  });
  return {
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
    ...(windows as WindowColumns),
    temp_anomaly: reading.engine_temp_c > TEMP_ANOMALY_C,
    late: snapshot.status === 'out_of_order',
    model_version: null,
    risk_score: null,
  };
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
