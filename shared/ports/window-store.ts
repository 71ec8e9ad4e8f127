import type {
  LatestVector,
  ReadingValues,
  StoredReading,
  WindowSnapshot,
} from '../windows/window-snapshot.js';

/**
 * A reading as the store keeps it until its row is durable: the first applied version's event_id
 * and values, the window snapshot computed when it was applied, and the model version that scored
 * it. A retry rebuilds the very same row from it.
 */
export type { StoredReading };

/**
 * What happened to one reading when it met its vehicle's windows. A reading's identity is its
 * vehicle and instant (event time in ms); its event_id is an attribute.
 */
export type ApplyResult =
  /** First time seen: applied (in order or out of order); write the row built from `snapshot`. */
  | { outcome: 'new'; snapshot: WindowSnapshot }
  /**
   * Seen before with the same values. `pending` is the first version while its row is not yet
   * durable (write that row again: this may be the retry of a failed write); null once durable,
   * or when the first version came earlier in the same call (its row is written once): write
   * nothing.
   */
  | { outcome: 'duplicate'; pending: StoredReading | null }
  /** Seen before with other values: the first applied version stands; nothing is written. */
  | { outcome: 'conflict' }
  /** Older than the vehicle's newest event time minus the allowed lateness: not applied. */
  | { outcome: 'late' };

export type ApplyOutcome = ApplyResult['outcome'];

export interface WindowInput {
  eventId: string;
  reading: ReadingValues;
}

/** Rolling-window state per vehicle, with dedupe marks and the latest vector (Redis in production). */
export interface WindowStore {
  /**
   * Apply one vehicle's readings, in the given order, atomically; one result per input.
   * `modelVersion` (the model that will score the new rows) is kept with their stored rows.
   */
  apply(
    vehicleId: string,
    inputs: readonly WindowInput[],
    nowMs: number,
    modelVersion?: string | null,
  ): Promise<ApplyResult[]>;
  /**
   * The rows of these readings (vehicle, event time in ms) are durable in every sink: drop their
   * stored snapshots and keep only the dedupe marks, so a re-send writes nothing again.
   */
  markDurable(vehicleId: string, eventTsMs: readonly number[]): Promise<void>;
  /** The current vector per vehicle (windows at its newest event time), null for unknown vehicles. */
  latest(vehicleIds: readonly string[]): Promise<(LatestVector | null)[]>;
}
