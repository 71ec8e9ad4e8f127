import { FEATURE_COLUMNS, TEMP_ANOMALY_C } from '../rows/feature-row.js';
import { WINDOWS } from '../windows/window-spec.js';
import { ModelError } from './model-error.js';

/**
 * The prediction task: will this vehicle's engine overheat (a reading with engine_temp_c above the
 * threshold) within the horizon after the reading at t, given that reading's feature row? The label
 * of the row at t looks only at the vehicle's readings in (t, t + horizon]; its features are the
 * row's own point-in-time columns.
 */
export interface PredictionTask {
  readonly name: 'overheat';
  readonly thresholdC: number;
  readonly horizonMs: number;
}

export function overheatTask(options: { thresholdC?: number; horizonMs?: number } = {}): PredictionTask {
  const task = {
    name: 'overheat' as const,
    thresholdC: options.thresholdC ?? TEMP_ANOMALY_C,
    horizonMs: options.horizonMs ?? 15 * 60_000,
  };
  if (!Number.isFinite(task.thresholdC)) throw new ModelError('invalid_task', 'threshold must be finite');
  if (!Number.isSafeInteger(task.horizonMs) || task.horizonMs <= 0) {
    throw new ModelError('invalid_task', `horizon must be a positive integer of ms, got ${task.horizonMs}`);
  }
  return task;
}

/**
 * Columns of a feature row that are known at its event time t: the reading's own values and its
 * rolling windows (t - length, t] (in-order rows: nothing after t; see window-spec.ts for the
 * out-of-order near edge, why training sets drop `late` rows). Only these may be model features.
 */
export const POINT_IN_TIME_FEATURES: readonly string[] = [
  'speed_kmh',
  'engine_temp_c',
  'gps_lat',
  'gps_lon',
  'fuel_level_pct',
  'rpm',
  ...WINDOWS.flatMap((w) => [
    `count_${w.name}`,
    ...['speed', 'temp'].flatMap((metric) =>
      ['mean', 'min', 'max', 'std'].map((s) => `${metric}_${s}_${w.name}`),
    ),
    `distance_km_${w.name}`,
  ]),
  'temp_anomaly',
];

/** Every other column of the features table, and why it is not a feature. */
export const NOT_FEATURES: Readonly<Record<string, string>> = {
  event_id: 'identity attribute, not a measurement',
  vehicle_id: 'identity: a per-vehicle feature would memorise vehicles',
  event_ts: 'the instant t itself',
  processed_ts: 'arrival time, after t',
  late: 'arrival order; a late row may hold readings up to 10 s after t',
  model_version: "a model's output",
  risk_score: "a model's output (feedback loop)",
};

/** Columns stored as BOOL; features read them as 1 / 0. */
export const BOOLEAN_FEATURES: ReadonlySet<string> = new Set(
  FEATURE_COLUMNS.filter((c) => c.type === 'BOOL').map((c) => c.name),
);

/**
 * What the model uses by default: the point-in-time columns without position (where a vehicle is
 * says nothing about its engine and would tie the model to today's routes).
 */
export const DEFAULT_MODEL_FEATURES: readonly string[] = POINT_IN_TIME_FEATURES.filter(
  (name) => name !== 'gps_lat' && name !== 'gps_lon',
);

const POINT_IN_TIME = new Set(POINT_IN_TIME_FEATURES);

/**
 * The features, checked: each must be a point-in-time column, named exactly (no expressions), once.
 * This is the guard that keeps the future out of a training set: anything else is refused.
 */
export function checkPointInTimeFeatures(features: readonly string[]): string[] {
  if (features.length === 0) throw new ModelError('feature_not_point_in_time', 'no features');
  const seen = new Set<string>();
  for (const feature of features) {
    if (!POINT_IN_TIME.has(feature)) {
      const why = NOT_FEATURES[feature] ?? 'not a point-in-time column of the features table';
      throw new ModelError(
        'feature_not_point_in_time',
        `${JSON.stringify(feature.slice(0, 200))} cannot be a feature: ${why}`,
        { feature },
      );
    }
    if (seen.has(feature)) throw new ModelError('feature_not_point_in_time', `duplicate feature ${feature}`);
    seen.add(feature);
  }
  return [...features];
}
