import { Hono } from 'hono';
import type { ModelRuntime } from '../runtime/model-runtime.js';
import { answerError, intervalSchema, jsonBody } from './retrain-errors.js';

const Window = intervalSchema('window_start', 'window_end');

/**
 * The drift function's route:
 *
 *   POST /v1/drift {window_start, window_end} → {champion_version, psi: {feature: value}, max_psi,
 *        threshold, drifted, key_features, drifted_features, rows, reason?}
 */
export function driftRoutes(runtime: () => Promise<ModelRuntime>): Hono {
  const app = new Hono();
  let current: ModelRuntime | undefined;
  app.post('/v1/drift', async (c) => {
    const body = await jsonBody(c, Window);
    current = await runtime();
    return c.json(await current.drift.drift({ startMs: body.window_start, endMs: body.window_end }));
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError(answerError(() => current?.logger));
  return app;
}
