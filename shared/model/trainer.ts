import { binEdges, type FeatureHistogram, histogram } from './histograms.js';
import { fitLogisticRegression } from './logistic-regression.js';
import { evaluateScores, type HoldoutMetrics, rocAuc } from './metrics.js';
import { compileScorer, MODEL_FORMAT, type ModelArtifact, parseModelArtifact } from './model-artifact.js';
import { ModelError } from './model-error.js';
import { checkPointInTimeFeatures, type PredictionTask } from './prediction-task.js';
import { fitStandardization, standardize } from './standardizer.js';
import { splitByTime } from './time-split.js';
import type { DataInterval, Example, ExampleSet } from './training-set.js';

/** The one-feature baseline the model must beat: the current engine temperature as the risk. */
export const BASELINE_FEATURE = 'engine_temp_c';
/** Drift is judged on the features that move the model most (largest |weight| on z-scores). */
export const KEY_FEATURE_COUNT = 8;
export const MIN_TRAIN_EXAMPLES = 50;
export const MIN_HOLDOUT_EXAMPLES = 20;

/** `models/{version}/metrics.json`. */
export interface ModelMetrics {
  version: string;
  holdout: HoldoutMetrics;
  baseline: { feature: string; auc: number };
  train: { rows: number; positives: number; iterations: number; converged: boolean; loss: number };
}

/** `models/{version}/baseline.json`: the training distribution, the reference for drift. */
export interface DriftBaseline {
  version: string;
  rows: number;
  key_features: string[];
  histograms: Record<string, FeatureHistogram>;
}

/**
 * `models/{version}/holdout.json.gz`: the holdout examples, columnar, with every point-in-time
 * column, so a later gate scores any champion on exactly the rows this challenger was judged on.
 */
export interface HoldoutSnapshot {
  version: string;
  columns: string[];
  t_ms: number[];
  label: (0 | 1)[];
  values: Record<string, (number | null)[]>;
}

export interface TrainedModel {
  artifact: ModelArtifact;
  metrics: ModelMetrics;
  baseline: DriftBaseline;
  holdout: HoldoutSnapshot;
}

export interface TrainOptions {
  /** Examples with at least every model feature and the baseline feature among their columns. */
  examples: ExampleSet;
  features: readonly string[];
  task: PredictionTask;
  interval: DataInterval;
  holdoutFraction: number;
  decisionThreshold: number;
  version: string;
  runId: string;
  stride: number;
  createdAt: Date;
  l2?: number;
}

/** Split, standardize, fit, evaluate against the baseline, and lay out the artifacts (pure). */
export function trainOverheatModel(options: TrainOptions): TrainedModel {
  const features = checkPointInTimeFeatures(options.features);
  const { examples, task, interval } = options;
  const columnIndex = new Map(examples.columns.map((c, i) => [c, i]));
  const missing = [...features, BASELINE_FEATURE].filter((f) => !columnIndex.has(f));
  if (missing.length > 0)
    throw new ModelError('invalid_request', `examples lack columns ${missing.join(', ')}`);

  const split = splitByTime(examples.examples, {
    interval,
    horizonMs: task.horizonMs,
    holdoutFraction: options.holdoutFraction,
  });
  checkEnough('train', split.train, MIN_TRAIN_EXAMPLES);
  checkEnough('holdout', split.holdout, MIN_HOLDOUT_EXAMPLES);

  const featureIdx = features.map((f) => columnIndex.get(f)!);
  const pick = (e: Example) => featureIdx.map((i) => e.values[i] ?? null);
  const trainRows = split.train.map(pick);
  const standardization = fitStandardization(trainRows, features.length);
  const fit = fitLogisticRegression(
    trainRows.map((row) => standardize(row, standardization)),
    split.train.map((e) => e.label),
    options.l2 === undefined ? {} : { l2: options.l2 },
  );

  const artifact = parseModelArtifact({
    format: MODEL_FORMAT,
    version: options.version,
    created_at: options.createdAt.toISOString(),
    task: { name: task.name, threshold_c: task.thresholdC, horizon_s: task.horizonMs / 1000 },
    features,
    standardization,
    intercept: fit.intercept,
    weights: fit.weights,
    decision_threshold: options.decisionThreshold,
    training: {
      run_id: options.runId,
      data_interval_start: new Date(interval.startMs).toISOString(),
      data_interval_end: new Date(interval.endMs).toISOString(),
      train_end: new Date(split.trainEndMs).toISOString(),
      holdout_start: new Date(split.cutoffMs).toISOString(),
      rows_train: split.train.length,
      rows_holdout: split.holdout.length,
      stride: options.stride,
    },
  } satisfies ModelArtifact);

  const holdout = holdoutSnapshot(options.version, examples.columns, split.holdout);
  const labels = holdout.label;
  const scores = scoreSnapshot(artifact, holdout);
  const baselineScores = holdout.values[BASELINE_FEATURE]!.map((v) => v ?? Number.NEGATIVE_INFINITY);
  const metrics: ModelMetrics = {
    version: options.version,
    holdout: evaluateScores(scores, labels, options.decisionThreshold),
    baseline: { feature: BASELINE_FEATURE, auc: rocAuc(baselineScores, labels) },
    train: {
      rows: split.train.length,
      positives: split.train.reduce((s, e) => s + e.label, 0),
      iterations: fit.iterations,
      converged: fit.converged,
      loss: fit.loss,
    },
  };

  const histograms: Record<string, FeatureHistogram> = {};
  features.forEach((name, j) => {
    const values = trainRows.map((row) => row[j] ?? null);
    histograms[name] = histogram(values, binEdges(values));
  });
  const keyFeatures = features
    .map((name, j) => ({ name, weight: Math.abs(fit.weights[j]!) }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, KEY_FEATURE_COUNT)
    .map((f) => f.name);

  return {
    artifact,
    metrics,
    baseline: { version: options.version, rows: trainRows.length, key_features: keyFeatures, histograms },
    holdout,
  };
}

function checkEnough(part: string, examples: readonly Example[], minimum: number): void {
  const positives = examples.reduce((s, e) => s + e.label, 0);
  if (examples.length < minimum || positives === 0 || positives === examples.length) {
    throw new ModelError(
      'insufficient_data',
      `${part} has ${examples.length} example(s), ${positives} positive: need at least ${minimum} with both outcomes`,
      { part, examples: examples.length, positives },
    );
  }
}

export function holdoutSnapshot(
  version: string,
  columns: readonly string[],
  holdout: readonly Example[],
): HoldoutSnapshot {
  const values: Record<string, (number | null)[]> = {};
  columns.forEach((name, i) => {
    values[name] = holdout.map((e) => e.values[i] ?? null);
  });
  return {
    version,
    columns: [...columns],
    t_ms: holdout.map((e) => e.tMs),
    label: holdout.map((e) => e.label),
    values,
  };
}

/** Scores every holdout row with a model (any model whose features the snapshot holds). */
export function scoreSnapshot(model: ModelArtifact, snapshot: HoldoutSnapshot): number[] {
  const missing = model.features.filter((f) => snapshot.values[f] === undefined);
  if (missing.length > 0) {
    throw new ModelError(
      'invalid_artifact',
      `holdout of ${snapshot.version} lacks ${missing.join(', ')} for ${model.version}`,
    );
  }
  const scorer = compileScorer(model);
  const row: Record<string, number | null> = {};
  return snapshot.t_ms.map((_, i) => {
    for (const f of model.features) row[f] = snapshot.values[f]![i]!;
    return scorer(row);
  });
}
