// The model artifact and scoreRow: the documented formula by hand, what a valid artifact is.
import { describe, expect, it } from 'vitest';
import {
  compileScorer,
  MODEL_FORMAT,
  type ModelArtifact,
  parseModelArtifact,
  scoreRow,
} from '../../shared/model/model-artifact.js';

const model: ModelArtifact = parseModelArtifact({
  format: MODEL_FORMAT,
  version: 'v20260504T060000Z-0000abcd',
  created_at: '2026-05-04T07:00:00.000Z',
  task: { name: 'overheat', threshold_c: 105, horizon_s: 900 },
  features: ['engine_temp_c', 'rpm', 'temp_anomaly'],
  standardization: { mean: [90, 2000, 0], scale: [5, 1000, 1] },
  intercept: -1,
  weights: [1, 0.5, 2],
  decision_threshold: 0.5,
  training: {
    run_id: 'r',
    data_interval_start: '2026-05-04T00:00:00.000Z',
    data_interval_end: '2026-05-04T06:00:00.000Z',
    train_end: '2026-05-04T04:03:45.000Z',
    holdout_start: '2026-05-04T04:18:45.000Z',
    rows_train: 100,
    rows_holdout: 30,
    stride: 1,
  },
});

describe('scoreRow', () => {
  it.each([
    // z = [2, 0 (missing), 0]: η = -1 + 2 = 1
    [
      'a missing sensor counts as the training mean',
      { engine_temp_c: 100, rpm: null, temp_anomaly: false },
      1 / (1 + Math.exp(-1)),
    ],
    // z = [-1, 1, 1]: η = -1 - 1 + 0.5 + 2 = 0.5
    ['a BOOL is 1 / 0', { engine_temp_c: 85, rpm: 3000, temp_anomaly: true }, 1 / (1 + Math.exp(-0.5))],
    // absent column and a non-number are missing too: η = -1
    ['absent and non-numeric values are missing', { engine_temp_c: 90, rpm: '3000' }, 1 / (1 + Math.exp(1))],
    ['far past the scale saturates without NaN', { engine_temp_c: -5000, rpm: 0, temp_anomaly: false }, 0],
  ])('%s', (_, row, risk) => {
    expect(scoreRow(model, row)).toBeCloseTo(risk, 12);
    expect(compileScorer(model)(row)).toBe(scoreRow(model, row));
  });

  it('scores a whole feature row (extra columns ignored) inside [0, 1]', () => {
    const row = {
      event_id: 'e',
      vehicle_id: 'v',
      engine_temp_c: 120,
      rpm: 9000,
      temp_anomaly: true,
      risk_score: null,
    };
    const risk = scoreRow(model, row);
    expect(risk).toBeGreaterThan(0.99);
    expect(risk).toBeLessThanOrEqual(1);
  });
});

describe('parseModelArtifact', () => {
  const valid = JSON.parse(JSON.stringify(model)) as Record<string, unknown>;

  it('round-trips through JSON', () => {
    expect(parseModelArtifact(JSON.parse(JSON.stringify(model)))).toEqual(model);
  });

  it.each([
    ['another format', { format: 'sklearn' }, /format/],
    ['a weight per feature missing', { weights: [1, 0.5] }, /one entry per feature/],
    ['a zero scale', { standardization: { mean: [90, 2000, 0], scale: [5, 0, 1] } }, /standardization.scale/],
    ['a NaN that JSON turned into null', { intercept: null }, /intercept/],
    [
      'a feature that is not point in time',
      { features: ['engine_temp_c', 'rpm', 'processed_ts'] },
      /cannot be a feature/,
    ],
    ['a version that is not one', { version: '../champion' }, /version/],
  ])('refuses %s', (_, change, message) => {
    expect(() => parseModelArtifact({ ...valid, ...change })).toThrow(message);
  });
});
