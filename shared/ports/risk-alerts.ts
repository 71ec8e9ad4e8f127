import type { FeatureRow } from '../rows/feature-row.js';

/** Where high-risk rows raise alerts (the `alerts` topic), at most once per vehicle episode. */
export interface RiskAlerts {
  /** Given durable, scored rows; never rejects (an alert is a side effect, not the row's fate). */
  raise(rows: readonly FeatureRow[]): Promise<void>;
}
