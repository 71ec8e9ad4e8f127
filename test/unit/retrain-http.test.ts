// The trainer and drift functions' HTTP contract on their Hono apps with stub services: routes,
// request validation, answer shapes, and the error-code-to-status mapping.
import { describe, expect, it, vi } from 'vitest';
import { FleetError } from '../../shared/errors.js';
import { driftRoutes } from '../../shared/http/drift-routes.js';
import { trainerRoutes } from '../../shared/http/trainer-routes.js';
import { createLogger } from '../../shared/logger.js';
import { ModelError } from '../../shared/model/model-error.js';
import type { ModelRuntime } from '../../shared/runtime/model-runtime.js';

const VERSION = 'v20260504T090000Z-1a2b3c4d';
const interval = {
  data_interval_start: '2026-05-04T06:00:00Z',
  data_interval_end: '2026-05-04T09:00:00+00:00',
};

function stubRuntime(overrides: Record<string, (...args: never[]) => unknown> = {}) {
  const retrain = {
    quality: vi.fn(async () => ({ passed: true, rows: 10, storedRows: 10, checked: 3, failures: [] })),
    train: vi.fn(async () => ({ version: VERSION, reused: false, metrics: { auc: 0.9 } })),
    gate: vi.fn(async () => ({ version: VERSION, promote: true, reasons: ['no champion yet'] })),
    promote: vi.fn(async () => ({ promoted: true, champion: { version: VERSION } })),
    record: vi.fn(async () => ({ recorded: true, run_id: 'r1', object: 'gs://b/models/runs/r1.json' })),
    run: vi.fn(async () => ({ run_id: 'r1', status: 'promoted' })),
    ...overrides,
  };
  const drift = {
    drift: vi.fn(async () => ({ champion_version: null, drifted: false, reason: 'no_champion' })),
  };
  const runtime = { retrain, drift, logger: createLogger({ level: 'silent' }) } as unknown as ModelRuntime;
  return {
    runtime,
    retrain,
    drift,
    trainer: trainerRoutes(async () => runtime),
    driftApp: driftRoutes(async () => runtime),
  };
}

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('trainer routes', () => {
  it('POST /v1/quality passes the interval as epoch ms and answers the report', async () => {
    const { trainer, retrain } = stubRuntime();
    const res = await trainer.request('/v1/quality', post(interval));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ passed: true, rows: 10, stored_rows: 10, checked: 3, failures: [] });
    expect(retrain.quality).toHaveBeenCalledWith({
      startMs: Date.UTC(2026, 4, 4, 6),
      endMs: Date.UTC(2026, 4, 4, 9),
    });
  });

  it('POST /v1/train, /v1/gate, /v1/promote, /v1/record and GET /v1/runs/{id} call their service', async () => {
    const { trainer, retrain } = stubRuntime();
    expect((await trainer.request('/v1/train', post({ ...interval, run_id: 'r1' }))).status).toBe(200);
    expect(retrain.train).toHaveBeenCalledWith({
      interval: { startMs: Date.UTC(2026, 4, 4, 6), endMs: Date.UTC(2026, 4, 4, 9) },
      runId: 'r1',
    });
    expect(await (await trainer.request('/v1/gate', post({ version: VERSION }))).json()).toMatchObject({
      promote: true,
    });
    await trainer.request('/v1/promote', post({ version: VERSION, if_generation: '1714800000000000' }));
    expect(retrain.promote).toHaveBeenCalledWith(VERSION, '1714800000000000');
    await trainer.request(
      '/v1/record',
      post({ run_id: 'r1', status: 'quality_failed', details: { failures: [] } }),
    );
    expect(retrain.record).toHaveBeenCalledWith('r1', 'quality_failed', { failures: [] });
    expect(await (await trainer.request('/v1/runs/r1')).json()).toEqual({ run_id: 'r1', status: 'promoted' });
  });

  it.each([
    ['/v1/quality', 'not json', 'invalid_json'],
    [
      '/v1/quality',
      { data_interval_start: '2026-05-04', data_interval_end: '2026-05-05T00:00:00Z' },
      'invalid_request',
    ],
    [
      '/v1/quality',
      { data_interval_start: interval.data_interval_end, data_interval_end: interval.data_interval_start },
      'invalid_request',
    ],
    [
      '/v1/quality',
      { data_interval_start: '2026-01-01T00:00:00Z', data_interval_end: '2026-06-01T00:00:00Z' },
      'invalid_request',
    ],
    ['/v1/train', interval, 'invalid_request'],
    ['/v1/train', { ...interval, run_id: '../x' }, 'invalid_request'],
    ['/v1/gate', { version: 'champion' }, 'invalid_request'],
    ['/v1/promote', { version: VERSION, if_generation: 'abc' }, 'invalid_request'],
    ['/v1/record', { run_id: 'r1', status: 'Not Snake' }, 'invalid_request'],
  ])('400 for a bad body on %s: %j', async (path, body, code) => {
    const { trainer, retrain } = stubRuntime();
    const res = await trainer.request(path, post(body));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    for (const fn of Object.values(retrain)) expect(fn).not.toHaveBeenCalled();
  });

  it.each([
    [
      new ModelError('quality_failed', 'failed 1', {
        failures: [{ expectation: 'volume.min_rows_per_hour', observed: 0, expected: '>= 1000' }],
      }),
      422,
    ],
    [new ModelError('insufficient_data', 'one class'), 422],
    [new ModelError('gate_not_passed', 'no'), 422],
    [new ModelError('model_not_found', 'no such model'), 404],
    [new ModelError('champion_moved', 'moved', { champion_version: VERSION }), 409],
    [new ModelError('invalid_expectations', 'bad yaml'), 500],
    [new FleetError('transient_sink', 'BigQuery query failed: 503'), 503],
    [new FleetError('sink_rejected', 'BigQuery query failed: 404 table'), 500],
    [new Error('bug'), 500],
  ])('maps %s to %i with a stable code', async (error, status) => {
    const { trainer } = stubRuntime({ train: async () => Promise.reject(error) });
    const res = await trainer.request('/v1/train', post({ ...interval, run_id: 'r1' }));
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: Record<string, unknown> };
    const code =
      error instanceof ModelError
        ? error.code
        : error instanceof FleetError
          ? error.transient
            ? 'backend_unavailable'
            : 'backend_error'
          : 'internal';
    expect(body.error.code).toBe(code);
    if (error instanceof ModelError) expect(body.error).toMatchObject(error.metadata);
  });

  it('404 for an unknown route or method', async () => {
    const { trainer } = stubRuntime();
    expect((await trainer.request('/v1/nothing', post({}))).status).toBe(404);
    expect((await trainer.request('/v1/train')).status).toBe(404);
  });
});

describe('drift route', () => {
  it('POST /v1/drift passes the window; no champion is an answer, not an error', async () => {
    const { driftApp, drift } = stubRuntime();
    const res = await driftApp.request(
      '/v1/drift',
      post({ window_start: '2026-05-04T08:00:00Z', window_end: '2026-05-04T09:00:00Z' }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ champion_version: null, drifted: false, reason: 'no_champion' });
    expect(drift.drift).toHaveBeenCalledWith({
      startMs: Date.UTC(2026, 4, 4, 8),
      endMs: Date.UTC(2026, 4, 4, 9),
    });
    expect((await driftApp.request('/v1/drift', post({ window_start: 'yesterday' }))).status).toBe(400);
  });
});
