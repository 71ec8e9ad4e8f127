import type { FeatureTableRef, SqlQuery, SqlValue } from '../ports/warehouse.js';
import { featuresByIdentitySql } from './features-by-identity.js';
import { ModelError } from './model-error.js';
import { BOOLEAN_FEATURES, checkPointInTimeFeatures, type PredictionTask } from './prediction-task.js';

/** One labelled example: the feature row of a reading at t and whether (t, t + horizon] overheats. */
export interface Example {
  vehicleId: string;
  tMs: number;
  label: 0 | 1;
  /** Aligned with ExampleSet.columns; null where the row has no value. */
  values: (number | null)[];
}

export interface ExampleSet {
  columns: readonly string[];
  examples: Example[];
}

export interface DataInterval {
  startMs: number;
  endMs: number;
}

/**
 * The training-set query for a data interval [start, end), point in time by construction:
 *
 * - features are the row's own columns, named (never expressions), each checked against the
 *   point-in-time allow-list (checkPointInTimeFeatures): nothing computed after t can be selected;
 * - the label is the only thing that looks at other rows, and only forward: the vehicle's maximum
 *   engine_temp_c over (t, t + horizon] (a RANGE frame of 1 to horizon ms FOLLOWING) above the
 *   threshold;
 * - examples stop a horizon before the interval's end, so every label window lies inside the
 *   interval (complete, and checked by the same data-quality run);
 * - rows applied out of order (`late`) are left out: their windows may hold up to 10 s of readings
 *   after t (window-spec.ts);
 * - one row per identity (features-by-identity.ts);
 * - `stride` > 1 keeps every stride-th example of each vehicle in time order (a bounded, repeatable
 *   sample; labels are computed before sampling, over every reading).
 */
export function trainingSetQuery(options: {
  table: FeatureTableRef;
  interval: DataInterval;
  task: PredictionTask;
  features: readonly string[];
  stride?: number;
}): SqlQuery {
  const features = checkPointInTimeFeatures(options.features);
  const { task, interval } = options;
  const stride = options.stride ?? 1;
  if (!Number.isSafeInteger(stride) || stride < 1) {
    throw new ModelError('invalid_request', `stride must be a positive integer, got ${stride}`);
  }
  // A frame offset must be a constant in BigQuery: the horizon is a validated integer, not input text.
  if (!Number.isSafeInteger(task.horizonMs) || task.horizonMs <= 0) {
    throw new ModelError('invalid_task', `horizon must be a positive integer of ms, got ${task.horizonMs}`);
  }
  const selected = features.map((name) =>
    BOOLEAN_FEATURES.has(name) ? `IF(${name}, 1, 0) AS ${name}` : name,
  );
  const sql = `WITH readings AS (
  ${featuresByIdentitySql(options.table)}
),
labelled AS (
  SELECT
    vehicle_id,
    UNIX_MILLIS(event_ts) AS t_ms,
    late,
    ${selected.join(',\n    ')},
    IFNULL(MAX(engine_temp_c) OVER (
      PARTITION BY vehicle_id ORDER BY UNIX_MILLIS(event_ts)
      RANGE BETWEEN 1 FOLLOWING AND ${task.horizonMs} FOLLOWING
    ) > @threshold_c, FALSE) AS label
  FROM readings
),
eligible AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY vehicle_id ORDER BY t_ms) AS nth
  FROM labelled
  WHERE NOT late AND t_ms + ${task.horizonMs} < UNIX_MILLIS(@end)
)
SELECT * EXCEPT (late, nth) FROM eligible
WHERE MOD(nth - 1, @stride) = 0
ORDER BY t_ms, vehicle_id`;
  return {
    sql,
    params: {
      start: { type: 'TIMESTAMP', value: new Date(interval.startMs).toISOString() },
      end: { type: 'TIMESTAMP', value: new Date(interval.endMs).toISOString() },
      threshold_c: { type: 'FLOAT64', value: task.thresholdC },
      stride: { type: 'INT64', value: stride },
    },
  };
}

/** The query's result rows as examples (columns in the order asked for). */
export function toExampleSet(
  rows: readonly Record<string, SqlValue>[],
  features: readonly string[],
): ExampleSet {
  const examples = rows.map((row, i): Example => {
    const { vehicle_id: vehicleId, t_ms: tMs, label } = row;
    if (typeof vehicleId !== 'string' || typeof tMs !== 'number' || typeof label !== 'boolean') {
      throw new ModelError('invalid_request', `training row ${i} lacks vehicle_id, t_ms or label`);
    }
    return {
      vehicleId,
      tMs,
      label: label ? 1 : 0,
      values: features.map((name) => numericValue(row[name])),
    };
  });
  return { columns: [...features], examples };
}

/** A feature value as a number: BOOL as 1 / 0, anything missing or non-finite as null. */
export function numericValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}
