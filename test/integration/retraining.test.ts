// The retraining loop against the BigQuery and GCS stand-ins with the official clients: feature rows
// of a simulated fleet with overheating episodes (real window engine on Redis) are written through
// the BigQuery feature sink; the services build point-in-time training sets with SQL, check data
// quality, train, gate, promote with a generation precondition, roll back and measure drift.

import { randomUUID } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { BigQueryWarehouse } from '../../shared/adapters/bigquery-warehouse.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { GcsVersionedObjectStore } from '../../shared/adapters/gcs-versioned-object-store.js';
import { type FleetConfig, loadConfig } from '../../shared/config.js';
import type { FeatureRow } from '../../shared/features/feature-row.js';
import { createLogger } from '../../shared/logger.js';
import { ModelError } from '../../shared/model/model-error.js';
import { POINT_IN_TIME_FEATURES } from '../../shared/model/prediction-task.js';
import { toExampleSet, trainingSetQuery } from '../../shared/model/training-set.js';
import type { FeatureTableRef } from '../../shared/ports/warehouse.js';
import { CHAMPION_OBJECT, ModelRegistry } from '../../shared/retraining/model-registry.js';
import { RetrainService } from '../../shared/retraining/retrain-service.js';
import { createModelRuntime, type ModelRuntime } from '../../shared/runtime/model-runtime.js';
import { localServers } from '../helpers/local-servers.js';
import { overheatingFleetRows } from '../helpers/overheating-fleet.js';

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const DATASET = `retrain_${suffix}`;
const BUCKET = `retrain-${suffix}`;
const HOUR = 3_600_000;
const HORIZON_MS = 15 * 60_000;
/** The training interval: three hours of a 40-vehicle fleet at one reading per 10 s. */
const T0 = Date.UTC(2026, 4, 4, 6, 0, 0);
const TRAIN = { startMs: T0, endMs: T0 + 3 * HOUR };
/** A later hour whose rows lack a third of their speed windows: data quality must stop it. */
const DEGRADED = { startMs: T0 + 4 * HOUR, endMs: T0 + 5 * HOUR };
/** A later hour of the same fleet with hotter engines and faster driving: drift. */
const SHIFTED = { startMs: T0 + 6 * HOUR, endMs: T0 + 7 * HOUR };

let config: FleetConfig;
let runtime: ModelRuntime;
let bigquery: BigQuery;
let table: FeatureTableRef;
let rows: FeatureRow[];

beforeAll(async () => {
  const servers = localServers();
  config = loadConfig({
    GOOGLE_CLOUD_PROJECT: servers.projectId,
    BIGQUERY_API_ENDPOINT: servers.bigqueryStandinUrl,
    STORAGE_EMULATOR_HOST: servers.gcsStandinUrl,
    BIGQUERY_DATASET: DATASET,
    FEATURES_BUCKET: BUCKET,
    LOG_LEVEL: 'silent',
  });
  table = { projectId: config.projectId, dataset: DATASET, table: config.bigquery.featuresTable };
  bigquery = createBigQueryClient(config);
  const sink = new BigQueryFeatureSink(bigquery, { dataset: DATASET, table: 'features' });
  await sink.ensureTable();
  await createStorageClient(config).createBucket(BUCKET);
  runtime = createModelRuntime(config, createLogger({ level: 'silent' }));

  let t0 = Date.now();
  rows = await overheatingFleetRows({
    redisUrl: servers.redisUrl,
    vehiclePrefix: `rt-${suffix}`,
    vehicles: 40,
    startMs: TRAIN.startMs,
    durationS: 3 * 3600,
    ratePerVehicleHz: 0.1,
    seed: 515,
    heldBackRate: 0.01,
  });
  console.log('generated', rows.length, Date.now() - t0); t0 = Date.now();
  await sink.write(rows);
  console.log('written', Date.now() - t0);
}, 300_000);

describe('training set', () => {
  it('trains and prints AUCs', async () => {
    let started = Date.now();
    const q = await runtime.retrain.quality(TRAIN);
    console.log('quality', Date.now() - started); started = Date.now();
    const wh = new BigQueryWarehouse(bigquery);
    const r = await wh.query(trainingSetQuery({ table, interval: TRAIN, task: { name: 'overheat', thresholdC: 105, horizonMs: HORIZON_MS }, features: POINT_IN_TIME_FEATURES }));
    console.log('query', Date.now() - started, r.length); started = Date.now();
    const result = await runtime.retrain.train({ interval: TRAIN, runId: 'smoke' });
    console.log(result, Date.now() - started);
  }, 300_000);
});
