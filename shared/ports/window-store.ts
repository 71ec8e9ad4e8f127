import type { LatestVector, ReadingValues, WindowSnapshot } from '../windows/window-snapshot.js';

/** What happened to one reading when it met the vehicle's windows. */
export type ApplyOutcome =
  /** First time seen: applied (in order or out of order); the snapshot was stored with its mark. */
  | 'new'
  /** Seen before with the same values: nothing changed; the stored snapshot comes back. */
  | 'duplicate'
  /** Seen before with other values under the same event_id: the first version stands. */
  | 'conflict'
  /** Older than the vehicle's newest event time minus the allowed lateness: not applied. */
  | 'late';

export interface ApplyResult {
  outcome: ApplyOutcome;
  snapshot: WindowSnapshot;
}

export interface WindowInput {
  eventId: string;
  reading: ReadingValues;
}

/** Rolling-window state per vehicle, with dedupe marks and the latest vector (Redis in production). */
export interface WindowStore {
  /** Apply one vehicle's readings, in the given order, atomically; one result per input. */
  apply(vehicleId: string, inputs: readonly WindowInput[], nowMs: number): Promise<ApplyResult[]>;
  /** The latest in-order vector per vehicle, null for unknown (or expired) vehicles. */
  latest(vehicleIds: readonly string[]): Promise<(LatestVector | null)[]>;
}
