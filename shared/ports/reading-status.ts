import type { StoredReading } from './window-store.js';

/** A reading as the window store knows it: its instant and the fingerprint of its values. */
export interface ReadingRef {
  eventTsMs: number;
  /** `encodeReadingArg(values)`'s fingerprint (shared/windows/window-snapshot.ts). */
  fingerprint: number;
}

/** What became of one reading in its vehicle's windows, as far as the store can tell now. */
export type ReadingState =
  /** Applied; its row is not durable yet, so the store still holds the row's inputs. */
  | { state: 'stored'; stored: StoredReading }
  /** Applied with these values and its row is durable: the store keeps only the dedupe mark. */
  | { state: 'applied' }
  /** Another version of this reading (same vehicle and instant, other values) was applied. */
  | { state: 'conflict' }
  /** Older than the vehicle's newest event time minus the allowed lateness, and not applied. */
  | { state: 'late' }
  /** Not applied, not yet. */
  | { state: 'pending' };

/**
 * Read-only view of the window store's dedupe state, for a client that waits on a reading it sent
 * (the ingest gateway's `?wait=true`) without talking to the function that applies it.
 */
export interface ReadingStatusReader {
  readingStates(vehicleId: string, readings: readonly ReadingRef[]): Promise<ReadingState[]>;
}
