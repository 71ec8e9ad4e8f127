// The dashboard server's routes (hono): the page and its assets, and the JSON the page polls.
//   GET /                                the page
//   GET /assets/dashboard.{js,css}       its bundle
//   GET /api/fleet                       every active vehicle's latest vector (FleetAnswer)
//   GET /api/vehicles/{id}/windows       one vehicle's rows over time, from the warehouse
//   GET /api/health                      pipeline health, newest and recent samples

import { Hono } from 'hono';
import type { FeatureTableRef, Warehouse } from '../../shared/ports/warehouse.js';
import { VEHICLE_ID_PATTERN } from '../../shared/telemetry/telemetry-reading.js';
import type { PipelineHealthSource } from '../dev/pipeline-health.js';
import type { FleetAnswer, HealthAnswer } from './dashboard-api.js';
import type { FleetReader } from './fleet-reader.js';
import { PAGE_ASSETS, type PageBundle } from './page-bundle.js';
import { readVehicleWindows } from './vehicle-windows.js';

export interface DashboardDeps {
  page: PageBundle;
  fleet: FleetReader;
  warehouse: Warehouse;
  table: FeatureTableRef;
  /** Absent when the stack samples no health: the page then shows none. */
  health: () => PipelineHealthSource | undefined;
  tempAnomalyC: number;
  riskThreshold: number;
  /** How much event time a vehicle's charts cover, and how many rows at most. */
  vehicleSpanMs: number;
  vehicleMaxRows: number;
}

const failure = (code: string, message: string) => ({ error: { code, message } });

export function dashboardRoutes(deps: DashboardDeps): Hono {
  const app = new Hono();
  const noStore = { 'cache-control': 'no-store' };

  app.get('/', (c) => c.html(deps.page.html, 200, noStore));
  app.get(PAGE_ASSETS.js, (c) =>
    c.body(deps.page.js, 200, { 'content-type': 'text/javascript; charset=utf-8', ...noStore }),
  );
  app.get(PAGE_ASSETS.css, (c) =>
    c.body(deps.page.css, 200, { 'content-type': 'text/css; charset=utf-8', ...noStore }),
  );

  app.get('/api/fleet', async (c) => {
    const { vehicles, truncated } = await deps.fleet.read();
    const answer: FleetAnswer = {
      at: new Date().toISOString(),
      tempAnomalyC: deps.tempAnomalyC,
      riskThreshold: deps.riskThreshold,
      modelVersion: vehicles.find((v) => v.model_version !== null)?.model_version ?? null,
      vehicles,
      truncated,
    };
    return c.json(answer, 200, noStore);
  });

  app.get('/api/vehicles/:vehicleId/windows', async (c) => {
    const vehicleId = c.req.param('vehicleId');
    if (!VEHICLE_ID_PATTERN.test(vehicleId)) {
      return c.json(failure('invalid_vehicle_id', `vehicle_id must match ${VEHICLE_ID_PATTERN.source}`), 400);
    }
    const vector = await deps.fleet.vector(vehicleId);
    if (vector === null) return c.json(failure('not_found', `no features for vehicle ${vehicleId}`), 404);
    const answer = await readVehicleWindows({
      warehouse: deps.warehouse,
      table: deps.table,
      vehicleId,
      newestEventTs: vector.event_ts,
      spanMs: deps.vehicleSpanMs,
      maxRows: deps.vehicleMaxRows,
    });
    return c.json(answer, 200, noStore);
  });

  app.get('/api/health', (c) => {
    const source = deps.health();
    const answer: HealthAnswer = source
      ? { current: source.current(), history: source.history() }
      : { current: null, history: [] };
    return c.json(answer, 200, noStore);
  });

  app.notFound((c) => c.json(failure('not_found', 'unknown route'), 404));
  app.onError((error, c) => c.json(failure('unavailable', error.message), 503));
  return app;
}
