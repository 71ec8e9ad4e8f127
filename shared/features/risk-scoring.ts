import type { ModelScoring } from '../ports/model-scoring.js';
import type { FeatureRow } from '../rows/feature-row.js';

/**
 * Fills risk_score on rows whose model_version is set (the champion when they were first applied),
 * with that very version, so a retried row is the same row. A version that no longer exists leaves
 * the row unscored (model_version and risk_score null).
 */
export async function scoreRows(rows: FeatureRow[], models: ModelScoring): Promise<void> {
  const versions = new Set<string>();
  for (const row of rows) if (row.model_version !== null) versions.add(row.model_version);
  if (versions.size === 0) return;
  const scorers = await models.scorers([...versions]);
  for (const row of rows) {
    if (row.model_version === null) continue;
    const scorer = scorers.get(row.model_version);
    if (scorer === undefined) {
      row.model_version = null;
      row.risk_score = null;
    } else {
      row.risk_score = Math.round(scorer(row) * 1e6) / 1e6;
    }
  }
}
