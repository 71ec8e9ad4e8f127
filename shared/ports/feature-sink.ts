import type { FeatureRow } from '../rows/feature-row.js';

/**
 * A durable destination for feature rows (the BigQuery table; the `feature-rows` topic that the
 * Cloud Storage archive subscribes to). `write` resolves only when every row is durable. Writing
 * the same row again is harmless: BigQuery de-duplicates by insertId = event_id, and readers of the
 * archive and the warehouse de-duplicate by identity (vehicle_id, event_ts); the engine writes a
 * row again only when its first write may have failed. Transient failures reject with a
 * FleetError whose `transient` is true.
 */
export interface FeatureSink {
  readonly name: string;
  write(rows: readonly FeatureRow[]): Promise<void>;
}
