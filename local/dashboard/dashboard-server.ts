// The local dashboard: a small HTTP server beside the stack (started by `npm run dev`, on
// --dashboard-port or a free port) serving one page that polls it for the fleet, a vehicle's
// windows and the pipeline's health. It reads only what any user of the feature store could: the
// features API over HTTP and the warehouse through the official BigQuery client.

import type { AddressInfo } from 'node:net';
import type { BigQuery } from '@google-cloud/bigquery';
import { serve } from '@hono/node-server';
import { BigQueryWarehouse } from '../../shared/adapters/bigquery-warehouse.js';
import type { FleetConfig } from '../../shared/config.js';
import { TEMP_ANOMALY_C } from '../../shared/rows/feature-row.js';
import type { PipelineHealthSource } from '../dev/pipeline-health.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { FleetReader } from './fleet-reader.js';
import { bundlePage } from './page-bundle.js';

/** Vehicles with a reading in the last day of event time are the fleet; at most this many shown. */
const FLEET_ACTIVE_SPAN_MS = 24 * 3_600_000;
const FLEET_MAX_VEHICLES = 1000;
const VEHICLE_LIST_TTL_MS = 5000;
/** A vehicle's charts: its last hour of event time, one row per reading at 1 Hz. */
const VEHICLE_SPAN_MS = 3_600_000;
const VEHICLE_MAX_ROWS = 3600;

export interface Dashboard {
  url: string;
  stop(): Promise<void>;
}

export async function startDashboard(options: {
  /** 0 = a free port. */
  port: number;
  config: FleetConfig;
  bigquery: BigQuery;
  featuresApiUrl: string;
  health: () => PipelineHealthSource | undefined;
}): Promise<Dashboard> {
  const { config } = options;
  const warehouse = new BigQueryWarehouse(options.bigquery, { location: config.bigquery.location });
  const table = {
    projectId: config.projectId,
    dataset: config.bigquery.dataset,
    table: config.bigquery.featuresTable,
  };
  const app = dashboardRoutes({
    page: await bundlePage(),
    fleet: new FleetReader({
      warehouse,
      table,
      featuresApiUrl: options.featuresApiUrl,
      activeSpanMs: FLEET_ACTIVE_SPAN_MS,
      maxVehicles: FLEET_MAX_VEHICLES,
      vehicleListTtlMs: VEHICLE_LIST_TTL_MS,
    }),
    warehouse,
    table,
    health: options.health,
    tempAnomalyC: TEMP_ANOMALY_C,
    riskThreshold: config.alerts.riskThreshold,
    vehicleSpanMs: VEHICLE_SPAN_MS,
    vehicleMaxRows: VEHICLE_MAX_ROWS,
  });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolveListen, rejectListen) => {
      const started = serve(
        { fetch: app.fetch, port: options.port, hostname: '127.0.0.1' },
        (info: AddressInfo) => resolveListen({ server: started, port: info.port }),
      );
      started.once('error', rejectListen);
    },
  );
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        // The page polls over keep-alive connections; close them so the stop does not wait on them.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
