// workflows/retrain.yaml end to end on the local runner, against the real trainer and drift
// functions (their entry points under functions-framework's test server, configured through the
// environment like any instance) on the BigQuery and GCS stand-ins, over a synthetic fleet with
// overheating episodes. Five intervals of the same three hours of fleet data, moved in time:
//
//   A  as simulated                               forced run: no champion yet → trained and promoted
//   B  feature vectors shuffled across rows       forced run: a degraded challenger → rejected, with reasons
//   C  a third of the 1-minute speed windows null forced run: stops at data quality, nothing trained
//   D  as simulated                               drift watch: no drift → nothing trained
//   E  hotter engines, faster driving             drift watch: drift → retrained although not forced
//
// and a 7-day backfill of the daily schedule, called twice: 7 runs, each once.

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStep } from '../../local/retraining/retrain-report.js';
import { LocalRetrainExecutor, runIntervals, TrainerRunLookup } from '../../local/retraining/retrain-runs.js';
import { createSeededRandom } from '../../local/simulator/seeded-random.js';
import type { WorkflowMap, WorkflowValue } from '../../local/workflows/workflow-errors.js';
import { LocalWorkflow, type StepLogEntry } from '../../local/workflows/workflow-runner.js';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { loadConfig } from '../../shared/config.js';
import type { ModelRegistry } from '../../shared/retraining/model-registry.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { createModelRuntime } from '../../shared/runtime/model-runtime.js';
import { backfillIntervals, parseInstant, parseSchedules } from '../../shared/schedules/timetable.js';
import { localServers } from '../helpers/local-servers.js';
import { overheatingFleetRows } from '../helpers/overheating-fleet.js';

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 0, 0, 0);
const SPAN = 3 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const interval = (k: number) => ({
  data_interval_start: iso(T0 + k * SPAN),
  data_interval_end: iso(T0 + (k + 1) * SPAN),
});
const [A, B, C, D, E] = [0, 1, 2, 3, 4].map(interval) as [
  ReturnType<typeof interval>,
  ...ReturnType<typeof interval>[],
];

const servers: Server[] = [];
let trainerUrl: string;
let driftUrl: string;
let registry: ModelRegistry;
let workflow: LocalWorkflow;
let requests: string[] = [];

async function serve(target: string): Promise<string> {
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Test output a person reads (console.log is the functions' structured logger here). */
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Every request the workflow sends, as "METHOD /path". */
const countingFetch = (async (input: URL | string, init?: RequestInit) => {
  requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
  return fetch(input, init);
}) as typeof fetch;

/** One execution of retrain.yaml; its step log, and its result. */
async function retrain(argument: Record<string, unknown>) {
  const log: StepLogEntry[] = [];
  requests = [];
  const outcome = await workflow.run({ schedule: 'e2e', ...argument } as WorkflowValue, {
    env: { TRAINER_URL: trainerUrl, DRIFT_URL: driftUrl },
    fetch: countingFetch,
    onStep: (entry) => log.push(entry),
  });
  if (outcome.state !== 'SUCCEEDED') throw new Error(`execution failed: ${JSON.stringify(outcome.error)}`);
  // biome-ignore lint/suspicious/noExplicitAny: the workflow's result is JSON, read loosely
  return { result: outcome.result as Record<string, any>, log, requests: [...requests] };
}

async function runRecord(runId: string): Promise<WorkflowMap> {
  const res = await fetch(`${trainerUrl}/v1/runs/${runId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as WorkflowMap;
}

/** Rows of the fleet's three hours moved to interval k, each changed by `change`. */
function moved(
  rows: FeatureRow[],
  k: number,
  change: (row: FeatureRow, i: number) => Partial<FeatureRow> = () => ({}),
) {
  const by = k * SPAN;
  return rows.map((r, i) => ({
    ...r,
    ...change(r, i),
    event_id: `${r.event_id}-k${k}`,
    event_ts: iso(Date.parse(r.event_ts) + by),
    processed_ts: iso(Date.parse(r.processed_ts) + by),
  }));
}

const IDENTITY = new Set([
  'event_id',
  'vehicle_id',
  'event_ts',
  'processed_ts',
  'late',
  'model_version',
  'risk_score',
]);

/** Whole feature vectors (the reading and its windows) dealt to other rows: features say nothing about labels. */
function shuffledFeatures(rows: FeatureRow[], seed: number): FeatureRow[] {
  const random = createSeededRandom(seed);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return rows.map((row, i) => {
    const donor = rows[order[i]!]! as unknown as Record<string, unknown>;
    const features = Object.fromEntries(Object.entries(donor).filter(([key]) => !IDENTITY.has(key)));
    return { ...row, ...features } as FeatureRow;
  });
}

/** Hotter engines (+12 °C) and faster driving (x1.6), windows included. */
function shifted(row: FeatureRow): Partial<FeatureRow> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value !== 'number') continue;
    if (/^temp_(mean|min|max)_/.test(key)) out[key] = value + 12;
    if (/^speed_(mean|min|max|std)_/.test(key)) out[key] = value * 1.6;
  }
  return {
    ...out,
    engine_temp_c: row.engine_temp_c + 12,
    speed_kmh: row.speed_kmh * 1.6,
    temp_anomaly: row.engine_temp_c + 12 > 105,
  };
}

beforeAll(async () => {
  const local = localServers();
  Object.assign(process.env, {
    GOOGLE_CLOUD_PROJECT: local.projectId,
    BIGQUERY_API_ENDPOINT: local.bigqueryStandinUrl,
    STORAGE_EMULATOR_HOST: local.gcsStandinUrl,
    BIGQUERY_DATASET: `workflow_${suffix}`,
    FEATURES_BUCKET: `retrain-workflow-${suffix}`,
    LOG_LEVEL: 'warn',
  });
  const config = loadConfig();
  const sink = new BigQueryFeatureSink(createBigQueryClient(config), {
    dataset: config.bigquery.dataset,
    table: 'features',
  });
  await sink.ensureTable();
  await createStorageClient(config).createBucket(config.featuresBucket);
  registry = createModelRuntime(config).registry;
  const fleet = await overheatingFleetRows({
    redisUrl: local.redisUrl,
    vehiclePrefix: `wf-${suffix}`,
    vehicles: 20,
    startMs: T0,
    durationS: SPAN / 1000,
    ratePerVehicleHz: 0.05,
    seed: 601,
  });
  const shuffled = shuffledFeatures(fleet, 7);
  await sink.write([
    ...fleet,
    ...moved(shuffled, 1),
    ...moved(fleet, 2, (_r, i) =>
      i % 3 === 0 ? { speed_mean_1m: null, speed_min_1m: null, speed_max_1m: null, speed_std_1m: null } : {},
    ),
    ...moved(fleet, 3),
    ...moved(fleet, 4, shifted),
  ]);
  await import('../../functions/trainer/index.js');
  await import('../../functions/drift/index.js');
  trainerUrl = await serve('trainer');
  driftUrl = await serve('drift');
  workflow = await LocalWorkflow.fromFile('workflows/retrain.yaml');
}, 240_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('retrain.yaml on the local runner against the trainer and drift functions', () => {
  let champion: string;

  it('A: the first run trains, beats the one-feature baseline and is promoted; the log names every step', async () => {
    const { result, log, requests } = await retrain({ ...A, force: true });
    say(`[retrain e2e] step log of the first run:\n${log.map(formatStep).join('\n')}`);
    expect(result.status).toBe('promoted');
    const { metrics, version } = result.details.train;
    champion = version;
    say(
      `[retrain e2e] first champion ${version}: holdout AUC ${metrics.auc.toFixed(4)} vs baseline (engine_temp_c) ${metrics.baseline_auc.toFixed(4)}; ` +
        `precision ${metrics.precision.toFixed(3)} recall ${metrics.recall.toFixed(3)} at ${metrics.threshold}, Brier ${metrics.brier.toFixed(4)}, ` +
        `${metrics.rows_train} train / ${metrics.rows_holdout} holdout rows; gate: ${result.details.gate.reasons.join('; ')}`,
    );
    expect(metrics.auc).toBeGreaterThan(0.75);
    expect(metrics.auc).toBeGreaterThan(metrics.baseline_auc);
    expect(result.details).toMatchObject({
      trigger: 'forced',
      drift: { reason: 'no_champion' },
      champion: { version },
    });
    expect((await registry.champion())!.pointer.version).toBe(version);
    expect(requests).toEqual([
      `GET /v1/runs/${result.run_id}`,
      'POST /v1/quality',
      'POST /v1/drift',
      'POST /v1/train',
      'POST /v1/gate',
      'POST /v1/promote',
      'POST /v1/record',
    ]);
    const steps = new Set(log.map((e) => e.step));
    for (const name of [
      'main › read_arguments',
      'main › look_up_run',
      'main › run › check_quality',
      'main › run › train › post_to_function › post',
      'main › run › promote',
      'main › run › finished',
    ])
      expect(steps).toContain(name);
    expect(await runRecord(result.run_id)).toMatchObject({
      status: 'promoted',
      details: { train: { version } },
    });
  }, 120_000);

  it('A again: the interval is done, nothing runs', async () => {
    const { result, requests } = await retrain({ ...A, force: true });
    expect(result).toMatchObject({ status: 'already_done', previous: { status: 'promoted' } });
    expect(requests).toHaveLength(1);
  });

  it('B: a degraded challenger (shuffled features) is rejected by the gate, with its reasons recorded', async () => {
    const { result } = await retrain({ ...B, force: true });
    expect(result.status).toBe('rejected');
    const { gate, train } = result.details;
    say(
      `[retrain e2e] rejected challenger ${train.version}: AUC ${train.metrics.auc.toFixed(4)} (baseline ${train.metrics.baseline_auc.toFixed(4)}); reasons: ${gate.reasons.join('; ')}`,
    );
    expect(gate.promote).toBe(false);
    expect(gate.reasons.join('\n')).toMatch(/below floor 0\.7500/);
    expect(gate.champion_version).toBe(champion);
    expect((await registry.champion())!.pointer.version).toBe(champion);
    expect(await runRecord(result.run_id)).toMatchObject({
      status: 'rejected',
      details: { gate: { reasons: gate.reasons } },
    });
  }, 120_000);

  it('C: a data-quality failure stops the run before training, the failed expectations in its record', async () => {
    const before = await registry.versions();
    const { result, requests } = await retrain({ ...C, force: true });
    expect(result.status).toBe('quality_failed');
    expect(requests).toEqual([`GET /v1/runs/${result.run_id}`, 'POST /v1/quality', 'POST /v1/record']);
    const record = await runRecord(result.run_id);
    say(`[retrain e2e] quality failure recorded: ${JSON.stringify((record.details as WorkflowMap).quality)}`);
    expect(record).toMatchObject({
      status: 'quality_failed',
      details: {
        quality: {
          passed: false,
          failures: [
            {
              expectation: 'null_rate.speed_mean_1m',
              observed: expect.closeTo(1 / 3, 2),
              expected: '<= 0.02',
            },
          ],
        },
      },
    });
    expect(await registry.versions()).toEqual(before);
  }, 60_000);

  it('D: a drift watch over data like the champion’s finds no drift and trains nothing', async () => {
    const { result, requests } = await retrain({ ...D, force: false });
    expect(result.status).toBe('no_drift');
    expect(result.details.drift).toMatchObject({ champion_version: champion, drifted: false });
    expect(result.details.drift.max_psi).toBeLessThan(0.2);
    expect(requests).not.toContain('POST /v1/train');
  }, 60_000);

  it('E: an injected shift makes the drift watch retrain although the run was not forced', async () => {
    const { result } = await retrain({ ...E, force: false });
    const { drift, train, gate, trigger } = result.details;
    say(
      `[retrain e2e] drift run ${result.run_id}: max PSI ${drift.max_psi.toFixed(3)} over ${drift.threshold} on ${drift.drifted_features.join(', ')}; ` +
        `retrained ${train.version} AUC ${train.metrics.auc.toFixed(4)} (baseline ${train.metrics.baseline_auc.toFixed(4)}); ${result.status}: ${gate.reasons.join('; ')}`,
    );
    expect(trigger).toBe('drift');
    expect(drift.drifted).toBe(true);
    // The key features (the champion's largest weights) that moved: temperatures and speeds.
    expect(drift.drifted_features.length).toBeGreaterThan(0);
    for (const feature of drift.drifted_features) expect(feature).toMatch(/^(temp|speed|engine_temp)/);
    expect(['promoted', 'rejected']).toContain(result.status);
    expect((await runRecord(result.run_id)).details).toMatchObject({
      trigger: 'drift',
      forced: false,
      train: { version: train.version },
    });
  }, 120_000);
});

describe('backfill of the daily schedule through the local runner and the trainer’s run records', () => {
  it('7 days run 7 intervals, each once, even when called twice', async () => {
    const [daily] = parseSchedules(`
schedules:
  backfill-daily:
    schedule: "@daily"
    timezone: Europe/Berlin
    retrain: always
`);
    const intervals = backfillIntervals(
      daily!,
      parseInstant('2026-01-05', 'Europe/Berlin'),
      parseInstant('2026-01-12', 'Europe/Berlin'),
    );
    requests = [];
    const executor = new LocalRetrainExecutor(workflow, { trainerUrl, driftUrl });
    const options = {
      schedule: daily!,
      intervals,
      executor: {
        where: 'local' as const,
        execute: (a: Parameters<typeof executor.execute>[0]) => runWith(a),
      },
      lookup: new TrainerRunLookup(trainerUrl),
    };
    async function runWith(args: Parameters<typeof executor.execute>[0]) {
      const outcome = await workflow.run(args as unknown as WorkflowValue, {
        env: { TRAINER_URL: trainerUrl, DRIFT_URL: driftUrl },
        fetch: countingFetch,
      });
      return outcome.state === 'SUCCEEDED'
        ? { executionId: outcome.executionId, state: 'SUCCEEDED' as const, result: outcome.result }
        : { executionId: outcome.executionId, state: 'FAILED' as const, error: outcome.error };
    }
    const first = await runIntervals(options);
    const second = await runIntervals(options);
    // The week has no data: each interval's run stops at data quality, and that is a finished run.
    expect(first.map((r) => r.status)).toEqual(Array(7).fill('quality_failed'));
    expect(second.map((r) => r.status)).toEqual(Array(7).fill('skipped'));
    expect(requests.filter((r) => r === 'POST /v1/quality')).toHaveLength(7);
    expect(new Set(first.map((r) => r.runId)).size).toBe(7);
    expect(first[0]!.runId).toBe('backfill-daily-20260104T230000Z-20260105T230000Z');
  }, 120_000);
});
