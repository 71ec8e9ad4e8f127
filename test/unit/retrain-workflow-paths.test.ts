// workflows/retrain.yaml on the local runner against scripted trainer and drift functions: every
// path through the workflow (promote, reject, data-quality stop, no drift, drift-triggered retrain,
// a 422 verdict, a failure recorded and re-raised, retries, an interval already done) and, for
// Cloud Scheduler executions (no interval in the argument), the interval and run id the workflow
// derives from its start time equal the ones shared/schedules/timetable.ts computes, DST included.
// The end-to-end run against the real functions is test/integration/retrain-workflow.test.ts.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DONE_STATUSES } from '../../local/retraining/retrain-runs.js';
import type { WorkflowValue } from '../../local/workflows/workflow-errors.js';
import { LocalWorkflow, type RunOptions } from '../../local/workflows/workflow-runner.js';
import {
  dataIntervalFor,
  nextTicks,
  parseSchedules,
  runIdFor,
  type Schedule,
  workflowArguments,
} from '../../shared/schedules/timetable.js';
import { type Answer, fakeHttp, type RecordedRequest } from '../helpers/fake-http.js';

const ROOT = resolve(import.meta.dirname, '../..');
const workflow = LocalWorkflow.fromText(
  readFileSync(`${ROOT}/workflows/retrain.yaml`, 'utf8'),
  'workflows/retrain.yaml',
);
const SCHEDULES = parseSchedules(readFileSync(`${ROOT}/workflows/schedules.yaml`, 'utf8'));
const ENV = { TRAINER_URL: 'http://trainer.test', DRIFT_URL: 'http://drift.test' };
const INTERVAL = { data_interval_start: '2026-05-04T00:00:00Z', data_interval_end: '2026-05-05T00:00:00Z' };
const RUN_ID = 'manual-20260504T000000Z-20260505T000000Z';
const VERSION = 'v20260505T000000Z-0a1b2c3d';

type Script = Partial<
  Record<'quality' | 'drift' | 'train' | 'gate' | 'promote', (r: RecordedRequest, nth: number) => Answer>
>;

function functions(script: Script = {}, records = new Map<string, { status: string; details: unknown }>()) {
  const http = fakeHttp({
    'GET /v1/runs/*': (r) => {
      const id = r.path.split('/').at(-1)!;
      const record = records.get(id);
      return record === undefined
        ? { status: 404, body: { error: { code: 'run_not_found' } } }
        : { body: { run_id: id, ...record, recorded_at: '2026-05-05T00:01:00Z' } };
    },
    'POST /v1/quality':
      script.quality ??
      (() => ({ body: { passed: true, rows: 52_000, stored_rows: 52_010, checked: [], failures: [] } })),
    'POST /v1/drift':
      script.drift ??
      (() => ({
        body: {
          champion_version: 'v-champion',
          psi: { engine_temp_c: 0.02 },
          max_psi: 0.02,
          threshold: 0.2,
          drifted: false,
          key_features: ['engine_temp_c'],
          drifted_features: [],
          rows: 50_000,
        },
      })),
    'POST /v1/train':
      script.train ??
      (() => ({
        body: {
          version: VERSION,
          reused: false,
          metrics: {
            auc: 0.91,
            precision: 0.7,
            recall: 0.6,
            brier: 0.05,
            threshold: 0.5,
            baseline_auc: 0.74,
            rows_train: 40_000,
            rows_holdout: 10_000,
          },
        },
      })),
    'POST /v1/gate':
      script.gate ??
      ((r) => ({
        body: {
          version: (r.body as { version: string }).version,
          promote: true,
          reasons: ['challenger AUC 0.9100 >= floor 0.7500'],
          challenger_auc: 0.91,
          champion_version: 'v-champion',
          champion_auc: 0.88,
          champion_generation: '17',
          decision_id: 'd1',
        },
      })),
    'POST /v1/promote':
      script.promote ??
      ((r) => ({
        body: {
          promoted: true,
          champion: { version: (r.body as { version: string }).version, generation: '18' },
          decision_id: 'd2',
        },
      })),
    'POST /v1/record': (r) => {
      const body = r.body as { run_id: string; status: string; details: unknown };
      records.set(body.run_id, { status: body.status, details: body.details });
      return {
        body: { recorded: true, run_id: body.run_id, object: `gs://models/models/runs/${body.run_id}.json` },
      };
    },
  });
  return { http, records, calls: () => http.requests.map((r) => `${r.method} ${r.path}`) };
}

async function run(
  argument: Record<string, unknown>,
  peer: ReturnType<typeof functions>,
  options: RunOptions = {},
) {
  const sleeps: number[] = [];
  const result = await workflow.run(argument as WorkflowValue, {
    env: ENV,
    fetch: peer.http.fetch,
    sleepMs: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { result, sleeps, record: peer.records.get(RUN_ID) };
}

const bodyOf = (peer: ReturnType<typeof functions>, path: string) =>
  peer.http.requests.find((r) => r.path === path)?.body;

describe('retrain.yaml decisions', () => {
  it('forced: quality, drift, train, gate, promote with the gate’s generation, record promoted', async () => {
    const peer = functions();
    const { result, record } = await run({ ...INTERVAL, force: true }, peer);
    expect(peer.calls()).toEqual([
      `GET /v1/runs/${RUN_ID}`,
      'POST /v1/quality',
      'POST /v1/drift',
      'POST /v1/train',
      'POST /v1/gate',
      'POST /v1/promote',
      'POST /v1/record',
    ]);
    expect(bodyOf(peer, '/v1/quality')).toEqual({
      data_interval_start: '2026-05-04T00:00:00.000000Z',
      data_interval_end: '2026-05-05T00:00:00.000000Z',
    });
    expect(bodyOf(peer, '/v1/train')).toMatchObject({ run_id: RUN_ID });
    expect(bodyOf(peer, '/v1/promote')).toEqual({ version: VERSION, if_generation: '17' });
    expect(result).toMatchObject({ state: 'SUCCEEDED', result: { run_id: RUN_ID, status: 'promoted' } });
    expect(record).toMatchObject({
      status: 'promoted',
      details: {
        schedule: 'manual',
        forced: true,
        trigger: 'forced',
        quality: { passed: true, rows: 52_000, failures: [] },
        drift: { drifted: false, max_psi: 0.02 },
        train: { version: VERSION, metrics: { auc: 0.91, baseline_auc: 0.74 } },
        gate: { promote: true },
        champion: { version: VERSION, generation: '18' },
      },
    });
  });

  it('a data-quality failure stops before drift and training, its failed expectations in the record', async () => {
    const failures = [{ expectation: 'null_rate.speed_mean_1m', observed: 0.33, expected: '<= 0.02' }];
    const peer = functions({
      quality: () => ({ body: { passed: false, rows: 4000, stored_rows: 4000, checked: [], failures } }),
    });
    const { result, record } = await run({ ...INTERVAL, force: true }, peer);
    expect(peer.calls()).toEqual([`GET /v1/runs/${RUN_ID}`, 'POST /v1/quality', 'POST /v1/record']);
    expect(result).toMatchObject({ state: 'SUCCEEDED', result: { status: 'quality_failed' } });
    expect(record).toMatchObject({
      status: 'quality_failed',
      details: { quality: { passed: false, rows: 4000, failures } },
    });
  });

  it('a drift watch (not forced) without drift records no_drift and trains nothing', async () => {
    const peer = functions();
    const { result, record } = await run({ ...INTERVAL, force: false }, peer);
    expect(peer.http.count('POST', '/v1/train')).toBe(0);
    expect(result).toMatchObject({ result: { status: 'no_drift' } });
    expect(record).toMatchObject({
      status: 'no_drift',
      details: { forced: false, drift: { drifted: false } },
    });
  });

  it('drift over the threshold retrains even when not forced; the drift window is the interval’s end', async () => {
    const peer = functions({
      drift: () => ({
        body: {
          champion_version: 'v-champion',
          psi: { engine_temp_c: 1.4 },
          max_psi: 1.4,
          threshold: 0.2,
          drifted: true,
          key_features: ['engine_temp_c'],
          drifted_features: ['engine_temp_c'],
          rows: 9000,
        },
      }),
    });
    const { record } = await run({ ...INTERVAL, force: false, drift_window_seconds: 3600 }, peer);
    expect(bodyOf(peer, '/v1/drift')).toEqual({
      window_start: '2026-05-04T23:00:00.000000Z',
      window_end: '2026-05-05T00:00:00.000000Z',
    });
    expect(record).toMatchObject({
      status: 'promoted',
      details: { trigger: 'drift', drift: { drifted_features: ['engine_temp_c'] } },
    });
  });

  it('with no champion yet a drift watch trains the first model', async () => {
    const peer = functions({
      drift: () => ({
        body: {
          champion_version: null,
          psi: {},
          max_psi: 0,
          threshold: 0.2,
          drifted: false,
          key_features: [],
          drifted_features: [],
          rows: 0,
          reason: 'no_champion',
        },
      }),
    });
    const { record } = await run({ ...INTERVAL }, peer);
    expect(record).toMatchObject({ status: 'promoted', details: { trigger: 'no_champion', forced: false } });
  });

  it('a rejected challenger is recorded with the gate’s reasons and not promoted', async () => {
    const reasons = [
      'challenger AUC 0.5100 below floor 0.7500',
      'challenger AUC 0.5100 worse than champion v-champion AUC 0.8800 on the same holdout',
    ];
    const peer = functions({
      gate: () => ({
        body: {
          version: VERSION,
          promote: false,
          reasons,
          challenger_auc: 0.51,
          champion_version: 'v-champion',
          champion_auc: 0.88,
          champion_generation: '17',
          decision_id: 'd1',
        },
      }),
    });
    const { result, record } = await run({ ...INTERVAL, force: true }, peer);
    expect(peer.http.count('POST', '/v1/promote')).toBe(0);
    expect(result).toMatchObject({ state: 'SUCCEEDED', result: { status: 'rejected' } });
    expect(record).toMatchObject({ status: 'rejected', details: { gate: { promote: false, reasons } } });
  });

  it('a 422 verdict from /v1/train is recorded under its code, and the run finishes', async () => {
    const peer = functions({
      train: () => ({
        status: 422,
        body: { error: { code: 'insufficient_data', message: 'no positives in the holdout' } },
      }),
    });
    const { result, record, sleeps } = await run({ ...INTERVAL, force: true }, peer);
    expect(sleeps).toEqual([]);
    expect(result).toMatchObject({ state: 'SUCCEEDED', result: { status: 'insufficient_data' } });
    expect(record).toMatchObject({
      status: 'insufficient_data',
      details: { error: { code: 422, tags: ['HttpError'] } },
    });
  });

  it('any other error is recorded as failed and fails the execution with the error map (500 is not retried)', async () => {
    const peer = functions({
      gate: () => ({ status: 500, body: { error: { code: 'invalid_artifact', message: 'bad model.json' } } }),
    });
    const { result, record, sleeps } = await run({ ...INTERVAL, force: true }, peer);
    expect(sleeps).toEqual([]);
    expect(peer.http.count('POST', '/v1/gate')).toBe(1);
    expect(result).toMatchObject({
      state: 'FAILED',
      error: { tags: ['HttpError'], code: 500, body: { error: { code: 'invalid_artifact' } } },
    });
    expect(record).toMatchObject({
      status: 'failed',
      details: { train: { version: VERSION }, error: { code: 500 } },
    });
    expect(record!.details).not.toHaveProperty('gate');
  });

  it('retries 503 and 429 from a function with backoff, then carries on', async () => {
    const peer = functions({
      train: (_r, nth) =>
        nth === 1
          ? { status: 503 }
          : nth === 2
            ? { status: 429 }
            : { body: { version: VERSION, reused: true, metrics: { auc: 0.9, baseline_auc: 0.7 } } },
    });
    const { result, sleeps } = await run({ ...INTERVAL, force: true }, peer);
    expect(sleeps).toEqual([2000, 4000]);
    expect(peer.http.count('POST', '/v1/train')).toBe(3);
    expect(result).toMatchObject({ result: { status: 'promoted' } });
  });

  it('an interval whose run is done is not run again; rerun runs it; a failed one runs again', async () => {
    const records = new Map([[RUN_ID, { status: 'rejected', details: {} }]]);
    const peer = functions({}, records);
    const skipped = await run({ ...INTERVAL, force: true }, peer);
    expect(skipped.result).toMatchObject({
      result: { run_id: RUN_ID, status: 'already_done', previous: { status: 'rejected' } },
    });
    expect(peer.calls()).toEqual([`GET /v1/runs/${RUN_ID}`]);

    const rerun = await run({ ...INTERVAL, force: true, rerun: true }, peer);
    expect(rerun.result).toMatchObject({ result: { status: 'promoted' } });

    records.set(RUN_ID, { status: 'failed', details: {} });
    const retried = await run({ ...INTERVAL, force: true }, peer);
    expect(retried.result).toMatchObject({ result: { status: 'promoted' } });
  });

  it('takes function URLs with or without a trailing slash', async () => {
    const peer = functions();
    await run({ ...INTERVAL, force: true }, peer, {
      env: { TRAINER_URL: 'http://trainer.test/', DRIFT_URL: 'http://drift.test//' },
    });
    expect(peer.calls()[0]).toBe(`GET /v1/runs/${RUN_ID}`);
    expect(peer.calls()).toContain('POST /v1/drift');
  });

  it('counts as done the statuses the CLI and scheduler skip (DONE_STATUSES)', () => {
    const source = parse(readFileSync(`${ROOT}/workflows/retrain.yaml`, 'utf8')) as {
      main: { steps: Record<string, { assign?: Record<string, unknown>[] }>[] };
    };
    const assign = source.main.steps[0]!.read_arguments!.assign!;
    const statuses = assign.find((a) => 'done_statuses' in a)!.done_statuses as string[];
    expect(new Set(statuses)).toEqual(DONE_STATUSES);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>, string]>([
    ['no function URLs', INTERVAL, {}, 'config_invalid'],
    ['half an interval', { data_interval_start: INTERVAL.data_interval_start }, ENV, 'invalid_argument'],
    ['no interval and no length', { schedule: 'x' }, ENV, 'invalid_argument'],
  ])('fails fast on %s, calling nothing', async (_what, argument, env, code) => {
    const peer = functions();
    const { result } = await run(argument, peer, { env });
    expect(result).toMatchObject({ state: 'FAILED', error: { code } });
    expect(peer.http.requests).toHaveLength(0);
  });
});

describe('Cloud Scheduler executions derive the interval the timetable gives', () => {
  const berlinDaily = SCHEDULES.find((s) => s.name === 'daily-retrain')!;
  const hourly = SCHEDULES.find((s) => s.name === 'hourly-drift-watch')!;
  const [newYork] = parseSchedules(`
schedules:
  weekday-morning:
    schedule: "30 6 * * 1-5"
    timezone: America/New_York
    data_interval: 3d
    retrain: always
`);
  const cases: [string, Schedule, string][] = [
    ['daily-retrain, an ordinary day', berlinDaily, '2026-05-03T12:00:00Z'],
    ['daily-retrain, the night Berlin springs forward (23 h)', berlinDaily, '2026-03-29T12:00:00Z'],
    ['daily-retrain, the night Berlin falls back (25 h)', berlinDaily, '2026-10-25T12:00:00Z'],
    ['hourly-drift-watch around the fall-back', hourly, '2026-10-25T00:30:00Z'],
    ['a 3-day New York interval across the spring-forward', newYork!, '2026-03-09T00:00:00Z'],
  ];

  it.each(cases)('%s', async (_what, schedule, after) => {
    const [tick] = nextTicks(schedule, Date.parse(after), 1) as [number];
    const expected = dataIntervalFor(schedule, tick);
    const peer = functions();
    // The execution starts 17 s after the tick, as a Cloud Scheduler one does.
    await workflow.run(workflowArguments(schedule) as unknown as WorkflowValue, {
      env: ENV,
      fetch: peer.http.fetch,
      nowMs: () => tick + 17_000,
    });
    const quality = bodyOf(peer, '/v1/quality') as { data_interval_start: string; data_interval_end: string };
    expect([Date.parse(quality.data_interval_start), Date.parse(quality.data_interval_end)]).toEqual([
      expected.startMs,
      expected.endMs,
    ]);
    expect(peer.http.requests[0]!.path).toBe(`/v1/runs/${runIdFor(schedule.name, expected)}`);
  });

  it('the DST cases are what they claim: 23 h, 25 h and 71 h intervals', () => {
    const hours = (schedule: Schedule, after: string) => {
      const interval = dataIntervalFor(schedule, nextTicks(schedule, Date.parse(after), 1)[0]!);
      return (interval.endMs - interval.startMs) / 3_600_000;
    };
    expect([
      hours(berlinDaily, cases[1]![2]),
      hours(berlinDaily, cases[2]![2]),
      hours(newYork!, cases[4]![2]),
    ]).toEqual([23, 25, 71]);
  });
});
