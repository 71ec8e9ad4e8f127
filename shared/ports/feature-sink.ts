import type { FeatureRow } from '../features/feature-row.js';

/**
 * A durable destination for feature rows (BigQuery table, GCS objects). `write` resolves only
 * when every row is durable and is idempotent per event_id: writing the same row twice leaves one
 * row (BigQuery insertId = event_id; GCS objects named by content, de-duplicated by event_id
 * downstream). Transient failures reject with a FleetError whose `transient` is true.
 */
export interface FeatureSink {
  readonly name: string;
  write(rows: readonly FeatureRow[]): Promise<void>;
}
