// The fleet as the dashboard shows it: which vehicles are active comes from the warehouse (a
// partition-pruned DISTINCT over the last day of event time, reused for a few seconds), their latest
// vectors from the features API's batch read, as any client of the feature store would get them.

import { tablePath } from '../../shared/model/features-by-identity.js';
import type { FeatureTableRef, Warehouse } from '../../shared/ports/warehouse.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';

/** The features API's batch limit (MAX_BATCH_VEHICLES in shared/http/online-features-routes.ts). */
const BATCH_SIZE = 100;

export interface FleetReaderOptions {
  warehouse: Warehouse;
  table: FeatureTableRef;
  featuresApiUrl: string;
  /** A vehicle is active when it has a row with an event time this recent. */
  activeSpanMs: number;
  /** Most vehicles one answer carries. */
  maxVehicles: number;
  /** How long a vehicle list is reused before the warehouse is asked again. */
  vehicleListTtlMs: number;
  now?: () => number;
}

export interface FleetVectors {
  vehicles: FeatureRow[];
  truncated: boolean;
}

export class FleetReaderError extends Error {
  override readonly name = 'FleetReaderError';
  readonly code = 'features_api_failed';
}

export class FleetReader {
  readonly #options: FleetReaderOptions;
  readonly #now: () => number;
  #list: { ids: string[]; truncated: boolean; atMs: number } | undefined;

  constructor(options: FleetReaderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async read(): Promise<FleetVectors> {
    const list = await this.#vehicleList();
    const vehicles: FeatureRow[] = [];
    for (let i = 0; i < list.ids.length; i += BATCH_SIZE) {
      const rows = await this.#batchGet(list.ids.slice(i, i + BATCH_SIZE));
      for (const row of rows) if (row !== null) vehicles.push(row);
    }
    return { vehicles, truncated: list.truncated };
  }

  /** One vehicle's latest vector, null when the features API does not know it. */
  async vector(vehicleId: string): Promise<FeatureRow | null> {
    const [row] = await this.#batchGet([vehicleId]);
    return row ?? null;
  }

  async #vehicleList(): Promise<{ ids: string[]; truncated: boolean }> {
    const { warehouse, table, activeSpanMs, maxVehicles, vehicleListTtlMs } = this.#options;
    const now = this.#now();
    // An empty list is asked again at once: the first rows land seconds after the stack starts.
    if (this.#list && this.#list.ids.length > 0 && now - this.#list.atMs < vehicleListTtlMs)
      return this.#list;
    const rows = await warehouse.query({
      sql: `SELECT DISTINCT vehicle_id FROM ${tablePath(table)}
        WHERE event_ts >= @since ORDER BY vehicle_id LIMIT ${maxVehicles + 1}`,
      params: { since: { type: 'TIMESTAMP', value: new Date(now - activeSpanMs).toISOString() } },
    });
    const ids = rows.map((row) => String(row.vehicle_id));
    this.#list = { ids: ids.slice(0, maxVehicles), truncated: ids.length > maxVehicles, atMs: now };
    return this.#list;
  }

  async #batchGet(ids: string[]): Promise<(FeatureRow | null)[]> {
    const response = await fetch(`${this.#options.featuresApiUrl}/v1/features:batchGet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vehicle_ids: ids }),
    });
    if (!response.ok) {
      throw new FleetReaderError(`features API answered ${response.status}: ${await response.text()}`);
    }
    const body = (await response.json()) as { vehicles: { features: FeatureRow | null }[] };
    return body.vehicles.map((v) => v.features);
  }
}
