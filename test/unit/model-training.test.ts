// The trainer's parts: standardization, logistic regression (against closed forms and its own
// optimality conditions), the promotion gate, and a whole training run on synthetic examples.
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../local/simulator/seeded-random.js';
import { fitLogisticRegression, sigmoid } from '../../shared/model/logistic-regression.js';
import { rocAuc } from '../../shared/model/metrics.js';
import type { ModelError } from '../../shared/model/model-error.js';
import { isModelVersion, modelVersionFor } from '../../shared/model/model-version.js';
import { overheatTask } from '../../shared/model/prediction-task.js';
import { decidePromotion } from '../../shared/model/promotion-gate.js';
import { destandardize, fitStandardization, standardize } from '../../shared/model/standardizer.js';
import { scoreSnapshot, trainOverheatModel } from '../../shared/model/trainer.js';
import type { Example } from '../../shared/model/training-set.js';

const logit = (p: number) => Math.log(p / (1 - p));

describe('standardization', () => {
  it('round-trips present values and maps missing ones to the mean (z = 0)', () => {
    const rows = [
      [1, 10, null],
      [2, 10, 4],
      [3, 10, 8],
    ];
    const s = fitStandardization(rows, 3);
    expect(s.mean).toEqual([2, 10, 6]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(2 / 3), 12); // population standard deviation
    expect(s.scale[1]).toBe(1); // constant column
    expect(s.scale[2]).toBe(2);
    const z = standardize([3, 10, null], s);
    expect(Array.from(z)).toEqual([expect.closeTo(1.224744871, 8), 0, 0]);
    expect(destandardize(standardize([2.5, 11, 7], s), s)).toEqual([
      expect.closeTo(2.5, 12),
      expect.closeTo(11, 12),
      expect.closeTo(7, 12),
    ]);
    expect(fitStandardization([[null], [null]], 1)).toEqual({ mean: [0], scale: [1] });
  });
});

describe('logistic regression', () => {
  it('matches the closed form for one binary feature (λ = 0): log-odds of each group', () => {
    // x = 0: 2 of 10 positive; x = 1: 7 of 10 positive.
    const x = [...Array(10).fill([0]), ...Array(10).fill([1])];
    const y = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
    const fit = fitLogisticRegression(x, y, { l2: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.intercept).toBeCloseTo(logit(0.2), 8);
    expect(fit.weights[0]).toBeCloseTo(logit(0.7) - logit(0.2), 8);
  });

  it('stops where the penalized gradient vanishes, and recovers generating coefficients', () => {
    const rng = createSeededRandom(7);
    const truth = { intercept: -2, weights: [1.5, -0.8, 0] };
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const row = [rng.normal(), rng.normal(), rng.normal()];
      const p = sigmoid(truth.intercept + row.reduce((s, v, j) => s + v * truth.weights[j]!, 0));
      x.push(row);
      y.push(rng.chance(p) ? 1 : 0);
    }
    const lambda = 5;
    const fit = fitLogisticRegression(x, y, { l2: lambda });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(15);
    const gradient = [0, 0, 0, 0];
    x.forEach((row, i) => {
      const r = y[i]! - sigmoid(fit.intercept + row.reduce((s, v, j) => s + v * fit.weights[j]!, 0));
      gradient[0]! += r;
      row.forEach((v, j) => {
        gradient[j + 1]! += r * v;
      });
    });
    fit.weights.forEach((w, j) => {
      gradient[j + 1]! -= lambda * w;
    });
    for (const g of gradient) expect(Math.abs(g)).toBeLessThan(1e-6);
    expect(fit.intercept).toBeCloseTo(truth.intercept, 1);
    fit.weights.forEach((w, j) => {
      expect(w).toBeCloseTo(truth.weights[j]!, 1);
    });
  });

  it('stays finite on separable data (the penalty bounds the weights)', () => {
    const fit = fitLogisticRegression([[-2], [-1], [1], [2]], [0, 0, 1, 1], { l2: 1 });
    expect(Number.isFinite(fit.weights[0]!)).toBe(true);
    expect(fit.weights[0]).toBeGreaterThan(0);
  });

  it('refuses labels that are not 0/1 and empty input', () => {
    expect(() => fitLogisticRegression([[1]], [2])).toThrow(/not 0 or 1/);
    expect(() => fitLogisticRegression([], [])).toThrow(RangeError);
  });
});

describe('promotion gate', () => {
  it.each([
    [{ auc: 0.8 }, null, true, ['challenger AUC 0.8000 >= floor 0.7500', 'no champion yet']],
    [{ auc: 0.7 }, null, false, ['challenger AUC 0.7000 below floor 0.7500', 'no champion yet']],
    [
      { auc: 0.82 },
      { auc: 0.82 },
      true,
      [
        'challenger AUC 0.8200 >= floor 0.7500',
        'challenger AUC 0.8200 >= champion vB AUC 0.8200 on the same holdout',
      ],
    ],
    [
      { auc: 0.8 },
      { auc: 0.85 },
      false,
      [
        'challenger AUC 0.8000 >= floor 0.7500',
        'challenger AUC 0.8000 worse than champion vB AUC 0.8500 on the same holdout',
      ],
    ],
    [{ auc: Number.NaN }, null, false, ['challenger AUC NaN below floor 0.7500', 'no champion yet']],
  ])('challenger %o, champion %o → promote %s', (challenger, champion, promote, reasons) => {
    expect(
      decidePromotion({
        challenger: { version: 'vA', ...challenger },
        champion: champion === null ? null : { version: 'vB', ...champion },
        aucFloor: 0.75,
      }),
    ).toEqual({ promote, reasons });
  });

  it('does not promote the champion over itself', () => {
    expect(
      decidePromotion({
        challenger: { version: 'vA', auc: 0.9 },
        champion: { version: 'vA', auc: 0.9 },
        aucFloor: 0.75,
      }).promote,
    ).toBe(false);
  });
});

describe('model versions', () => {
  it('derive from the run and the interval: sortable by interval end, stable for a retry', () => {
    const interval = { startMs: Date.UTC(2026, 4, 4), endMs: Date.UTC(2026, 4, 5) };
    const version = modelVersionFor('run-1', interval);
    expect(version).toMatch(/^v20260505T000000Z-[0-9a-f]{8}$/);
    expect(isModelVersion(version)).toBe(true);
    expect(modelVersionFor('run-1', interval)).toBe(version);
    expect(modelVersionFor('run-2', interval)).not.toBe(version);
    expect(isModelVersion('champion.json')).toBe(false);
  });
});

/**
 * Synthetic examples of 60 vehicles over 6 hours, one a minute: a fifth of the engines are prone to
 * overheat (their last hour's maximum shows it), and an episode is likelier while revving hard. The
 * current temperature alone says little: the risk is in the history and the load.
 */
function syntheticExamples(seed: number): { columns: string[]; examples: Example[] } {
  const rng = createSeededRandom(seed);
  const start = Date.UTC(2026, 4, 4);
  const examples: Example[] = [];
  for (let v = 0; v < 60; v++) {
    const prone = rng.chance(0.2);
    for (let m = 0; m < 360; m++) {
      const rpm = rng.chance(0.15) ? null : rng.range(800, 4500);
      const temp = rng.normal(prone ? 93 : 90, 2.5);
      const tempMax1h = prone ? rng.normal(108, 3) : rng.normal(95, 3);
      const risk = sigmoid(-3.2 + (prone ? 2.2 : 0) + ((rpm ?? 2600) - 2600) / 900);
      examples.push({
        vehicleId: `v${v}`,
        tMs: start + m * 60_000,
        label: rng.chance(risk) ? 1 : 0,
        values: [temp, tempMax1h, rpm, temp > 105 ? 1 : 0],
      });
    }
  }
  examples.sort((a, b) => a.tMs - b.tMs);
  return { columns: ['engine_temp_c', 'temp_max_1h', 'rpm', 'temp_anomaly'], examples };
}

describe('a training run on synthetic examples', () => {
  const interval = { startMs: Date.UTC(2026, 4, 4), endMs: Date.UTC(2026, 4, 4, 6) };
  const options = {
    features: ['engine_temp_c', 'temp_max_1h', 'rpm', 'temp_anomaly'],
    task: overheatTask(),
    interval,
    holdoutFraction: 0.25,
    decisionThreshold: 0.5,
    version: 'v20260504T060000Z-00000001',
    runId: 'unit',
    stride: 1,
    createdAt: new Date(Date.UTC(2026, 4, 4, 7)),
  };

  it('beats the current-temperature baseline on the same holdout, and lays out every artifact', () => {
    const trained = trainOverheatModel({ ...options, examples: syntheticExamples(3) });
    const { metrics, artifact, baseline, holdout } = trained;
    console.log(
      `[model unit] synthetic: model AUC ${metrics.holdout.auc.toFixed(4)} vs baseline AUC ${metrics.baseline.auc.toFixed(4)}`,
    );
    expect(metrics.holdout.auc).toBeGreaterThan(0.75);
    expect(metrics.holdout.auc).toBeGreaterThan(metrics.baseline.auc + 0.15);
    expect(metrics.holdout.brier).toBeLessThan(0.2);
    expect(artifact.features).toEqual(options.features);
    // Labelled span 6 h - 15 min = 345 min; 75% of it is 258.75 min; training stops 15 min before.
    expect(artifact.training).toMatchObject({
      holdout_start: '2026-05-04T04:18:45.000Z',
      train_end: '2026-05-04T04:03:45.000Z',
    });
    expect(metrics.train.rows).toBe(artifact.training.rows_train);
    expect(holdout.t_ms.every((t) => t >= Date.parse(artifact.training.holdout_start))).toBe(true);
    expect(rocAuc(scoreSnapshot(artifact, holdout), holdout.label)).toBeCloseTo(metrics.holdout.auc, 12);
    // The two features the outcome depends on move the model most: they are the key drift features.
    expect(baseline.key_features.slice(0, 2).sort()).toEqual(['rpm', 'temp_max_1h']);
    expect(baseline.histograms.temp_anomaly!.edges.length).toBeLessThanOrEqual(1);
    expect(baseline.histograms.rpm!.nulls).toBeGreaterThan(0);
    expect(baseline.histograms.temp_max_1h!.counts.reduce((s, c) => s + c, 0)).toBe(metrics.train.rows);
  });

  it('refuses to train on one class or too few examples', () => {
    const allNegative = syntheticExamples(4);
    for (const e of allNegative.examples) e.label = 0;
    const error = (() => {
      try {
        trainOverheatModel({ ...options, examples: allNegative });
      } catch (e) {
        return e as ModelError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('insufficient_data');
    expect(() =>
      trainOverheatModel({
        ...options,
        examples: { ...allNegative, examples: allNegative.examples.slice(0, 10) },
      }),
    ).toThrow(/need at least 50/);
  });
});
