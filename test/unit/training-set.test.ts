// The point-in-time guard of training sets, and the leakage test: a feature that peeks into the
// label window cannot get into a training set, whatever form it takes.
import { describe, expect, it } from 'vitest';
import { rewriteBigQuerySql } from '../../local/bigquery-standin/query-rewrite.js';
import { identityViewId } from '../../shared/adapters/bigquery-feature-sink.js';
import { identityViewOf } from '../../shared/model/features-by-identity.js';
import { ModelError } from '../../shared/model/model-error.js';
import {
  checkPointInTimeFeatures,
  DEFAULT_MODEL_FEATURES,
  NOT_FEATURES,
  overheatTask,
  POINT_IN_TIME_FEATURES,
} from '../../shared/model/prediction-task.js';
import { splitByTime } from '../../shared/model/time-split.js';
import { type Example, toExampleSet, trainingSetQuery } from '../../shared/model/training-set.js';
import { FEATURE_COLUMNS } from '../../shared/rows/feature-row.js';

const table = { projectId: 'fleet-features-test', dataset: 'fleet_features', table: 'features' };
const HOUR = 3_600_000;
const interval = { startMs: Date.UTC(2026, 4, 4), endMs: Date.UTC(2026, 4, 4) + 6 * HOUR };
const task = overheatTask({ thresholdC: 105, horizonMs: 15 * 60_000 });
const build = (features: string[]) => trainingSetQuery({ table, interval, task, features });

describe('point-in-time features', () => {
  it('classifies every column of the features table: a feature, or not one and why', () => {
    for (const column of FEATURE_COLUMNS) {
      const allowed = POINT_IN_TIME_FEATURES.includes(column.name);
      const excluded = NOT_FEATURES[column.name] !== undefined;
      expect(allowed !== excluded, column.name).toBe(true);
    }
    expect(POINT_IN_TIME_FEATURES.every((name) => FEATURE_COLUMNS.some((c) => c.name === name))).toBe(true);
    expect(checkPointInTimeFeatures(DEFAULT_MODEL_FEATURES)).toHaveLength(DEFAULT_MODEL_FEATURES.length);
  });

  // Each of these would put information from after t (or about the outcome) into the features.
  it.each([
    ['a column computed over the label window', 'temp_max_next_15m'],
    [
      'a forward-looking window expression',
      'MAX(engine_temp_c) OVER (PARTITION BY vehicle_id ORDER BY event_ts ROWS BETWEEN 1 FOLLOWING AND 90 FOLLOWING)',
    ],
    ['a lead of the temperature', 'LEAD(engine_temp_c, 30) OVER (PARTITION BY vehicle_id ORDER BY event_ts)'],
    [
      'a scalar subquery over later rows',
      '(SELECT MAX(engine_temp_c) FROM features f2 WHERE f2.event_ts > event_ts)',
    ],
    ['the arrival time', 'processed_ts'],
    ['the late flag (late rows may hold readings after t)', 'late'],
    ['a model’s score', 'risk_score'],
    ['an identity', 'vehicle_id'],
    ['an allowed name with SQL appended', 'engine_temp_c, LEAD(engine_temp_c) OVER (ORDER BY event_ts) AS x'],
    ['a differently cased name', 'Engine_Temp_C'],
  ])('refuses %s', (_, feature) => {
    expect(() => build([feature])).toThrow(ModelError);
    expect(() => build([feature])).toThrow(/cannot be a feature/);
    expect(() => build(['engine_temp_c', feature])).toThrow(/cannot be a feature/);
  });

  it('refuses no features and duplicates', () => {
    expect(() => build([])).toThrow(/no features/);
    expect(() => build(['rpm', 'rpm'])).toThrow(/duplicate/);
  });
});

describe('training-set query', () => {
  const { sql, params } = build(['engine_temp_c', 'temp_max_1h', 'temp_anomaly']);

  it('looks at other rows only for the label, and only forward: (t, t + horizon]', () => {
    const windows = overClauses(sql);
    expect(windows).toEqual([
      'PARTITION BY vehicle_id ORDER BY UNIX_MILLIS(event_ts) RANGE BETWEEN 1 FOLLOWING AND 900000 FOLLOWING', // the label
      'PARTITION BY vehicle_id ORDER BY t_ms', // sampling
    ]);
    expect(sql).not.toMatch(/PRECEDING|CURRENT ROW|\bLEAD\b|\bLAG\b|JOIN/i);
    expect(sql).toMatch(
      /MAX\(engine_temp_c\) OVER \(\s*PARTITION BY vehicle_id ORDER BY UNIX_MILLIS\(event_ts\)\s*RANGE BETWEEN 1 FOLLOWING AND 900000 FOLLOWING\s*\) > @threshold_c/,
    );
  });

  it('drops late rows and rows whose label window passes the interval’s end; binds every value', () => {
    expect(sql).toContain('WHERE NOT late AND t_ms + 900000 < UNIX_MILLIS(@end)');
    expect(sql).toContain('IF(temp_anomaly, 1, 0) AS temp_anomaly');
    // One row per identity: read through the feature sink's identity view.
    expect(sql).toContain('FROM `fleet-features-test.fleet_features.features_by_identity`');
    expect(identityViewOf('features')).toBe(identityViewId('features'));
    expect(params).toEqual({
      start: { type: 'TIMESTAMP', value: '2026-05-04T00:00:00.000Z' },
      end: { type: 'TIMESTAMP', value: '2026-05-04T06:00:00.000Z' },
      threshold_c: { type: 'FLOAT64', value: 105 },
      stride: { type: 'INT64', value: 1 },
    });
  });

  it('is in the SQL subset the BigQuery stand-in runs', () => {
    const features = [...POINT_IN_TIME_FEATURES];
    expect(() =>
      rewriteBigQuerySql(trainingSetQuery({ table, interval, task, features, stride: 3 }).sql, {
        projectIds: [table.projectId],
      }),
    ).not.toThrow();
  });

  it('refuses a table path or stride that is not what it should be', () => {
    expect(() =>
      trainingSetQuery({ table: { ...table, dataset: 'x`; DROP' }, interval, task, features: ['rpm'] }),
    ).toThrow(/not a table path/);
    expect(() => trainingSetQuery({ table, interval, task, features: ['rpm'], stride: 0 })).toThrow(/stride/);
  });

  it('reads result rows as examples: BOOL as 1/0, missing as null', () => {
    const set = toExampleSet(
      [{ vehicle_id: 'v1', t_ms: 1000, label: true, rpm: null, temp_anomaly: false, engine_temp_c: 101.5 }],
      ['engine_temp_c', 'rpm', 'temp_anomaly'],
    );
    expect(set.examples).toEqual([{ vehicleId: 'v1', tMs: 1000, label: 1, values: [101.5, null, 0] }]);
    expect(() => toExampleSet([{ vehicle_id: 'v1', t_ms: 1000 }], [])).toThrow(/label/);
  });
});

/** The body of every OVER (…) clause, whitespace collapsed. */
function overClauses(sql: string): string[] {
  const bodies: string[] = [];
  for (let at = sql.indexOf('OVER ('); at >= 0; at = sql.indexOf('OVER (', at + 1)) {
    let depth = 0;
    let end = at + 5;
    do {
      if (sql[end] === '(') depth++;
      else if (sql[end] === ')') depth--;
      end++;
    } while (depth > 0);
    bodies.push(
      sql
        .slice(at + 6, end - 1)
        .replaceAll(/\s+/g, ' ')
        .trim(),
    );
  }
  return bodies;
}

describe('time split', () => {
  const examples: Example[] = Array.from({ length: 7 * 60 }, (_, m) => ({
    vehicleId: 'v',
    tMs: interval.startMs + m * 60_000,
    label: 0,
    values: [],
  }));

  it('holds out the last part of the labelled span and purges a horizon before it', () => {
    // Labelled span: 6 h - 15 min = 345 min; cutoff at 80% = 276 min; training ends 15 min earlier.
    const split = splitByTime(examples, { interval, horizonMs: 15 * 60_000, holdoutFraction: 0.2 });
    expect(split.cutoffMs).toBe(interval.startMs + 276 * 60_000);
    expect(split.trainEndMs).toBe(interval.startMs + 261 * 60_000);
    expect(split.train).toHaveLength(261);
    expect(split.holdout[0]!.tMs).toBe(split.cutoffMs);
    expect(Math.max(...split.train.map((e) => e.tMs)) + 15 * 60_000).toBeLessThan(split.cutoffMs);
    expect(split.train.length + split.holdout.length).toBe(examples.length - 15);
  });

  it('refuses a holdout fraction outside (0, 1)', () => {
    expect(() => splitByTime(examples, { interval, horizonMs: 1, holdoutFraction: 1 })).toThrow(RangeError);
  });
});
