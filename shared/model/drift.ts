import type { FeatureTableRef, SqlParam, SqlQuery, SqlValue } from '../ports/warehouse.js';
import { featuresByIdentitySql } from './features-by-identity.js';
import { type FeatureHistogram, populationStabilityIndex } from './histograms.js';
import { ModelError } from './model-error.js';
import { BOOLEAN_FEATURES, checkPointInTimeFeatures } from './prediction-task.js';
import type { DataInterval } from './training-set.js';

/**
 * One query, one result row: the window's row count and, per feature, the count in each baseline
 * bin and of missing values, with the bins of histograms.ts (x < e0; e(i-1) <= x < e(i); x >= e(k-1)).
 * Edges are parameters; column names are checked against the point-in-time allow-list.
 */
export function driftHistogramQuery(options: {
  table: FeatureTableRef;
  window: DataInterval;
  baseline: Readonly<Record<string, FeatureHistogram>>;
}): SqlQuery {
  const features = checkPointInTimeFeatures(Object.keys(options.baseline));
  const params: Record<string, SqlParam> = {
    start: { type: 'TIMESTAMP', value: new Date(options.window.startMs).toISOString() },
    end: { type: 'TIMESTAMP', value: new Date(options.window.endMs).toISOString() },
  };
  const columns: string[] = ['COUNT(*) AS row_count'];
  features.forEach((name, f) => {
    const x = BOOLEAN_FEATURES.has(name) ? `IF(${name}, 1, 0)` : name;
    const edges = options.baseline[name]!.edges;
    edges.forEach((edge, i) => {
      if (!Number.isFinite(edge))
        throw new ModelError('invalid_artifact', `edge ${i} of ${name} is not finite`);
      params[`e${f}_${i}`] = { type: 'FLOAT64', value: edge };
    });
    for (let b = 0; b <= edges.length; b++) {
      const conditions: string[] = [];
      if (b > 0) conditions.push(`${x} >= @e${f}_${b - 1}`);
      if (b < edges.length) conditions.push(`${x} < @e${f}_${b}`);
      columns.push(
        `COUNTIF(${conditions.length === 0 ? `${x} IS NOT NULL` : conditions.join(' AND ')}) AS f${f}_b${b}`,
      );
    }
    columns.push(`COUNTIF(${x} IS NULL) AS f${f}_null`);
  });
  const sql = `WITH readings AS (
  ${featuresByIdentitySql(options.table)}
)
SELECT
  ${columns.join(',\n  ')}
FROM readings`;
  return { sql, params };
}

/** The query's single row as histograms over the baseline's bins. */
export function toWindowHistograms(
  row: Readonly<Record<string, SqlValue>>,
  baseline: Readonly<Record<string, FeatureHistogram>>,
): { rows: number; histograms: Record<string, FeatureHistogram> } {
  const count = (column: string): number => {
    const value = row[column];
    if (typeof value !== 'number')
      throw new ModelError('invalid_request', `drift query returned no ${column}`);
    return value;
  };
  const histograms: Record<string, FeatureHistogram> = {};
  Object.entries(baseline).forEach(([name, h], f) => {
    histograms[name] = {
      edges: [...h.edges],
      counts: h.counts.map((_, b) => count(`f${f}_b${b}`)),
      nulls: count(`f${f}_null`),
    };
  });
  return { rows: count('row_count'), histograms };
}

export interface DriftReport {
  psi: Record<string, number>;
  /** The largest PSI over the key features. */
  maxPsi: number;
  threshold: number;
  drifted: boolean;
  /** Key features over the threshold. */
  driftedFeatures: string[];
}

/** PSI of every feature; drifted when a key feature's PSI exceeds the threshold. */
export function driftReport(options: {
  baseline: Readonly<Record<string, FeatureHistogram>>;
  window: Readonly<Record<string, FeatureHistogram>>;
  keyFeatures: readonly string[];
  threshold: number;
}): DriftReport {
  const psi: Record<string, number> = {};
  for (const [name, expected] of Object.entries(options.baseline)) {
    const actual = options.window[name];
    if (actual === undefined) throw new ModelError('invalid_request', `no window histogram for ${name}`);
    psi[name] = round6(populationStabilityIndex(expected, actual));
  }
  const keyed = options.keyFeatures.map((name) => [name, psi[name] ?? Number.NaN] as const);
  const driftedFeatures = keyed.filter(([, value]) => value > options.threshold).map(([name]) => name);
  const maxPsi = keyed.reduce((max, [, value]) => (Number.isFinite(value) && value > max ? value : max), 0);
  return { psi, maxPsi, threshold: options.threshold, drifted: driftedFeatures.length > 0, driftedFeatures };
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
