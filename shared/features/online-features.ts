import type { WindowStore } from '../ports/window-store.js';
import { VEHICLE_ID_PATTERN } from '../telemetry/telemetry-reading.js';
import { buildFeatureRow, type FeatureRow } from './feature-row.js';

/** Most vehicles one batch read may ask for. */
export const MAX_BATCH_VEHICLES = 100;

export interface HttpResult {
  status: number;
  body: unknown;
}

export interface FeaturesRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

const singlePath = /^\/v1\/vehicles\/([^/]+)\/features\/?$/;

const error = (status: number, code: string, message: string): HttpResult => ({
  status,
  body: { error: { code, message } },
});

/**
 * The online features API: the latest feature vector per vehicle, straight from the window store.
 *   GET  /v1/vehicles/{vehicle_id}/features         one vehicle (404 when unknown)
 *   GET  /v1/features?vehicle_id=a&vehicle_id=b      batch read
 *   POST /v1/features:batchGet {"vehicle_ids":[...]} batch read
 * A batch answers every id in order with its row or null (unknown), up to MAX_BATCH_VEHICLES.
 */
export async function handleFeaturesRequest(
  store: WindowStore,
  request: FeaturesRequest,
): Promise<HttpResult> {
  const single = singlePath.exec(request.path);
  if (single) {
    if (request.method !== 'GET') return error(405, 'method_not_allowed', 'use GET');
    const id = decodePathSegment(single[1]!);
    if (id === null || !VEHICLE_ID_PATTERN.test(id)) {
      return error(400, 'invalid_vehicle_id', `vehicle_id must match ${VEHICLE_ID_PATTERN.source}`);
    }
    const [row] = await readRows(store, [id]);
    return row ? { status: 200, body: row } : error(404, 'not_found', `no features for vehicle ${id}`);
  }
  if (request.path === '/v1/features' && request.method === 'GET') {
    const raw = request.query.vehicle_id;
    return batch(store, raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]);
  }
  if (request.path === '/v1/features:batchGet' && request.method === 'POST') {
    const ids = (request.body as { vehicle_ids?: unknown } | null)?.vehicle_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      return error(400, 'invalid_request', 'body must be {"vehicle_ids": ["...", ...]}');
    }
    return batch(store, ids as string[]);
  }
  return error(404, 'not_found', 'unknown route');
}

async function batch(store: WindowStore, ids: string[]): Promise<HttpResult> {
  if (ids.length === 0) return error(400, 'invalid_request', 'give at least one vehicle_id');
  if (ids.length > MAX_BATCH_VEHICLES) {
    return error(400, 'too_many_vehicles', `at most ${MAX_BATCH_VEHICLES} vehicle ids per request`);
  }
  const invalid = ids.findIndex((id) => !VEHICLE_ID_PATTERN.test(id));
  if (invalid >= 0)
    return error(400, 'invalid_vehicle_id', `vehicle_ids[${invalid}] is not a valid vehicle id`);
  const rows = await readRows(store, ids);
  return {
    status: 200,
    body: { vehicles: ids.map((id, i) => ({ vehicle_id: id, features: rows[i] ?? null })) },
  };
}

async function readRows(store: WindowStore, ids: string[]): Promise<(FeatureRow | null)[]> {
  const latest = await store.latest(ids);
  return latest.map((vector, i) =>
    vector === null
      ? null
      : buildFeatureRow(
          { ...vector.reading, event_id: vector.eventId, vehicle_id: ids[i]! },
          vector.snapshot,
        ),
  );
}

function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
