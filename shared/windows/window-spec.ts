/**
 * The rolling windows every feature row carries, and the tiles that approximate them.
 *
 * Each window keeps a ring of `tiles` tiles of `tileMs` each (the window's length in tiles plus
 * one). The row for a reading at event time t aggregates the tiles from tile(t) - (tiles - 1)
 * up to and including tile(t), where tile(x) = floor(x / tileMs). Error bound of tiling, exactly:
 *
 *  - the window starts on a tile boundary in (t - length - tileMs, t - length]: it covers at least
 *    `length` and at most `length + tileMs` of event time before t (1m: 60-70 s, 5m: 300-330 s,
 *    15m: 900-960 s, 1h: 3600-3900 s);
 *  - for an out-of-order reading, readings already applied whose event time is later than t but in
 *    t's tile are included (at most one tile past t);
 *  - tiles that left the vehicle's ring (older than the newest event time's window) are gone: an
 *    out-of-order reading's window holds only the retained part, and a reading older than a whole
 *    window behind the newest one adds nothing to that window (see the README's semantics section).
 *
 * Within those bounds aggregates are exact (count, sum, sum of squares, min, max are mergeable);
 * the parity test checks this against an independent DuckDB recomputation.
 */
export interface WindowSpec {
  /** Column suffix in feature rows: speed_mean_1m, count_5m, ... */
  readonly name: '1m' | '5m' | '15m' | '1h';
  readonly lengthMs: number;
  readonly tileMs: number;
  /** Ring size: length / tile + 1, so the ring always spans at least the window's length. */
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
