import { Hono } from 'hono';
import { scoreRows } from '../features/risk-scoring.js';
import type { Logger } from '../logger.js';
import type { ModelScoring } from '../ports/model-scoring.js';
import type { WindowStore } from '../ports/window-store.js';
import { buildFeatureRow, type FeatureRow } from '../rows/feature-row.js';
import { VEHICLE_ID_PATTERN } from '../telemetry/telemetry-reading.js';

/** Most vehicles one batch read may ask for. */
export const MAX_BATCH_VEHICLES = 100;

export interface OnlineFeaturesDeps {
  windows: WindowStore;
  logger: Logger;
  /** Scores each vector with the current champion (model_version and risk_score null without one). */
  models?: ModelScoring;
}

const failure = (code: string, message: string) => ({ error: { code, message } });

/**
 * The online features API: each vehicle's current vector (its windows at its newest event time),
 * straight from the window store.
 *   GET  /v1/vehicles/{vehicle_id}/features          one vehicle (404 when unknown)
 *   GET  /v1/features?vehicle_id=a&vehicle_id=b       batch read
 *   POST /v1/features:batchGet {"vehicle_ids":[...]}  batch read
 * A batch answers every id in order with its row or null (unknown), up to MAX_BATCH_VEHICLES.
 * Errors are JSON `{"error": {"code", "message"}}`; the window store unreachable is 503.
 */
export function onlineFeaturesRoutes(deps: () => Promise<OnlineFeaturesDeps>): Hono {
  const app = new Hono();

  app.get('/v1/vehicles/:vehicleId/features', async (c) => {
    const id = c.req.param('vehicleId');
    if (!VEHICLE_ID_PATTERN.test(id)) {
      return c.json(failure('invalid_vehicle_id', `vehicle_id must match ${VEHICLE_ID_PATTERN.source}`), 400);
    }
    const [row] = await readRows(await deps(), [id]);
    return row ? c.json(row) : c.json(failure('not_found', `no features for vehicle ${id}`), 404);
  });
  app.all('/v1/vehicles/:vehicleId/features', (c) => c.json(failure('method_not_allowed', 'use GET'), 405));

  app.get('/v1/features', async (c) => batch(c, await deps(), c.req.queries('vehicle_id') ?? []));
  app.post('/v1/features:batchGet', async (c) => {
    const body: unknown = await c.req.json().catch(() => null);
    const ids = (body as { vehicle_ids?: unknown } | null)?.vehicle_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      return c.json(failure('invalid_request', 'body must be {"vehicle_ids": ["...", ...]}'), 400);
    }
    return batch(c, await deps(), ids as string[]);
  });

  app.notFound((c) => c.json(failure('not_found', 'unknown route'), 404));
  app.onError(async (error, c) => {
    (await deps().catch(() => undefined))?.logger.error({ err: error }, 'features request failed');
    return c.json(failure('unavailable', 'feature store unavailable, retry'), 503);
  });
  return app;
}

type JsonContext = { json: (body: unknown, status?: 200 | 400) => Response };

async function batch(c: JsonContext, deps: OnlineFeaturesDeps, ids: string[]): Promise<Response> {
  if (ids.length === 0) return c.json(failure('invalid_request', 'give at least one vehicle_id'), 400);
  if (ids.length > MAX_BATCH_VEHICLES) {
    return c.json(failure('too_many_vehicles', `at most ${MAX_BATCH_VEHICLES} vehicle ids per request`), 400);
  }
  const invalid = ids.findIndex((id) => !VEHICLE_ID_PATTERN.test(id));
  if (invalid >= 0) {
    return c.json(failure('invalid_vehicle_id', `vehicle_ids[${invalid}] is not a valid vehicle id`), 400);
  }
  const rows = await readRows(deps, ids);
  return c.json({ vehicles: ids.map((id, i) => ({ vehicle_id: id, features: rows[i] ?? null })) });
}

async function readRows(deps: OnlineFeaturesDeps, ids: string[]): Promise<(FeatureRow | null)[]> {
  const latest = await deps.windows.latest(ids);
  const version = deps.models?.currentVersion() ?? null;
  const rows = latest.map((vector, i) => {
    if (vector === null) return null;
    const row = buildFeatureRow(
      { ...vector.reading, event_id: vector.eventId, vehicle_id: ids[i]! },
      vector.snapshot,
    );
    row.model_version = version;
    return row;
  });
  if (deps.models)
    await scoreRows(
      rows.filter((row): row is FeatureRow => row !== null),
      deps.models,
    );
  return rows;
}
