import { z } from 'zod';
import { sigmoid } from './logistic-regression.js';
import { ModelError } from './model-error.js';
import { checkPointInTimeFeatures } from './prediction-task.js';

/**
 * The model artifact, `models/{version}/model.json`: everything scoring needs, nothing else, in
 * plain JSON so any runtime can score with it. The risk of a feature row is
 *
 *   z_j  = (row[features[j]] − standardization.mean[j]) / standardization.scale[j]
 *          (0 when the value is null, missing or not finite; a BOOL is 1 / 0)
 *   risk = 1 / (1 + exp(−(intercept + Σ_j weights[j] · z_j)))
 *
 * the probability that the vehicle's engine goes above task.threshold_c within task.horizon_s after
 * the row's reading. `decision_threshold` is where the holdout precision and recall were measured.
 * The file is immutable once written; see shared/model/README.md for the whole registry layout.
 */
export const MODEL_FORMAT = 'fleet-features/logistic-regression@1';

const finite = z.number().refine(Number.isFinite, { message: 'must be finite' });
const iso = z.iso.datetime({ offset: true });

export const ModelArtifactSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    version: z.string().regex(/^v\d{8}T\d{6}Z-[0-9a-f]{8}$/),
    created_at: iso,
    task: z.object({
      name: z.literal('overheat'),
      threshold_c: finite,
      horizon_s: z.number().int().positive(),
    }),
    features: z.array(z.string()).min(1),
    standardization: z.object({ mean: z.array(finite), scale: z.array(finite.refine((s) => s > 0)) }),
    intercept: finite,
    weights: z.array(finite),
    decision_threshold: z.number().gt(0).lt(1),
    training: z.object({
      run_id: z.string(),
      data_interval_start: iso,
      data_interval_end: iso,
      /** Training examples are before train_end; holdout examples from holdout_start on. */
      train_end: iso,
      holdout_start: iso,
      rows_train: z.number().int().nonnegative(),
      rows_holdout: z.number().int().nonnegative(),
      /** Every stride-th example of each vehicle was used (1: all). */
      stride: z.number().int().positive(),
    }),
  })
  .refine(
    (m) =>
      m.weights.length === m.features.length &&
      m.standardization.mean.length === m.features.length &&
      m.standardization.scale.length === m.features.length,
    { message: 'weights and standardization must have one entry per feature' },
  );

export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;

/** Validates a parsed model.json (shape, lengths, finite numbers, point-in-time features). */
export function parseModelArtifact(document: unknown): ModelArtifact {
  const parsed = ModelArtifactSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new ModelError('invalid_artifact', `not a ${MODEL_FORMAT} artifact: ${problems}`);
  }
  checkPointInTimeFeatures(parsed.data.features);
  return parsed.data;
}

/** A feature row or anything with the model's columns (FeatureRow, an online vector, a query row). */
export type ScorableRow = Readonly<Record<string, unknown>>;

export type Scorer = (row: ScorableRow) => number;

/** A scorer with the model's arrays laid out once: for the hot path, one per loaded model. */
export function compileScorer(model: ModelArtifact): Scorer {
  const features = [...model.features];
  const offset = Float64Array.from(model.standardization.mean);
  const factor = Float64Array.from(model.weights.map((w, j) => w / model.standardization.scale[j]!));
  const { intercept } = model;
  const n = features.length;
  return (row) => {
    let eta = intercept;
    for (let j = 0; j < n; j++) {
      const value = row[features[j]!];
      const x = typeof value === 'number' ? value : typeof value === 'boolean' ? (value ? 1 : 0) : Number.NaN;
      if (Number.isFinite(x)) eta += factor[j]! * (x - offset[j]!);
    }
    return sigmoid(eta);
  };
}

const scorers = new WeakMap<ModelArtifact, Scorer>();

/** Risk in [0, 1] of one row under the model (pure; compiles the model once per artifact object). */
export function scoreRow(model: ModelArtifact, row: ScorableRow): number {
  let scorer = scorers.get(model);
  if (scorer === undefined) {
    scorer = compileScorer(model);
    scorers.set(model, scorer);
  }
  return scorer(row);
}
