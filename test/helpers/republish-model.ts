// Publishes a copy of a registry version's files under another version, its model changed by
// `change` (identity: an equally good challenger; negated weights: a degraded one). The holdout
// stays the same rows, so a gate compares like with like; metrics are recomputed on them.

import { rocAuc } from '../../shared/model/metrics.js';
import type { ModelArtifact } from '../../shared/model/model-artifact.js';
import { scoreSnapshot } from '../../shared/model/trainer.js';
import type { ModelRegistry } from '../../shared/retraining/model-registry.js';

export async function republishModel(
  registry: ModelRegistry,
  from: string,
  version: string,
  change: (model: ModelArtifact) => ModelArtifact = (model) => model,
): Promise<string> {
  const artifact = change({ ...(await registry.requireModel(from)), version });
  const holdout = { ...(await registry.holdout(from))!, version };
  const metrics = (await registry.metrics(from))!;
  const auc = rocAuc(scoreSnapshot(artifact, holdout), holdout.label);
  await registry.publish({
    artifact,
    holdout,
    baseline: { ...(await registry.baseline(from))!, version },
    metrics: { ...metrics, version, holdout: { ...metrics.holdout, auc } },
  });
  return version;
}
