import type { FeatureTableRef } from '../ports/warehouse.js';
import { ModelError } from './model-error.js';

/**
 * Where the retraining loop reads feature rows: one row per identity (vehicle_id, event_ts), the
 * first processed copy (processed_ts, then event_id), through the identity view the feature sink
 * creates beside the table (`<table>_by_identity`, identityViewSql in
 * shared/adapters/bigquery-feature-sink.ts; a unit test holds the two names together).
 */

/** The identity view of a features table: `features` → `features_by_identity`. */
export function identityViewOf(table: string): string {
  return `${table}_by_identity`;
}

const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;

/** `project.dataset.table`, backticked, after checking every part (it is SQL text). */
export function tablePath(ref: FeatureTableRef, table = ref.table): string {
  if (!PROJECT.test(ref.projectId) || !IDENTIFIER.test(ref.dataset) || !IDENTIFIER.test(table)) {
    throw new ModelError('invalid_request', `not a table path: ${ref.projectId}.${ref.dataset}.${table}`);
  }
  return `\`${ref.projectId}.${ref.dataset}.${table}\``;
}

/**
 * A SELECT of every column of the rows whose event_ts is in [@start, @end), one per identity. The
 * interval bounds are TIMESTAMP parameters named `start` and `end` (the partition filter).
 */
export function featuresByIdentitySql(ref: FeatureTableRef): string {
  return `SELECT * FROM ${tablePath(ref, identityViewOf(ref.table))}
      WHERE event_ts >= @start AND event_ts < @end`;
}
