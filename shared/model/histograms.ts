import { quantileSorted } from 'simple-statistics';

/**
 * A feature's distribution as bin counts, the drift baseline kept with each model. With edges
 * e0 < e1 < … < e(k-1) there are k + 1 bins: (-∞, e0), [e0, e1), …, [e(k-1), +∞), plus a count of
 * missing values (a sensor going silent is drift too). The warehouse computes the same bins for a
 * recent window (drift-query.ts) with the same comparisons.
 */
export interface FeatureHistogram {
  edges: number[];
  /** edges.length + 1 counts. */
  counts: number[];
  nulls: number;
}

/**
 * Edges from the training values: deciles by default, or, for a column with few distinct values
 * (counts, flags), the midpoints between them so each value has its own bin.
 */
export function binEdges(values: readonly (number | null)[], bins = 10): number[] {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (present.length === 0) return [];
  const distinct: number[] = [];
  for (const v of present) if (distinct.at(-1) !== v) distinct.push(v);
  if (distinct.length <= bins) {
    return distinct.slice(1).map((v, i) => (distinct[i]! + v) / 2);
  }
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const edge = quantileSorted(present, q / bins);
    // An edge at the minimum would leave the first bin empty by construction.
    if (edge > present[0]! && edge !== edges.at(-1)) edges.push(edge);
  }
  return edges;
}

/** Index of the bin holding `value`: the number of edges at or below it. */
export function binIndex(value: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function histogram(values: readonly (number | null)[], edges: readonly number[]): FeatureHistogram {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let nulls = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) nulls++;
    else counts[binIndex(v, edges)]!++;
  }
  return { edges: [...edges], counts, nulls };
}

/** Smallest share a bin is given in PSI, so an empty bin on one side counts as rare, not as infinite. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index between an expected (baseline) and an actual histogram over the same
 * bins, missing values as one more bin: Σ (a − e) · ln(a / e) over bin shares, each share floored at
 * PSI_EPSILON. Rule of thumb: < 0.1 stable, 0.1–0.2 some shift, > 0.2 a shift worth acting on.
 */
export function populationStabilityIndex(
  expected: Pick<FeatureHistogram, 'counts' | 'nulls'>,
  actual: Pick<FeatureHistogram, 'counts' | 'nulls'>,
): number {
  if (expected.counts.length !== actual.counts.length) {
    throw new RangeError(`bins differ: ${expected.counts.length} vs ${actual.counts.length}`);
  }
  const e = [...expected.counts, expected.nulls];
  const a = [...actual.counts, actual.nulls];
  const totalE = e.reduce((s, c) => s + c, 0);
  const totalA = a.reduce((s, c) => s + c, 0);
  if (totalE === 0 || totalA === 0) return Number.NaN;
  let psi = 0;
  for (let i = 0; i < e.length; i++) {
    const pe = Math.max(e[i]! / totalE, PSI_EPSILON);
    const pa = Math.max(a[i]! / totalA, PSI_EPSILON);
    psi += (pa - pe) * Math.log(pa / pe);
  }
  return psi;
}
