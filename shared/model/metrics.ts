/**
 * Holdout metrics of a risk score against 0/1 labels: ranking (ROC AUC), decisions at a threshold
 * (precision, recall) and calibration (Brier score, reliability bins, expected calibration error).
 */

/**
 * ROC AUC: the probability that a random positive scores above a random negative, ties counting
 * one half (the Mann-Whitney U statistic over both class sizes). NaN when a class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based; ties share their mean rank
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface ThresholdMetrics {
  threshold: number;
  precision: number;
  recall: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/** Positive when score ≥ threshold. Precision of no positive calls is 0 (nothing right was called). */
export function precisionRecallAt(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): ThresholdMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const called = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (called) tp++;
      else fn++;
    } else if (called) fp++;
  }
  return {
    threshold,
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
  };
}

/** Mean squared error of the probabilities. */
export function brierScore(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += (scores[i]! - labels[i]!) ** 2;
  return scores.length === 0 ? Number.NaN : sum / scores.length;
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted risk in the bin (null when empty). */
  meanPredicted: number | null;
  /** Share of positives in the bin (null when empty). */
  observedRate: number | null;
}

/** Equal-width bins over [0, 1]: does a predicted 0.3 come true 30% of the time? */
export function reliabilityBins(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): ReliabilityBin[] {
  const count = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const observed = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(scores[i]! * bins)));
    count[b]!++;
    predicted[b]! += scores[i]!;
    observed[b]! += labels[i]!;
  }
  return count.map((c, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: c,
    meanPredicted: c === 0 ? null : predicted[b]! / c,
    observedRate: c === 0 ? null : observed[b]! / c,
  }));
}

/** Σ (count / n) · |mean predicted − observed rate| over the reliability bins. */
export function expectedCalibrationError(bins: readonly ReliabilityBin[]): number {
  const n = bins.reduce((sum, b) => sum + b.count, 0);
  if (n === 0) return Number.NaN;
  return bins.reduce(
    (sum, b) => (b.count === 0 ? sum : sum + (b.count / n) * Math.abs(b.meanPredicted! - b.observedRate!)),
    0,
  );
}

export interface HoldoutMetrics {
  auc: number;
  precision: number;
  recall: number;
  threshold: number;
  brier: number;
  ece: number;
  rows: number;
  positives: number;
  reliability: ReliabilityBin[];
}

export function evaluateScores(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): HoldoutMetrics {
  const at = precisionRecallAt(scores, labels, threshold);
  const reliability = reliabilityBins(scores, labels);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  return {
    auc: rocAuc(scores, labels),
    precision: at.precision,
    recall: at.recall,
    threshold,
    brier: brierScore(scores, labels),
    ece: expectedCalibrationError(reliability),
    rows: scores.length,
    positives,
    reliability,
  };
}
