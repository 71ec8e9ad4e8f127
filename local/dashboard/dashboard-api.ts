// The dashboard server's JSON answers, shared by the server (local/dashboard/) and the page
// (local/dashboard/page/). Types and route names only: the page bundles nothing from the server.

import type { FeatureRow } from '../../shared/rows/feature-row.js';
import type { PipelineHealth } from '../dev/pipeline-health.js';

export const DASHBOARD_API = {
  fleet: '/api/fleet',
  health: '/api/health',
  vehicleWindows: (vehicleId: string) => `/api/vehicles/${encodeURIComponent(vehicleId)}/windows`,
} as const;

/** GET /api/fleet: every active vehicle's latest vector, as the features API serves it. */
export interface FleetAnswer {
  at: string;
  /** Engine temperature above which a reading is an anomaly (the feature row's temp_anomaly). */
  tempAnomalyC: number;
  /** Risk at or above which the pipeline raises an alert. */
  riskThreshold: number;
  /** The model that scored the vectors, null when no model is promoted. */
  modelVersion: string | null;
  /** Sorted by vehicle_id; vehicles the warehouse knows but the features API does not are left out. */
  vehicles: FeatureRow[];
  /** More vehicles are active than one answer carries (FLEET_MAX_VEHICLES). */
  truncated: boolean;
}

/** GET /api/health: the newest pipeline health sample and the recent ones, oldest first. */
export interface HealthAnswer {
  current: PipelineHealth | null;
  history: readonly PipelineHealth[];
}

/** Columns of a vehicle's rows the page charts, in the order of `series`. */
export const WINDOW_SERIES_COLUMNS = [
  'speed_kmh',
  'speed_mean_1m',
  'speed_mean_5m',
  'speed_mean_15m',
  'speed_mean_1h',
  'engine_temp_c',
  'temp_mean_1m',
  'temp_mean_5m',
  'temp_mean_15m',
  'temp_mean_1h',
  'temp_max_1h',
  'distance_km_1h',
  'risk_score',
] as const;
export type WindowSeriesColumn = (typeof WINDOW_SERIES_COLUMNS)[number];

/** GET /api/vehicles/{id}/windows: the vehicle's feature rows from the warehouse, column-wise. */
export interface VehicleWindowsAnswer {
  vehicleId: string;
  /** Event time span the rows cover, ending at the vehicle's newest event time. */
  from: string;
  to: string;
  /** Event times in epoch seconds, ascending (uPlot's x axis). */
  time: number[];
  series: Record<WindowSeriesColumn, (number | null)[]>;
}
