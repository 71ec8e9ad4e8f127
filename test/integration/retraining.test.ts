// The retraining loop against the BigQuery and GCS stand-ins with the official clients. Feature
// rows of a simulated fleet with overheating episodes (the real window engine on Redis) are written
// through the BigQuery feature sink, with copies of some readings that carry other values (the
// first applied version must stand). The services then build point-in-time training sets in SQL,
// check data quality, train, gate, promote with a generation precondition, roll back and measure
// drift; every decision lands in the GCS registry.

import { randomUUID } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';
import { beforeAll, describe, expect, it } from 'vitest';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { BigQueryWarehouse } from '../../shared/adapters/bigquery-warehouse.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { GcsVersionedObjectStore } from '../../shared/adapters/gcs-versioned-object-store.js';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { rocAuc } from '../../shared/model/metrics.js';
import { MODEL_FORMAT } from '../../shared/model/model-artifact.js';
import { ModelError } from '../../shared/model/model-error.js';
import { overheatTask } from '../../shared/model/prediction-task.js';
import { scoreSnapshot } from '../../shared/model/trainer.js';
import { toExampleSet, trainingSetQuery } from '../../shared/model/training-set.js';
import type { FeatureTableRef } from '../../shared/ports/warehouse.js';
import { CHAMPION_OBJECT, type ModelRegistry } from '../../shared/retraining/model-registry.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { createModelRuntime, type ModelRuntime } from '../../shared/runtime/model-runtime.js';
import { localServers } from '../helpers/local-servers.js';
import { overheatingFleetRows } from '../helpers/overheating-fleet.js';
import { republishModel } from '../helpers/republish-model.js';

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const DATASET = `retrain_${suffix}`;
const BUCKET = `retrain-${suffix}`;
const HOUR = 3_600_000;
const TASK = overheatTask();
/** Three hours of a 40-vehicle fleet at one reading per 10 s: the training interval. */
const T0 = Date.UTC(2026, 4, 4, 6, 0, 0);
const TRAIN = { startMs: T0, endMs: T0 + 3 * HOUR };
/** A later hour whose rows lack a third of their 1-minute speed windows: data quality must stop it. */
const DEGRADED = { startMs: T0 + 4 * HOUR, endMs: T0 + 5 * HOUR };
/** A later hour of the same fleet with hotter engines and faster driving: drift. */
const SHIFTED = { startMs: T0 + 6 * HOUR, endMs: T0 + 7 * HOUR };
const DUPLICATE_EVERY = 200;

let runtime: ModelRuntime;
let registry: ModelRegistry;
let bigquery: BigQuery;
let table: FeatureTableRef;
/** The fleet's rows as the engine made them (one per identity). */
let rows: FeatureRow[];

/** The rows of the last hour of TRAIN moved `toMs - TRAIN.endMs + HOUR` later, every `every`-th one. */
function movedRows(
  toStartMs: number,
  every: number,
  change: (row: FeatureRow, i: number) => Partial<FeatureRow>,
): FeatureRow[] {
  const fromMs = TRAIN.endMs - HOUR;
  return rows
    .filter((r) => Date.parse(r.event_ts) >= fromMs)
    .filter((_, i) => i % every === 0)
    .map((r, i) => ({
      ...r,
      ...change(r, i),
      event_id: `${r.event_id}-moved-${toStartMs}`,
      event_ts: new Date(Date.parse(r.event_ts) - fromMs + toStartMs).toISOString(),
      processed_ts: new Date(Date.parse(r.processed_ts) - fromMs + toStartMs).toISOString(),
    }));
}

beforeAll(async () => {
  const servers = localServers();
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: servers.projectId,
    BIGQUERY_API_ENDPOINT: servers.bigqueryStandinUrl,
    STORAGE_EMULATOR_HOST: servers.gcsStandinUrl,
    BIGQUERY_DATASET: DATASET,
    FEATURES_BUCKET: BUCKET,
  });
  table = { projectId: config.projectId, dataset: DATASET, table: config.bigquery.featuresTable };
  bigquery = createBigQueryClient(config);
  const sink = new BigQueryFeatureSink(bigquery, { dataset: DATASET, table: 'features' });
  await sink.ensureTable();
  await createStorageClient(config).createBucket(BUCKET);
  runtime = createModelRuntime(config, createLogger({ level: 'silent' }));
  registry = runtime.registry;

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
  // Copies of every 200th reading, applied later with a boiling engine: if they won over the
  // first version, features and the labels of the readings before them would change.
  const copies = rows
    .filter((_, i) => i % DUPLICATE_EVERY === 0)
    .map((r) => ({
      ...r,
      event_id: `${r.event_id}-copy`,
      processed_ts: new Date(Date.parse(r.processed_ts) + 60_000).toISOString(),
      engine_temp_c: 150,
      temp_anomaly: true,
    }));
  const degraded = movedRows(DEGRADED.startMs, 4, (_, i) =>
    i % 3 === 0 ? { speed_mean_1m: null, speed_min_1m: null, speed_max_1m: null, speed_std_1m: null } : {},
  );
  const shifted = movedRows(SHIFTED.startMs, 2, (r) => ({
    engine_temp_c: r.engine_temp_c + 12,
    temp_mean_1m: r.temp_mean_1m === null ? null : r.temp_mean_1m + 12,
    temp_max_1h: r.temp_max_1h === null ? null : r.temp_max_1h + 12,
    temp_mean_15m: r.temp_mean_15m === null ? null : r.temp_mean_15m + 12,
    speed_kmh: r.speed_kmh * 1.6,
  }));
  await sink.write([...rows, ...copies, ...degraded, ...shifted]);
}, 240_000);

describe('point-in-time training set (SQL on the stand-in)', () => {
  it('labels each in-order reading by its vehicle’s readings in (t, t + 15 min] only, with its own row’s features', async () => {
    const features = ['engine_temp_c', 'temp_max_1h', 'rpm', 'temp_anomaly'];
    const result = await new BigQueryWarehouse(bigquery).query(
      trainingSetQuery({ table, interval: TRAIN, task: TASK, features }),
    );
    const { examples } = toExampleSet(result, features);

    // Brute force from the rows the engine made: each vehicle's event times and temperatures in order.
    const byVehicle = new Map<string, { t: number; temp: number }[]>();
    for (const row of rows) {
      const list = byVehicle.get(row.vehicle_id) ?? [];
      list.push({ t: Date.parse(row.event_ts), temp: row.engine_temp_c });
      byVehicle.set(row.vehicle_id, list);
    }
    for (const list of byVehicle.values()) list.sort((a, b) => a.t - b.t);
    const rowAt = new Map(rows.map((r) => [`${r.vehicle_id}@${Date.parse(r.event_ts)}`, r]));
    const expectedLabel = (vehicle: string, t: number): 0 | 1 => {
      const list = byVehicle.get(vehicle)!;
      let i = list.findIndex((r) => r.t > t);
      for (; i >= 0 && i < list.length && list[i]!.t <= t + TASK.horizonMs; i++)
        if (list[i]!.temp > 105) return 1;
      return 0;
    };

    const eligible = rows.filter((r) => !r.late && Date.parse(r.event_ts) + TASK.horizonMs < TRAIN.endMs);
    expect(examples).toHaveLength(eligible.length);
    const mismatches: string[] = [];
    let positives = 0;
    for (const example of examples) {
      const row = rowAt.get(`${example.vehicleId}@${example.tMs}`)!;
      const values = [row.engine_temp_c, row.temp_max_1h, row.rpm, row.temp_anomaly ? 1 : 0];
      if (row.late) mismatches.push(`${example.vehicleId}@${example.tMs}: a late row`);
      if (example.values.some((v, j) => v !== values[j]))
        mismatches.push(`${example.vehicleId}@${example.tMs}: features`);
      if (example.label !== expectedLabel(example.vehicleId, example.tMs))
        mismatches.push(`${example.vehicleId}@${example.tMs}: label`);
      positives += example.label;
    }
    expect(mismatches).toEqual([]);
    expect(rows.some((r) => r.late)).toBe(true);
    expect(positives / examples.length).toBeGreaterThan(0.03);
    expect(positives / examples.length).toBeLessThan(0.5);
  }, 60_000);

  it('samples every k-th reading of each vehicle when asked to', async () => {
    const result = await new BigQueryWarehouse(bigquery).query(
      trainingSetQuery({ table, interval: TRAIN, task: TASK, features: ['engine_temp_c'], stride: 7 }),
    );
    const eligible = rows.filter((r) => !r.late && Date.parse(r.event_ts) + TASK.horizonMs < TRAIN.endMs);
    const perVehicle = new Map<string, number>();
    for (const r of eligible) perVehicle.set(r.vehicle_id, (perVehicle.get(r.vehicle_id) ?? 0) + 1);
    const expected = [...perVehicle.values()].reduce((sum, n) => sum + Math.ceil(n / 7), 0);
    expect(result).toHaveLength(expected);
  }, 60_000);
});

describe('data quality', () => {
  it('passes the training interval (its few copies stay under the duplicate share)', async () => {
    const report = await runtime.retrain.quality(TRAIN);
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.rows).toBe(rows.length);
    expect(report.storedRows).toBe(rows.length + Math.ceil(rows.length / DUPLICATE_EVERY));
  });

  it('fails an interval with a third of its speed windows missing, and train refuses it', async () => {
    const report = await runtime.retrain.quality(DEGRADED);
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual([
      { expectation: 'null_rate.speed_mean_1m', observed: expect.closeTo(1 / 3, 2), expected: '<= 0.02' },
    ]);
    const refused = await runtime.retrain
      .train({ interval: DEGRADED, runId: 'degraded-run' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelError);
    expect((refused as ModelError).code).toBe('quality_failed');
    expect((refused as ModelError).metadata.failures).toEqual(report.failures);
    expect(await registry.versions()).toEqual([]);
  });

  it('fails an empty interval on volume', async () => {
    const report = await runtime.retrain.quality({ startMs: T0 - 2 * HOUR, endMs: T0 - HOUR });
    expect(report.failures).toEqual([
      { expectation: 'volume.min_rows_per_hour', observed: 0, expected: '>= 1000' },
    ]);
  });
});

describe('train, gate, promote, roll back', () => {
  let champion: string;

  it('trains a model that beats the one-feature baseline on the same holdout', async () => {
    const result = await runtime.retrain.train({ interval: TRAIN, runId: 'first-run' });
    champion = result.version;
    const { metrics } = result;
    console.log(
      `[retraining] synthetic fleet, holdout ${metrics.rows_holdout} rows: model AUC ${metrics.auc.toFixed(4)} ` +
        `vs baseline (engine_temp_c) AUC ${metrics.baseline_auc.toFixed(4)}; precision ${metrics.precision.toFixed(3)} ` +
        `recall ${metrics.recall.toFixed(3)} at ${metrics.threshold}, Brier ${metrics.brier.toFixed(4)}`,
    );
    expect(metrics.auc).toBeGreaterThan(0.75);
    expect(metrics.auc).toBeGreaterThan(metrics.baseline_auc + 0.1);
    expect(metrics.rows_train).toBeGreaterThan(20_000);
    expect(metrics.rows_holdout).toBeGreaterThan(5_000);

    const model = await registry.requireModel(champion);
    expect(model.format).toBe(MODEL_FORMAT);
    expect(model.training).toMatchObject({
      run_id: 'first-run',
      data_interval_start: new Date(TRAIN.startMs).toISOString(),
      data_interval_end: new Date(TRAIN.endMs).toISOString(),
    });
    const baseline = await registry.baseline(champion);
    expect(Object.keys(baseline!.histograms)).toEqual(model.features);
    // The stored holdout reproduces the reported AUC.
    const holdout = (await registry.holdout(champion))!;
    expect(rocAuc(scoreSnapshot(model, holdout), holdout.label)).toBeCloseTo(metrics.auc, 10);

    const again = await runtime.retrain.train({ interval: TRAIN, runId: 'first-run' });
    expect(again).toEqual({ ...result, reused: true });
  }, 120_000);

  it('promotes the first model (no champion yet) and records the decisions', async () => {
    const gate = await runtime.retrain.gate(champion);
    expect(gate).toMatchObject({
      promote: true,
      champion_version: null,
      champion_auc: null,
      champion_generation: '0',
    });
    expect(gate.reasons).toContain('no champion yet');
    const promoted = await runtime.retrain.promote(champion);
    expect(promoted.champion.version).toBe(champion);
    expect((await registry.champion())!.pointer).toMatchObject({ version: champion, history: [] });
    expect((await registry.decisions(champion)).map((d) => d.kind)).toEqual(['gate', 'promote']);
  });

  it('rejects a degraded challenger with its reasons, judged on the challenger’s own holdout', async () => {
    const degraded = await republishModel(registry, champion, 'v20260504T090000Z-0000dead', (m) => ({
      ...m,
      weights: m.weights.map((w) => -w),
    }));
    const gate = await runtime.retrain.gate(degraded);
    expect(gate.promote).toBe(false);
    expect(gate.champion_version).toBe(champion);
    expect(gate.challenger_auc).toBeLessThan(0.5);
    expect(gate.reasons.join('\n')).toMatch(/below floor 0\.7500/);
    expect(gate.reasons.join('\n')).toMatch(/worse than champion/);
    const refused = await runtime.retrain.promote(degraded).catch((e: unknown) => e);
    expect((refused as ModelError).code).toBe('gate_not_passed');
    expect((await registry.champion())!.pointer.version).toBe(champion);
  });

  it('lets exactly one of two concurrent promotions through; the other gets champion_moved', async () => {
    const b = await republishModel(registry, champion, 'v20260504T090000Z-0000000b');
    const c = await republishModel(registry, champion, 'v20260504T090000Z-0000000c');
    const [gateB, gateC] = [await runtime.retrain.gate(b), await runtime.retrain.gate(c)];
    expect(gateB.promote && gateC.promote).toBe(true);
    expect(gateB.champion_auc).toBeCloseTo(gateB.challenger_auc, 12);
    expect(gateB.champion_generation).toBe(gateC.champion_generation);

    const outcomes = await Promise.allSettled([runtime.retrain.promote(b), runtime.retrain.promote(c)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ModelError] : []));
    expect(won).toHaveLength(1);
    expect(lost.map((e) => e.code)).toEqual(['champion_moved']);
    const winner = (won[0] as PromiseFulfilledResult<{ champion: { version: string } }>).value.champion
      .version;
    const pointer = (await registry.champion())!.pointer;
    expect(pointer).toMatchObject({ version: winner, history: [champion] });

    // A promotion the gate judged against an older champion is refused too, even alone.
    const loser = winner === b ? c : b;
    expect(((await runtime.retrain.promote(loser).catch((e: unknown) => e)) as ModelError).code).toBe(
      'champion_moved',
    );
  });

  it('rolls back to the previous champion, and forward to a named version, recording why', async () => {
    const before = (await registry.champion())!.pointer;
    const back = await runtime.retrain.rollback({ reason: 'alerts too noisy' });
    expect(back).toMatchObject({ from: before.version, champion: { version: champion, history: [] } });
    const [decision] = (await registry.decisions(champion)).filter((d) => d.kind === 'rollback');
    expect(decision).toMatchObject({ reasons: ['alerts too noisy'], previous_champion: before.version });
    const forward = await runtime.retrain.rollback({ to: before.version });
    expect(forward.champion).toMatchObject({ version: before.version, history: [champion] });
    await runtime.retrain.rollback();
    expect((await registry.champion())!.pointer.version).toBe(champion);
    const none = await runtime.retrain.rollback().catch((e: unknown) => e);
    expect((none as ModelError).code).toBe('no_champion');
  });

  it('writes the champion pointer only under a generation precondition', async () => {
    const store = new GcsVersionedObjectStore(createStorageClient(runtime.config), BUCKET);
    const current = (await store.read(CHAMPION_OBJECT))!;
    expect(
      await store.write(CHAMPION_OBJECT, Buffer.from('{}'), {
        contentType: 'application/json',
        ifGeneration: '1',
      }),
    ).toEqual({
      written: false,
    });
    expect((await store.read(CHAMPION_OBJECT))!).toEqual(current);
  });

  it('finds no drift on the training interval and drift on a hotter, faster hour', async () => {
    const same = await runtime.drift.drift(TRAIN);
    expect(same.champion_version).toBe(champion);
    expect(same.drifted).toBe(false);
    expect(same.max_psi).toBeLessThan(0.1);
    const shifted = await runtime.drift.drift(SHIFTED);
    console.log(
      `[retraining] drift on the shifted hour: max PSI ${shifted.max_psi.toFixed(3)} (${shifted.drifted_features.join(', ')})`,
    );
    expect(shifted.drifted).toBe(true);
    expect(shifted.psi.engine_temp_c).toBeGreaterThan(0.2);
    expect(shifted.psi.speed_kmh).toBeGreaterThan(0.2);
    expect(shifted.drifted_features.length).toBeGreaterThan(0);
  });

  it('records a run and reads it back', async () => {
    const recorded = await runtime.retrain.record('run-2026-05-04', 'rejected', {
      reasons: ['challenger AUC below floor'],
    });
    expect(recorded.object).toBe(`gs://${BUCKET}/models/runs/run-2026-05-04.json`);
    expect(await runtime.retrain.run('run-2026-05-04')).toMatchObject({
      status: 'rejected',
      details: { reasons: ['challenger AUC below floor'] },
    });
  });
});
