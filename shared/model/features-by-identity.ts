import type { FeatureTableRef } from '../ports/warehouse.js';
import { ModelError } from './model-error.js';

/**
 * Where the retraining loop reads feature rows: one row per identity (vehicle_id, event_ts), the
 * first applied version (earliest processed_ts) when the table holds copies (insertId de-duplication
 * is best effort). The de-duplicating view by identity is named here; until it exists in every
 * warehouse the same de-duplication runs inline. One switch, one place.
 */
export const FEATURES_BY_IDENTITY_VIEW = 'features_by_identity';
export const READ_THROUGH_VIEW = false;

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
  if (READ_THROUGH_VIEW) {
    return `SELECT * FROM ${tablePath(ref, FEATURES_BY_IDENTITY_VIEW)}
      WHERE event_ts >= @start AND event_ts < @end`;
  }
  return `SELECT * FROM ${tablePath(ref)}
      WHERE event_ts >= @start AND event_ts < @end
      QUALIFY ROW_NUMBER() OVER (PARTITION BY vehicle_id, event_ts ORDER BY processed_ts, event_id) = 1`;
}
