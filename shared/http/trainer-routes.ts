import { Hono } from 'hono';
import { z } from 'zod';
import { MODEL_VERSION_PATTERN } from '../model/model-version.js';
import { RUN_ID_PATTERN } from '../retraining/model-registry.js';
import type { ModelRuntime } from '../runtime/model-runtime.js';
import { answerError, intervalSchema, jsonBody, RequestError } from './retrain-errors.js';

const runId = z
  .string()
  .regex(RUN_ID_PATTERN, 'run_id: 1-128 of A-Z a-z 0-9 _ . : - (starting alphanumeric)');
const version = z.string().regex(MODEL_VERSION_PATTERN, 'not a model version');
const DataInterval = intervalSchema('data_interval_start', 'data_interval_end');
const interval = (body: { data_interval_start: number; data_interval_end: number }) => ({
  startMs: body.data_interval_start,
  endMs: body.data_interval_end,
});

const TrainBody = DataInterval.and(z.object({ run_id: runId }));
const VersionBody = z.object({ version });
const PromoteBody = z.object({
  version,
  /** Promote only if the champion pointer is still at this generation (default: the gate's). */
  if_generation: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
});
const RecordBody = z.object({
  run_id: runId,
  status: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'status: lower_snake_case, at most 32 characters'),
  details: z.unknown().optional(),
});

/**
 * The trainer function's routes (every body JSON, every answer JSON):
 *
 *   POST /v1/quality {data_interval_start, data_interval_end} → {passed, rows, stored_rows, checked, failures}
 *   POST /v1/train   {data_interval_start, data_interval_end, run_id} → {version, reused, metrics}
 *   POST /v1/gate    {version} → {promote, reasons, challenger_auc, champion_version, champion_auc, ...}
 *   POST /v1/promote {version, if_generation?} → {promoted, champion}
 *   POST /v1/record  {run_id, status, details} → {recorded, run_id, object}
 *   GET  /v1/runs/{run_id} → the run record
 */
export function trainerRoutes(runtime: () => Promise<ModelRuntime>): Hono {
  const app = new Hono();
  let current: ModelRuntime | undefined;
  const service = async () => {
    current = await runtime();
    return current.retrain;
  };

  app.post('/v1/quality', async (c) => {
    const body = await jsonBody(c, DataInterval);
    const report = await (await service()).quality(interval(body));
    return c.json({
      passed: report.passed,
      rows: report.rows,
      stored_rows: report.storedRows,
      checked: report.checked,
      failures: report.failures,
    });
  });
  app.post('/v1/train', async (c) => {
    const body = await jsonBody(c, TrainBody);
    return c.json(await (await service()).train({ interval: interval(body), runId: body.run_id }));
  });
  app.post('/v1/gate', async (c) => {
    const body = await jsonBody(c, VersionBody);
    return c.json(await (await service()).gate(body.version));
  });
  app.post('/v1/promote', async (c) => {
    const body = await jsonBody(c, PromoteBody);
    return c.json(await (await service()).promote(body.version, body.if_generation));
  });
  app.post('/v1/record', async (c) => {
    const body = await jsonBody(c, RecordBody);
    return c.json(await (await service()).record(body.run_id, body.status, body.details ?? null));
  });
  app.get('/v1/runs/:run_id', async (c) => {
    const id = runId.safeParse(c.req.param('run_id'));
    if (!id.success) throw new RequestError('invalid_request', 'not a run id');
    return c.json(await (await service()).run(id.data));
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError(answerError(() => current?.logger));
  return app;
}
