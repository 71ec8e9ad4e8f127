// Drift baselines (bins, histograms) and the population stability index, by hand.
import { describe, expect, it } from 'vitest';
import { rewriteBigQuerySql } from '../../local/bigquery-standin/query-rewrite.js';
import { driftHistogramQuery, driftReport, toWindowHistograms } from '../../shared/model/drift.js';
import { binEdges, binIndex, histogram, populationStabilityIndex } from '../../shared/model/histograms.js';

describe('bins', () => {
  it('bin i holds [e(i-1), e(i)); the first and last bins are open', () => {
    const edges = [10, 20, 30];
    expect([-5, 9.99, 10, 19.99, 20, 30, 1e9].map((v) => binIndex(v, edges))).toEqual([0, 0, 1, 1, 2, 3, 3]);
    expect(binIndex(42, [])).toBe(0);
  });

  it('deciles for a continuous column, midpoints for one with few values', () => {
    const continuous = Array.from({ length: 1000 }, (_, i) => i);
    const edges = binEdges(continuous);
    expect(edges).toHaveLength(9);
    expect(histogram(continuous, edges).counts).toEqual(new Array(10).fill(100));
    expect(binEdges([0, 0, 0, 1, 0, 1, null])).toEqual([0.5]);
    expect(binEdges([3, 3, 3])).toEqual([]);
    expect(binEdges([null, null])).toEqual([]);
  });

  it('counts missing values apart', () => {
    expect(histogram([1, null, 5, Number.NaN, 9], [4, 8])).toEqual({
      edges: [4, 8],
      counts: [1, 1, 1],
      nulls: 2,
    });
  });
});

describe('population stability index', () => {
  it('is 0 for the same shares and matches the hand computation for a shift', () => {
    expect(populationStabilityIndex({ counts: [50, 50], nulls: 0 }, { counts: [5, 5], nulls: 0 })).toBe(0);
    // (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    const expected = -0.25 * Math.log(0.5) + 0.25 * Math.log(1.5);
    expect(
      populationStabilityIndex({ counts: [50, 50], nulls: 0 }, { counts: [25, 75], nulls: 0 }),
    ).toBeCloseTo(expected, 12);
  });

  it('treats an empty bin as rare (1e-4), not as infinite, and counts missing values as a bin', () => {
    const psi = populationStabilityIndex({ counts: [100, 0], nulls: 0 }, { counts: [50, 0], nulls: 50 });
    const expected = (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(psi).toBeCloseTo(expected, 12);
  });

  it('refuses histograms over different bins', () => {
    expect(() => populationStabilityIndex({ counts: [1, 2], nulls: 0 }, { counts: [1], nulls: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('drift report', () => {
  const baseline = {
    engine_temp_c: { edges: [90, 100], counts: [40, 40, 20], nulls: 0 },
    rpm: { edges: [2000], counts: [50, 50], nulls: 0 },
  };

  it('is drifted when a key feature is over the threshold, not when only another feature is', () => {
    const window = {
      engine_temp_c: { edges: [90, 100], counts: [40, 40, 20], nulls: 0 },
      rpm: { edges: [2000], counts: [5, 95], nulls: 0 },
    };
    const onlyRpm = driftReport({ baseline, window, keyFeatures: ['engine_temp_c'], threshold: 0.2 });
    expect(onlyRpm.psi.rpm).toBeGreaterThan(0.2);
    expect(onlyRpm).toMatchObject({ drifted: false, maxPsi: 0, driftedFeatures: [] });
    const keyed = driftReport({ baseline, window, keyFeatures: ['engine_temp_c', 'rpm'], threshold: 0.2 });
    expect(keyed).toMatchObject({ drifted: true, driftedFeatures: ['rpm'], maxPsi: keyed.psi.rpm });
  });

  it('asks the warehouse for the same bins, with edges as parameters, in SQL the stand-in accepts', () => {
    const query = driftHistogramQuery({
      table: { projectId: 'fleet-features-test', dataset: 'd', table: 'features' },
      window: { startMs: 0, endMs: 3_600_000 },
      baseline: { ...baseline, temp_anomaly: { edges: [0.5], counts: [9, 1], nulls: 0 } },
    });
    expect(query.sql).toContain('COUNTIF(engine_temp_c < @e0_0) AS f0_b0');
    expect(query.sql).toContain('COUNTIF(engine_temp_c >= @e0_0 AND engine_temp_c < @e0_1) AS f0_b1');
    expect(query.sql).toContain('COUNTIF(engine_temp_c >= @e0_1) AS f0_b2');
    expect(query.sql).toContain('COUNTIF(IF(temp_anomaly, 1, 0) >= @e2_0) AS f2_b1');
    expect(query.params.e0_1).toEqual({ type: 'FLOAT64', value: 100 });
    expect(() => rewriteBigQuerySql(query.sql, { projectIds: ['fleet-features-test'] })).not.toThrow();
    const row = {
      row_count: 10,
      f0_b0: 1,
      f0_b1: 2,
      f0_b2: 3,
      f0_null: 4,
      f1_b0: 5,
      f1_b1: 5,
      f1_null: 0,
      f2_b0: 10,
      f2_b1: 0,
      f2_null: 0,
    };
    expect(
      toWindowHistograms(row, { ...baseline, temp_anomaly: { edges: [0.5], counts: [9, 1], nulls: 0 } })
        .histograms.engine_temp_c,
    ).toEqual({
      edges: [90, 100],
      counts: [1, 2, 3],
      nulls: 4,
    });
  });

  it('refuses a baseline naming a column that is not a point-in-time feature', () => {
    expect(() =>
      driftHistogramQuery({
        table: { projectId: 'fleet-features-test', dataset: 'd', table: 'features' },
        window: { startMs: 0, endMs: 1 },
        baseline: { 'risk_score) OR (1=1': { edges: [], counts: [1], nulls: 0 } },
      }),
    ).toThrow(/cannot be a feature/);
  });
});
