/**
 * The rolling windows every feature row carries, and the tiles that approximate them.
 *
 * Each window keeps a ring of tiles of `tileMs` (mergeable aggregates: count, integer sums and sums
 * of squares, min, max, distance) covering the allowed lateness plus its length, so a reading
 * applied out of order finds every tile of its windows. tile(x) = floor(x / tileMs).
 *
 * The row of a reading at event time t holds, for each window, the tiles tile(t) - length/tileMs
 * up to t, and nothing older or newer. Error bounds, exactly:
 *
 *  - far edge: the window starts on a tile boundary in (t - length - tileMs, t - length]: it covers
 *    at least `length` and at most `length + tileMs` of event time (1m: 60-70 s, 5m: 300-330 s,
 *    15m: 900-960 s, 1h: 3600-3900 s);
 *  - near edge, in order (t is the vehicle's newest event time): exact, no reading after t exists;
 *  - near edge, out of order: t's own tile of each window is composed from the finer windows' tiles
 *    up to t's 10-second tile, so readings applied earlier whose event time is after t count only
 *    when they share t's 10-second tile (at most 10 s past t, whatever the window).
 *
 * Distance is the sum of the segments between consecutive readings in event order; a segment
 * belongs to the tile where it starts, and an out-of-order reading splits the segment it falls
 * into (the positions of the readings within the allowed lateness are kept for that). Every
 * applied reading of the vehicle in (t - length, t] is in its row; once all readings are in, the
 * windows at the newest event time are the same bytes whatever the arrival order (integer sums).
 * The parity and property tests check this against an independent recomputation.
 */
export interface WindowSpec {
  /** Column suffix in feature rows: speed_mean_1m, count_5m, ... */
  readonly name: '1m' | '5m' | '15m' | '1h';
  readonly lengthMs: number;
  readonly tileMs: number;
  /** Tiles in one window: length / tile + 1 (the ring holds more: see apply-readings.lua). */
  readonly tiles: number;
}

function window(name: WindowSpec['name'], lengthMs: number, tileMs: number): WindowSpec {
  return { name, lengthMs, tileMs, tiles: lengthMs / tileMs + 1 };
}

export const WINDOWS: readonly WindowSpec[] = [
  window('1m', 60_000, 10_000),
  window('5m', 300_000, 30_000),
  window('15m', 900_000, 60_000),
  window('1h', 3_600_000, 300_000),
];

export function tileIndex(eventTsMs: number, tileMs: number): number {
  return Math.floor(eventTsMs / tileMs);
}
