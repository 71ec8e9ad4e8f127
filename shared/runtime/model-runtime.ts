/**
 * Composition root of the retraining functions (trainer, drift): config → BigQuery warehouse, GCS
 * model registry, data-quality expectations → services. Built once per instance; entry points call
 * getModelRuntime() and nothing else.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createBigQueryClient } from '../adapters/bigquery-feature-sink.js';
import { BigQueryWarehouse } from '../adapters/bigquery-warehouse.js';
import { createStorageClient } from '../adapters/gcs-object-store.js';
import { GcsVersionedObjectStore } from '../adapters/gcs-versioned-object-store.js';
import { type FleetConfig, loadConfig } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { type Expectations, parseExpectations } from '../model/data-quality.js';
import { ModelError } from '../model/model-error.js';
import { overheatTask } from '../model/prediction-task.js';
import type { FeatureTableRef } from '../ports/warehouse.js';
import { DriftService } from '../retraining/drift-service.js';
import { ModelRegistry } from '../retraining/model-registry.js';
import { RetrainService } from '../retraining/retrain-service.js';

export interface ModelRuntime {
  config: FleetConfig;
  logger: Logger;
  registry: ModelRegistry;
  retrain: RetrainService;
  drift: DriftService;
}

export const EXPECTATIONS_RELATIVE_PATH = 'workflows/expectations.yaml';

export function createModelRuntime(
  config: FleetConfig,
  logger = createLogger({ level: config.logLevel, name: 'fleet-features' }),
): ModelRuntime {
  const warehouse = new BigQueryWarehouse(createBigQueryClient(config), {
    location: config.bigquery.location,
  });
  const registry = new ModelRegistry(
    new GcsVersionedObjectStore(createStorageClient(config), config.model.bucket),
  );
  const table: FeatureTableRef = {
    projectId: config.projectId,
    dataset: config.bigquery.dataset,
    table: config.bigquery.featuresTable,
  };
  const task = overheatTask({
    thresholdC: config.model.overheatThresholdC,
    horizonMs: config.model.horizonMs,
  });
  let expectations: Promise<Expectations> | undefined;
  const loadExpectations = (): Promise<Expectations> => {
    expectations ??= readExpectations(config.model.expectationsFile).catch((error: unknown) => {
      expectations = undefined; // a fixed file is picked up by the next call
      throw error;
    });
    return expectations;
  };
  const retrain = new RetrainService({
    warehouse,
    registry,
    table,
    task,
    expectations: loadExpectations,
    settings: {
      aucFloor: config.model.aucFloor,
      decisionThreshold: config.model.decisionThreshold,
      holdoutFraction: config.model.holdoutFraction,
      maxTrainingRows: config.model.maxTrainingRows,
    },
    clock: () => new Date(),
    logger,
  });
  const drift = new DriftService({
    warehouse,
    registry,
    table,
    threshold: config.model.driftPsiThreshold,
    logger,
  });
  return { config, logger, registry, retrain, drift };
}

/**
 * The expectations file: EXPECTATIONS_FILE, or workflows/expectations.yaml found by walking up from
 * this module (the repository from source, and from dist/ after a build; a deployed function ships
 * the file beside its code).
 */
export async function readExpectations(path?: string): Promise<Expectations> {
  const file = path === undefined ? findUp(EXPECTATIONS_RELATIVE_PATH, import.meta.dirname) : resolve(path);
  if (file === undefined) {
    throw new ModelError(
      'invalid_expectations',
      `${EXPECTATIONS_RELATIVE_PATH} not found above ${import.meta.dirname}`,
    );
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ModelError('invalid_expectations', `cannot read ${file}: ${(error as Error).message}`);
  }
  return parseExpectations(text, file);
}

function findUp(relative: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

let runtime: ModelRuntime | undefined;

export async function getModelRuntime(): Promise<ModelRuntime> {
  runtime ??= createModelRuntime(loadConfig());
  return runtime;
}
