import type { Logger } from '../logger.js';
import { driftHistogramQuery, driftReport, toWindowHistograms } from '../model/drift.js';
import { ModelError } from '../model/model-error.js';
import type { DataInterval } from '../model/training-set.js';
import type { FeatureTableRef, Warehouse } from '../ports/warehouse.js';
import type { ModelRegistry } from './model-registry.js';

/** Below this many rows a window's PSI is noise: no drift is called. */
export const MIN_DRIFT_ROWS = 200;

export interface DriftResult {
  champion_version: string | null;
  psi: Record<string, number>;
  max_psi: number;
  threshold: number;
  drifted: boolean;
  /** Key features (largest weights) are the ones judged; drifted_features are those over the threshold. */
  key_features: string[];
  drifted_features: string[];
  rows: number;
  /** Why nothing was judged: no_champion, too_few_rows. */
  reason?: string;
}

export interface DriftDeps {
  warehouse: Warehouse;
  registry: ModelRegistry;
  table: FeatureTableRef;
  /** PSI above this on a key feature is drift. */
  threshold: number;
  logger: Logger;
}

/** PSI per feature between the champion's training distribution and a recent window. */
export class DriftService {
  readonly #deps: DriftDeps;

  constructor(deps: DriftDeps) {
    this.#deps = deps;
  }

  async drift(window: DataInterval): Promise<DriftResult> {
    const { registry, threshold, logger } = this.#deps;
    const quiet = (
      reason: string,
      championVersion: string | null,
      rows: number,
      keyFeatures: string[] = [],
    ): DriftResult => ({
      champion_version: championVersion,
      psi: {},
      max_psi: 0,
      threshold,
      drifted: false,
      key_features: keyFeatures,
      drifted_features: [],
      rows,
      reason,
    });
    if (!(window.endMs > window.startMs))
      throw new ModelError('invalid_request', 'window_end must be after window_start');
    const champion = await registry.champion();
    if (champion === null) return quiet('no_champion', null, 0);
    const { version } = champion.pointer;
    const baseline = await registry.baseline(version);
    if (baseline === null)
      throw new ModelError('model_not_found', `champion ${version} has no baseline.json`, { version });
    const [row] = await this.#deps.warehouse.query(
      driftHistogramQuery({ table: this.#deps.table, window, baseline: baseline.histograms }),
    );
    if (row === undefined) throw new ModelError('invalid_request', 'the drift query returned no row');
    const observed = toWindowHistograms(row, baseline.histograms);
    if (observed.rows < MIN_DRIFT_ROWS)
      return quiet('too_few_rows', version, observed.rows, baseline.key_features);
    const report = driftReport({
      baseline: baseline.histograms,
      window: observed.histograms,
      keyFeatures: baseline.key_features,
      threshold,
    });
    logger.info(
      {
        champion_version: version,
        max_psi: report.maxPsi,
        drifted: report.drifted,
        drifted_features: report.driftedFeatures,
      },
      'drift checked',
    );
    return {
      champion_version: version,
      psi: report.psi,
      max_psi: report.maxPsi,
      threshold,
      drifted: report.drifted,
      key_features: baseline.key_features,
      drifted_features: report.driftedFeatures,
      rows: observed.rows,
    };
  }
}
