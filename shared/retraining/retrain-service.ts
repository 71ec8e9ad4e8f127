import type { Logger } from '../logger.js';
import {
  type Expectations,
  evaluateExpectations,
  type QualityReport,
  qualityProfileQuery,
} from '../model/data-quality.js';
import { rocAuc } from '../model/metrics.js';
import { ModelError } from '../model/model-error.js';
import { modelVersionFor } from '../model/model-version.js';
import {
  DEFAULT_MODEL_FEATURES,
  POINT_IN_TIME_FEATURES,
  type PredictionTask,
} from '../model/prediction-task.js';
import { decidePromotion } from '../model/promotion-gate.js';
import { type ModelMetrics, scoreSnapshot, trainOverheatModel } from '../model/trainer.js';
import { type DataInterval, toExampleSet, trainingSetQuery } from '../model/training-set.js';
import type { FeatureTableRef, Warehouse } from '../ports/warehouse.js';
import type { Champion, ModelRegistry, RunRecord } from './model-registry.js';

export interface RetrainSettings {
  aucFloor: number;
  decisionThreshold: number;
  holdoutFraction: number;
  maxTrainingRows: number;
  /** Model features (default: DEFAULT_MODEL_FEATURES). */
  features?: readonly string[];
}

export interface RetrainDeps {
  warehouse: Warehouse;
  registry: ModelRegistry;
  table: FeatureTableRef;
  task: PredictionTask;
  /** The data-quality expectations (read once, lazily: a missing file fails the call, not start-up). */
  expectations: () => Promise<Expectations>;
  settings: RetrainSettings;
  clock: () => Date;
  logger: Logger;
}

/** What /v1/train answers. */
export interface TrainResult {
  version: string;
  /** True when this run had already published the version (a retried call): nothing was retrained. */
  reused: boolean;
  metrics: {
    auc: number;
    precision: number;
    recall: number;
    brier: number;
    threshold: number;
    baseline_auc: number;
    rows_train: number;
    rows_holdout: number;
  };
}

export interface GateResult {
  version: string;
  promote: boolean;
  reasons: string[];
  challenger_auc: number;
  champion_version: string | null;
  champion_auc: number | null;
  /** The champion pointer's generation the gate judged against ('0': none); promote checks it. */
  champion_generation: string;
  decision_id: string;
}

export interface PromoteResult {
  promoted: boolean;
  champion: { version: string; generation: string; promoted_at: string; history: string[] };
  decision_id: string;
}

/**
 * The retraining loop's steps, each one call of the workflow: check a data interval's quality,
 * train on it (only after checking it), gate a challenger against the floor and the champion on the
 * challenger's own holdout, promote it with a generation precondition, roll back, and record runs.
 */
export class RetrainService {
  readonly #deps: RetrainDeps;

  constructor(deps: RetrainDeps) {
    this.#deps = deps;
  }

  async quality(interval: DataInterval): Promise<QualityReport> {
    const expectations = await this.#deps.expectations();
    const [profile] = await this.#deps.warehouse.query(
      qualityProfileQuery({ table: this.#deps.table, interval, expectations }),
    );
    if (profile === undefined)
      throw new ModelError('invalid_request', 'the quality profile query returned no row');
    const report = evaluateExpectations(expectations, profile, interval);
    this.#deps.logger.info(
      {
        interval: isoInterval(interval),
        passed: report.passed,
        rows: report.rows,
        failures: report.failures,
      },
      'data quality checked',
    );
    return report;
  }

  async train(request: { interval: DataInterval; runId: string }): Promise<TrainResult> {
    const { interval, runId } = request;
    const { registry, settings, task, logger } = this.#deps;
    checkInterval(interval, task);
    const version = modelVersionFor(runId, interval);
    const existing = await registry.metrics(version);
    if (existing !== null && (await registry.model(version)) !== null) {
      return { version, reused: true, metrics: summary(existing) };
    }

    const quality = await this.quality(interval);
    if (!quality.passed) {
      throw new ModelError(
        'quality_failed',
        `data interval ${isoInterval(interval)} failed ${quality.failures.length} expectation(s)`,
        {
          rows: quality.rows,
          failures: quality.failures,
        },
      );
    }
    const stride = Math.max(1, Math.ceil(quality.rows / settings.maxTrainingRows));
    const query = trainingSetQuery({
      table: this.#deps.table,
      interval,
      task,
      features: POINT_IN_TIME_FEATURES,
      stride,
    });
    const started = Date.now();
    const examples = toExampleSet(await this.#deps.warehouse.query(query), POINT_IN_TIME_FEATURES);
    const trained = trainOverheatModel({
      examples,
      features: settings.features ?? DEFAULT_MODEL_FEATURES,
      task,
      interval,
      holdoutFraction: settings.holdoutFraction,
      decisionThreshold: settings.decisionThreshold,
      version,
      runId,
      stride,
      createdAt: this.#deps.clock(),
    });
    await registry.publish(trained);
    const result: TrainResult = { version, reused: false, metrics: summary(trained.metrics) };
    logger.info(
      {
        version,
        run_id: runId,
        examples: examples.examples.length,
        stride,
        ms: Date.now() - started,
        ...result.metrics,
      },
      'model trained',
    );
    return result;
  }

  async gate(version: string): Promise<GateResult> {
    const { registry, settings } = this.#deps;
    const challenger = await registry.requireModel(version);
    const [metrics, holdout, champion] = await Promise.all([
      registry.metrics(version),
      registry.holdout(version),
      registry.champion(),
    ]);
    if (metrics === null || holdout === null) {
      throw new ModelError('model_not_found', `${version} has no metrics or holdout`, { version });
    }
    const challengerAuc = metrics.holdout.auc;
    let championScore: { version: string; auc: number } | null = null;
    if (champion !== null) {
      const championModel = await registry.requireModel(champion.pointer.version);
      championScore = {
        version: championModel.version,
        auc:
          championModel.version === challenger.version
            ? challengerAuc
            : rocAuc(scoreSnapshot(championModel, holdout), holdout.label),
      };
    }
    const decision = decidePromotion({
      challenger: { version, auc: challengerAuc },
      champion: championScore,
      aucFloor: settings.aucFloor,
    });
    const recorded = await registry.recordDecision({
      kind: 'gate',
      version,
      at: this.#deps.clock().toISOString(),
      reasons: decision.reasons,
      promote: decision.promote,
      challenger_auc: challengerAuc,
      champion_version: championScore?.version ?? null,
      champion_auc: championScore?.auc ?? null,
      champion_generation: champion?.generation ?? '0',
      auc_floor: settings.aucFloor,
      holdout: registry.objectUrl(`models/${version}/holdout.json.gz`),
    });
    this.#deps.logger.info({ version, ...decision, champion: championScore }, 'gate decided');
    return {
      version,
      promote: decision.promote,
      reasons: decision.reasons,
      challenger_auc: challengerAuc,
      champion_version: championScore?.version ?? null,
      champion_auc: championScore?.auc ?? null,
      champion_generation: champion?.generation ?? '0',
      decision_id: recorded.decision_id,
    };
  }

  /**
   * Makes a gated version the champion. The pointer is swapped only if it is still at the generation
   * the gate judged against (or `ifGeneration`, when given): if it moved, champion_moved (409).
   */
  async promote(version: string, ifGeneration?: string): Promise<PromoteResult> {
    const { registry } = this.#deps;
    await registry.requireModel(version);
    const current = await registry.champion();
    if (current?.pointer.version === version) {
      return { promoted: true, champion: championView(current), decision_id: current.pointer.decision_id };
    }
    const gate = (await registry.decisions(version)).filter((d) => d.kind === 'gate').at(-1);
    if (gate === undefined || gate.promote !== true) {
      throw new ModelError('gate_not_passed', `${version} has no passing gate decision`, {
        version,
        reasons: gate?.reasons ?? ['never gated'],
      });
    }
    const expected = ifGeneration ?? String(gate.champion_generation ?? '0');
    const at = this.#deps.clock();
    const history = current === null ? [] : [current.pointer.version, ...current.pointer.history];
    const decisionId = `${at.toISOString().replaceAll(/[-:]/g, '')}-promote-${version.slice(-8)}`;
    const swap = await registry.swapChampion({ version, decisionId, history }, expected, at);
    if (!swap.swapped) throw championMoved(version, expected, swap.current);
    await registry.recordDecision({
      decision_id: decisionId,
      kind: 'promote',
      version,
      at: at.toISOString(),
      reasons: [`gate ${gate.decision_id}: ${gate.reasons.join('; ')}`],
      previous_champion: current?.pointer.version ?? null,
      generation: swap.champion.generation,
    });
    this.#deps.logger.info({ version, previous: current?.pointer.version ?? null }, 'champion promoted');
    return { promoted: true, champion: championView(swap.champion), decision_id: decisionId };
  }

  /** Points the champion back at the previous one (or at `to`), recording why. */
  async rollback(options: { to?: string; reason?: string } = {}): Promise<PromoteResult & { from: string }> {
    const { registry } = this.#deps;
    const current = await registry.champion();
    if (current === null) throw new ModelError('no_champion', 'there is no champion to roll back');
    const target = options.to ?? current.pointer.history[0];
    if (target === undefined)
      throw new ModelError(
        'no_champion',
        `${current.pointer.version} has no earlier champion to roll back to`,
      );
    await registry.requireModel(target);
    if (target === current.pointer.version)
      throw new ModelError('invalid_request', `${target} is already the champion`);
    const history =
      options.to === undefined
        ? current.pointer.history.slice(1)
        : [current.pointer.version, ...current.pointer.history];
    const at = this.#deps.clock();
    const decisionId = `${at.toISOString().replaceAll(/[-:]/g, '')}-rollback-${target.slice(-8)}`;
    const swap = await registry.swapChampion(
      { version: target, decisionId, history },
      current.generation,
      at,
    );
    if (!swap.swapped) throw championMoved(target, current.generation, swap.current);
    await registry.recordDecision({
      decision_id: decisionId,
      kind: 'rollback',
      version: target,
      at: at.toISOString(),
      reasons: [options.reason ?? `rollback from ${current.pointer.version}`],
      previous_champion: current.pointer.version,
      generation: swap.champion.generation,
    });
    this.#deps.logger.warn({ from: current.pointer.version, to: target }, 'champion rolled back');
    return {
      promoted: true,
      champion: championView(swap.champion),
      decision_id: decisionId,
      from: current.pointer.version,
    };
  }

  async record(
    runId: string,
    status: string,
    details: unknown,
  ): Promise<{ recorded: true; run_id: string; object: string }> {
    const record: RunRecord = {
      run_id: runId,
      status,
      details,
      recorded_at: this.#deps.clock().toISOString(),
    };
    const object = await this.#deps.registry.writeRun(record);
    this.#deps.logger.info({ run_id: runId, status }, 'run recorded');
    return { recorded: true, run_id: runId, object };
  }

  async run(runId: string): Promise<RunRecord> {
    const record = await this.#deps.registry.readRun(runId);
    if (record === null)
      throw new ModelError('run_not_found', `no record of run ${runId}`, { run_id: runId });
    return record;
  }
}

function checkInterval(interval: DataInterval, task: PredictionTask): void {
  if (!(interval.endMs - interval.startMs > 2 * task.horizonMs)) {
    throw new ModelError(
      'invalid_request',
      `the data interval must be longer than twice the horizon (${task.horizonMs / 60_000} min): labels look that far ahead`,
    );
  }
}

function summary(metrics: ModelMetrics): TrainResult['metrics'] {
  return {
    auc: metrics.holdout.auc,
    precision: metrics.holdout.precision,
    recall: metrics.holdout.recall,
    brier: metrics.holdout.brier,
    threshold: metrics.holdout.threshold,
    baseline_auc: metrics.baseline.auc,
    rows_train: metrics.train.rows,
    rows_holdout: metrics.holdout.rows,
  };
}

function championView(champion: Champion): PromoteResult['champion'] {
  return {
    version: champion.pointer.version,
    generation: champion.generation,
    promoted_at: champion.pointer.promoted_at,
    history: champion.pointer.history,
  };
}

function championMoved(version: string, expected: string, current: Champion | null): ModelError {
  return new ModelError(
    'champion_moved',
    `the champion pointer moved (expected generation ${expected}); ${version} was not promoted`,
    {
      version,
      expected_generation: expected,
      champion_version: current?.pointer.version ?? null,
      champion_generation: current?.generation ?? '0',
    },
  );
}

export function isoInterval(interval: DataInterval): string {
  return `[${new Date(interval.startMs).toISOString()}, ${new Date(interval.endMs).toISOString()})`;
}
