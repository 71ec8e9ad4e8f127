// Real-time scoring's cost per row: a champion with every default feature (the artifact the trainer
// writes), compiled once, scoring generated feature rows as the feature function does (scoreRows).
import { performance } from 'node:perf_hooks';
import { scoreRows } from '../shared/features/risk-scoring.js';
import { compileScorer, MODEL_FORMAT, parseModelArtifact } from '../shared/model/model-artifact.js';
import { DEFAULT_MODEL_FEATURES } from '../shared/model/prediction-task.js';
import type { ModelScoring } from '../shared/ports/model-scoring.js';
import type { FeatureRow } from '../shared/rows/feature-row.js';
import { featureRowFixtures } from '../test/helpers/feature-row-fixtures.js';

export interface ScoringCostResult {
  rows: number;
  features: number;
  usPerRow: number;
}

const VERSION = 'v20260301T000000Z-0000bech';

export async function runScoringCost(rows = 200_000): Promise<ScoringCostResult> {
  const n = DEFAULT_MODEL_FEATURES.length;
  const at = new Date(0).toISOString();
  const model = parseModelArtifact({
    format: MODEL_FORMAT,
    version: VERSION.replace('bech', 'beef'),
    created_at: at,
    task: { name: 'overheat', threshold_c: 105, horizon_s: 900 },
    features: [...DEFAULT_MODEL_FEATURES],
    standardization: { mean: Array(n).fill(1), scale: Array(n).fill(2) },
    intercept: -1,
    weights: Array.from({ length: n }, (_, j) => ((j % 7) - 3) / 10),
    decision_threshold: 0.5,
    training: {
      run_id: 'bench',
      data_interval_start: at,
      data_interval_end: at,
      train_end: at,
      holdout_start: at,
      rows_train: 0,
      rows_holdout: 0,
      stride: 1,
    },
  });
  const scorer = compileScorer(model);
  const models: ModelScoring = {
    currentVersion: () => model.version,
    scorers: async () => new Map([[model.version, scorer]]),
  };
  const sample = featureRowFixtures('scoring', 1000);
  const batch = (): FeatureRow[] => sample.map((row) => ({ ...row, model_version: model.version }));
  for (let i = 0; i < 20; i++) await scoreRows(batch(), models); // warm-up
  const batches = Array.from({ length: Math.ceil(rows / sample.length) }, batch);
  const started = performance.now();
  for (const rowsOfBatch of batches) await scoreRows(rowsOfBatch, models);
  const elapsedMs = performance.now() - started;
  const scored = batches.length * sample.length;
  return { rows: scored, features: n, usPerRow: (elapsedMs * 1000) / scored };
}
