import { mean, standardDeviation } from 'simple-statistics';

/**
 * Per-feature standardization z = (x - mean) / scale, fitted on the training rows and kept in the
 * artifact so scoring applies exactly the same transform. A missing value (null) becomes z = 0, the
 * training mean: the model neither gains nor loses risk from a sensor a device does not have.
 */
export interface Standardization {
  mean: number[];
  /** Population standard deviation; 1 for a constant or empty column (z is then 0 or x - mean). */
  scale: number[];
}

const MIN_SCALE = 1e-9;

export function fitStandardization(
  rows: readonly (readonly (number | null)[])[],
  width: number,
): Standardization {
  const means: number[] = [];
  const scales: number[] = [];
  for (let j = 0; j < width; j++) {
    const present: number[] = [];
    for (const row of rows) {
      const value = row[j];
      if (value !== null && value !== undefined && Number.isFinite(value)) present.push(value);
    }
    if (present.length === 0) {
      means.push(0);
      scales.push(1);
      continue;
    }
    const m = mean(present);
    const s = present.length > 1 ? standardDeviation(present) : 0;
    means.push(m);
    scales.push(s > MIN_SCALE ? s : 1);
  }
  return { mean: means, scale: scales };
}

/** z-scores of one row (nulls and non-finite values → 0). */
export function standardize(row: readonly (number | null)[], standardization: Standardization): Float64Array {
  const { mean: means, scale } = standardization;
  const z = new Float64Array(means.length);
  for (let j = 0; j < means.length; j++) {
    const value = row[j];
    z[j] =
      value === null || value === undefined || !Number.isFinite(value) ? 0 : (value - means[j]!) / scale[j]!;
  }
  return z;
}

/** The inverse, for a present value (tests: the round trip). */
export function destandardize(z: ArrayLike<number>, standardization: Standardization): number[] {
  return Array.from(
    { length: standardization.mean.length },
    (_, j) => z[j]! * standardization.scale[j]! + standardization.mean[j]!,
  );
}
