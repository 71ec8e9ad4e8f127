// Data-quality expectations: the repository's file, what a file may say, and how a profile is judged.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rewriteBigQuerySql } from '../../local/bigquery-standin/query-rewrite.js';
import {
  evaluateExpectations,
  parseExpectations,
  qualityProfileQuery,
} from '../../shared/model/data-quality.js';
import { ModelError } from '../../shared/model/model-error.js';

const HOUR = 3_600_000;
const interval = { startMs: 0, endMs: 2 * HOUR };
const expectations = parseExpectations(`
volume: { min_rows_per_hour: 100, max_rows_per_hour: 10000 }
duplicates: { max_share: 0.01 }
null_rates: { speed_mean_1m: 0.05, rpm: 0.5 }
ranges:
  engine_temp_c: { min: -50, max: 200 }
  speed_mean_1m: { min: 0, max: 400, max_outside_share: 0.001 }
`);
// Profiled columns in sorted order: engine_temp_c (0), rpm (1), speed_mean_1m (2).
const healthy = {
  stored_rows: 1000,
  identities: 1000,
  row_count: 1000,
  null_0: 0,
  outside_0: 0,
  null_1: 200,
  null_2: 10,
  outside_2: 0,
};

describe('expectations file', () => {
  it('the repository’s workflows/expectations.yaml is valid', () => {
    const parsed = parseExpectations(readFileSync('workflows/expectations.yaml', 'utf8'));
    expect(parsed.volume.min_rows_per_hour).toBeGreaterThan(0);
    expect(parsed.null_rates.speed_mean_1m).toBeDefined();
  });

  it.each([
    [
      'an unknown column',
      'volume: {min_rows_per_hour: 1}\nduplicates: {max_share: 0}\nnull_rates: {speed: 0.1}',
      /null_rates.speed: not a column/,
    ],
    [
      'a range on a text column',
      'volume: {min_rows_per_hour: 1}\nduplicates: {max_share: 0}\nranges: {vehicle_id: {min: 0, max: 1}}',
      /numeric columns only/,
    ],
    ['a share above 1', 'volume: {min_rows_per_hour: 1}\nduplicates: {max_share: 2}', /duplicates.max_share/],
    [
      'min above max',
      'volume: {min_rows_per_hour: 1}\nduplicates: {max_share: 0}\nranges: {rpm: {min: 5, max: 1}}',
      /min must not exceed max/,
    ],
    [
      'an unknown key',
      'volume: {min_rows_per_hour: 1}\nduplicates: {max_share: 0}\nfreshness: {}',
      /Unrecognized key/,
    ],
    ['no volume', 'duplicates: {max_share: 0}', /volume/],
    ['not YAML', 'volume: [', /not YAML/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseExpectations(text)).toThrow(message);
    expect(() => parseExpectations(text)).toThrow(ModelError);
  });
});

describe('profile query', () => {
  it('binds ranges as parameters and runs in the stand-in’s SQL subset', () => {
    const query = qualityProfileQuery({
      table: { projectId: 'fleet-features-test', dataset: 'd', table: 'features' },
      interval,
      expectations,
    });
    expect(query.sql).toContain('COUNTIF(speed_mean_1m < @min_2 OR speed_mean_1m > @max_2) AS outside_2');
    expect(query.params.max_2).toEqual({ type: 'FLOAT64', value: 400 });
    expect(query.params.start).toEqual({ type: 'TIMESTAMP', value: '1970-01-01T00:00:00.000Z' });
    expect(() => rewriteBigQuerySql(query.sql, { projectIds: ['fleet-features-test'] })).not.toThrow();
  });
});

describe('evaluateExpectations', () => {
  it('passes a healthy profile and says how many expectations it checked', () => {
    expect(evaluateExpectations(expectations, healthy, interval)).toEqual({
      passed: true,
      rows: 1000,
      storedRows: 1000,
      failures: [],
      checked: 7,
    });
  });

  it.each([
    [
      'too few rows',
      { row_count: 150, identities: 150, stored_rows: 150, null_1: 0, null_2: 0 },
      { expectation: 'volume.min_rows_per_hour', observed: 75, expected: '>= 100' },
    ],
    [
      'too many rows',
      { row_count: 30000, identities: 30000, stored_rows: 30000, null_1: 0, null_2: 0 },
      { expectation: 'volume.max_rows_per_hour', observed: 15000, expected: '<= 10000' },
    ],
    [
      'copies',
      { stored_rows: 1100 },
      { expectation: 'duplicates.max_share', observed: 0.090909, expected: '<= 0.01' },
    ],
    [
      'a third of the speed windows missing',
      { null_2: 333 },
      { expectation: 'null_rate.speed_mean_1m', observed: 0.333, expected: '<= 0.05' },
    ],
    [
      'temperatures out of range',
      { outside_0: 1 },
      { expectation: 'range.engine_temp_c', observed: 0.001, expected: '<= 0 outside [-50, 200]' },
    ],
    // 2 of 990 present values outside: over the 0.001 allowance.
    [
      'speeds out of range beyond the allowance',
      { outside_2: 2 },
      { expectation: 'range.speed_mean_1m', observed: 0.00202, expected: '<= 0.001 outside [0, 400]' },
    ],
  ])('reports %s', (_, change, failure) => {
    const report = evaluateExpectations(expectations, { ...healthy, ...change }, interval);
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual([failure]);
  });

  it('judges only the volume of an empty interval', () => {
    const empty = {
      stored_rows: 0,
      identities: 0,
      row_count: 0,
      null_0: 0,
      outside_0: 0,
      null_1: 0,
      null_2: 0,
      outside_2: 0,
    };
    expect(evaluateExpectations(expectations, empty, interval).failures).toEqual([
      { expectation: 'volume.min_rows_per_hour', observed: 0, expected: '>= 100' },
    ]);
  });
});
