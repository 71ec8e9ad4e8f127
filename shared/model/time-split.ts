import type { DataInterval, Example } from './training-set.js';

export interface TimeSplit {
  train: Example[];
  holdout: Example[];
  /** Holdout examples are those at or after this instant. */
  cutoffMs: number;
  /** Training examples are those before this instant (cutoff - horizon). */
  trainEndMs: number;
}

/**
 * Time-based split: the last `holdoutFraction` of the interval's labelled span (start to end -
 * horizon, where examples exist) is the holdout. Training examples stop a horizon before the
 * cutoff (a purge): a label looks forward by the horizon, so a training label from the last
 * horizon before the cutoff would be decided by readings of the holdout period.
 */
export function splitByTime(
  examples: readonly Example[],
  options: { interval: DataInterval; horizonMs: number; holdoutFraction: number },
): TimeSplit {
  const { interval, horizonMs, holdoutFraction } = options;
  if (!(holdoutFraction > 0 && holdoutFraction < 1))
    throw new RangeError('holdoutFraction must be in (0, 1)');
  const labelledEndMs = interval.endMs - horizonMs;
  const cutoffMs = Math.round(interval.startMs + (1 - holdoutFraction) * (labelledEndMs - interval.startMs));
  const trainEndMs = cutoffMs - horizonMs;
  const train: Example[] = [];
  const holdout: Example[] = [];
  for (const example of examples) {
    if (example.tMs >= cutoffMs) holdout.push(example);
    else if (example.tMs < trainEndMs) train.push(example);
  }
  return { train, holdout, cutoffMs, trainEndMs };
}
