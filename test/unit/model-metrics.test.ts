// Holdout metrics against values computed by hand.
import { describe, expect, it } from 'vitest';
import {
  brierScore,
  evaluateScores,
  expectedCalibrationError,
  precisionRecallAt,
  reliabilityBins,
  rocAuc,
} from '../../shared/model/metrics.js';

const scores = [0.1, 0.4, 0.35, 0.8];
const labels = [0, 0, 1, 1];

describe('rocAuc', () => {
  it.each([
    // 4 positive-negative pairs; 0.35 loses to 0.4: 3 of 4 ordered right.
    { name: 'no ties', scores, labels, auc: 0.75 },
    // pairs (0.5|0.5) = ½, (0.5|0.2) = 1, (0.9|0.5) = 1, (0.9|0.2) = 1 → 3.5 / 4.
    {
      name: 'a tie across classes counts one half',
      scores: [0.5, 0.5, 0.2, 0.9],
      labels: [1, 0, 0, 1],
      auc: 0.875,
    },
    { name: 'perfect', scores: [0.1, 0.2, 0.8, 0.9], labels: [0, 0, 1, 1], auc: 1 },
    { name: 'inverted', scores: [0.9, 0.8, 0.2, 0.1], labels: [0, 0, 1, 1], auc: 0 },
    { name: 'all tied', scores: [0.3, 0.3, 0.3, 0.3], labels: [0, 1, 0, 1], auc: 0.5 },
  ])('$name', ({ scores: s, labels: l, auc }) => {
    expect(rocAuc(s, l)).toBeCloseTo(auc, 12);
  });

  it('is NaN when a class is missing', () => {
    expect(rocAuc([0.2, 0.4], [1, 1])).toBeNaN();
  });
});

describe('decisions and calibration', () => {
  it('precision and recall at a threshold (score >= threshold calls an overheat)', () => {
    // Called: 0.4 (negative), 0.8 (positive); missed: 0.35.
    expect(precisionRecallAt(scores, labels, 0.4)).toEqual({
      threshold: 0.4,
      precision: 0.5,
      recall: 0.5,
      truePositives: 1,
      falsePositives: 1,
      falseNegatives: 1,
    });
    expect(precisionRecallAt(scores, labels, 0.95)).toMatchObject({ precision: 0, recall: 0 });
  });

  it('Brier score: (0.01 + 0.16 + 0.4225 + 0.04) / 4', () => {
    expect(brierScore(scores, labels)).toBeCloseTo(0.158125, 12);
  });

  it('reliability bins and expected calibration error', () => {
    const bins = reliabilityBins(scores, labels);
    expect(bins).toHaveLength(10);
    expect(bins.map((b) => b.count)).toEqual([0, 1, 0, 1, 1, 0, 0, 0, 1, 0]);
    expect(bins[3]).toEqual({ lower: 0.3, upper: 0.4, count: 1, meanPredicted: 0.35, observedRate: 1 });
    expect(bins[0]).toMatchObject({ meanPredicted: null, observedRate: null });
    // (|0.1 - 0| + |0.4 - 0| + |0.35 - 1| + |0.8 - 1|) / 4
    expect(expectedCalibrationError(bins)).toBeCloseTo(0.3375, 12);
    // A score of exactly 1 belongs to the last bin.
    expect(reliabilityBins([1], [1]).at(-1)!.count).toBe(1);
  });

  it('evaluateScores gathers them', () => {
    expect(evaluateScores(scores, labels, 0.4)).toMatchObject({
      auc: 0.75,
      precision: 0.5,
      recall: 0.5,
      threshold: 0.4,
      rows: 4,
      positives: 2,
    });
  });
});
