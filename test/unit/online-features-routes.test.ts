// The online features API's routes, driven in-process (hono's app.request) over an in-memory window
// store: status codes, error codes and bodies a client relies on.
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_VEHICLES, onlineFeaturesRoutes } from '../../shared/http/online-features-routes.js';
import { createLogger } from '../../shared/logger.js';
import type { WindowStore } from '../../shared/ports/window-store.js';
import type { LatestVector } from '../../shared/windows/window-snapshot.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';

const vector: LatestVector = {
  eventId: 'e-1',
  reading: {
    event_ts_ms: Date.UTC(2026, 2, 1, 8),
    speed_kmh: 50,
    engine_temp_c: 90,
    gps_lat: 48,
    gps_lon: 11,
    fuel_level_pct: null,
    rpm: 1500,
  },
  snapshot: {
    status: 'in_order',
    fingerprint: 1,
    processedTsMs: Date.UTC(2026, 2, 1, 8, 0, 1),
    windows: WINDOWS.map(() => ({
      count: 1,
      speed: { mean: 50, min: 50, max: 50, std: 0 },
      temp: { mean: 90, min: 90, max: 90, std: 0 },
      distanceKm: 0,
    })),
  },
};

function app(options: { failing?: boolean } = {}) {
  const windows: WindowStore = {
    apply: async () => [],
    markDurable: async () => {},
    latest: async (ids) => {
      if (options.failing) throw new Error('redis down');
      return ids.map((id) => (id === 'truck-1' ? vector : null));
    },
  };
  const logger = createLogger({ level: 'silent' });
  return onlineFeaturesRoutes(async () => ({ windows, logger }));
}

describe('online features API', () => {
  it.each([
    ['GET', '/v1/vehicles/truck-1/features', undefined, 200, undefined],
    ['GET', '/v1/vehicles/truck-9/features', undefined, 404, 'not_found'],
    ['GET', '/v1/vehicles/bad%20id/features', undefined, 400, 'invalid_vehicle_id'],
    ['POST', '/v1/vehicles/truck-1/features', '{}', 405, 'method_not_allowed'],
    ['GET', '/v1/features', undefined, 400, 'invalid_request'],
    ['GET', '/v1/features?vehicle_id=truck-1&vehicle_id=..', undefined, 400, 'invalid_vehicle_id'],
    ['POST', '/v1/features:batchGet', '{"vehicle_ids": 3}', 400, 'invalid_request'],
    ['POST', '/v1/features:batchGet', 'not json', 400, 'invalid_request'],
    ['GET', '/v2/anything', undefined, 404, 'not_found'],
  ])('%s %s answers %i %s', async (method, path, body, status, code) => {
    const response = await app().request(path, { method, ...(body === undefined ? {} : { body }) });
    expect(response.status).toBe(status);
    const json = (await response.json()) as { error?: { code: string }; vehicle_id?: string };
    if (code === undefined) expect(json.vehicle_id).toBe('truck-1');
    else expect(json.error?.code).toBe(code);
  });

  it('answers a batch in order, null for unknown vehicles, by query and by body', async () => {
    const byQuery = await app().request('/v1/features?vehicle_id=truck-9&vehicle_id=truck-1');
    const byBody = await app().request('/v1/features:batchGet', {
      method: 'POST',
      body: JSON.stringify({ vehicle_ids: ['truck-9', 'truck-1'] }),
    });
    for (const response of [byQuery, byBody]) {
      expect(response.status).toBe(200);
      const { vehicles } = (await response.json()) as {
        vehicles: { vehicle_id: string; features: { count_1m: number } | null }[];
      };
      expect(vehicles.map((v) => v.vehicle_id)).toEqual(['truck-9', 'truck-1']);
      expect(vehicles[0]!.features).toBeNull();
      expect(vehicles[1]!.features?.count_1m).toBe(1);
    }
  });

  it(`refuses more than ${MAX_BATCH_VEHICLES} vehicles in one batch`, async () => {
    const ids = Array.from({ length: MAX_BATCH_VEHICLES + 1 }, (_, i) => `v${i}`);
    const response = await app().request('/v1/features:batchGet', {
      method: 'POST',
      body: JSON.stringify({ vehicle_ids: ids }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('too_many_vehicles');
  });

  it('answers 503 unavailable when the window store fails', async () => {
    const response = await app({ failing: true }).request('/v1/vehicles/truck-1/features');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unavailable');
  });
});
