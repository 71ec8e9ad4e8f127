// An offline recomputation of the rolling windows with SQL in DuckDB (in memory), independent of the
// Redis script. From nothing but the arrivals in order it re-derives identity, head and lateness per
// vehicle, the GPS segments between consecutive applied readings, and the row of every applied
// reading; and, from the whole applied set, each vehicle's windows at its newest event time.
//
// Semantics (window-spec.ts, DESIGN.md "Semantics that must hold"):
// - identity is (vehicle, event time in ms); the first arrival of an identity is the reading. It is
//   late (never applied) when older than the vehicle's newest applied event time minus the allowed
//   lateness; a later arrival of an applied identity is a duplicate (same values) or a conflict
//   (other values); a later arrival of a late identity is late again (no dedupe mark);
// - the row of an applied reading at t holds, per window of length `len` and tile `T`, every reading
//   applied up to and including it with event time in [floor(t / T) * T - len, end of t's 10 s tile);
// - distance is the sum of the segments between consecutive applied readings in event order, each
//   counted where it starts: a row sums the segments, as they are when it is applied, that start in
//   its window's range.
//
// Rather than joining every pair of readings, each tile's running aggregate in arrival order is kept
// (readings, and every change to the length of a segment starting in it: a new segment from the
// head, or an out-of-order reading splitting the segment it falls into), and each row reads the
// state of each tile of its range as of its own arrival (ASOF join): whole tiles of the window
// before t's tile, then 10 s tiles up to t's own.
//
// Independently of the tiles, per row the documented bounds are recomputed from exact event-time
// ranges over the readings applied so far: at least those in [t - len, t], at most those in
// [t - len - T + 1 ms, end of t's 10 s tile).

import {
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import type { LatestVector } from '../../shared/windows/window-snapshot.js';

export interface RecomputedWindow {
  name: string;
  lengthMs: number;
  tileMs: number;
}

export interface ArrivalRecord {
  seq: number;
  /** The arrival's processing time (processed_ts of its row if it is the first of its identity). */
  nowMs: number;
  reading: TelemetryReading;
}

/** A reading's identity: its vehicle and its instant. */
export function identityOf(vehicleId: string, eventTsMs: number): string {
  return `${vehicleId}@${eventTsMs}`;
}

/** Expected row values, window columns named as in FeatureRow. */
export type ExpectedColumns = Record<string, number | null>;

/** The windows as documented in window-spec.ts; the recomputation uses these, not the engine's table. */
export const DOCUMENTED_WINDOWS = [
  { name: '1m', lengthMs: 60_000, tileMs: 10_000, tiles: 7 },
  { name: '5m', lengthMs: 300_000, tileMs: 30_000, tiles: 11 },
  { name: '15m', lengthMs: 900_000, tileMs: 60_000, tiles: 16 },
  { name: '1h', lengthMs: 3_600_000, tileMs: 300_000, tiles: 13 },
] as const;

/** A latest vector's windows as row columns (statistics unrounded float32). */
export function latestColumns(latest: LatestVector): ExpectedColumns {
  const columns: ExpectedColumns = {};
  for (const [i, w] of DOCUMENTED_WINDOWS.entries()) {
    const agg = latest.snapshot.windows[i]!;
    columns[`count_${w.name}`] = agg.count;
    for (const stat of ['mean', 'min', 'max', 'std'] as const) {
      columns[`speed_${stat}_${w.name}`] = agg.speed[stat];
      columns[`temp_${stat}_${w.name}`] = agg.temp[stat];
    }
    columns[`distance_km_${w.name}`] = agg.distanceKm;
  }
  return columns;
}

export interface WindowBounds {
  /** Readings applied up to this one in [t - len, t]: the row holds at least these. */
  atLeast: number;
  /** Readings applied up to this one in [t - len - T + 1 ms, end of t's 10 s tile): at most these. */
  atMost: number;
  /** Mean speed over the exact window [t - len, t], to measure what the far edge's extra tile does. */
  exactSpeedMean: number;
}

export interface RecomputedRow {
  /** The first arrival's event_id (a duplicate's row carries it too). */
  eventId: string;
  status: 'in_order' | 'out_of_order';
  processedTsMs: number;
  /** How far behind the vehicle's newest event time the reading was applied (0 in order). */
  behindHeadMs: number;
  columns: ExpectedColumns;
  bounds: Record<string, WindowBounds>;
}

export interface RecomputedFinal {
  /** The newest applied reading (first version): its event_id and event time. */
  eventId: string;
  eventTsMs: number;
  /** The windows at the newest event time over every applied reading (stats unrounded). */
  columns: ExpectedColumns;
  /** Per window: readings in [newest - len, newest] and in [newest - len - T + 1 ms, newest]. */
  bounds: Record<string, { atLeast: number; atMost: number }>;
}

export interface Recomputation {
  /** Per applied identity (identityOf), its row. */
  rows: Map<string, RecomputedRow>;
  /** Identities whose first arrival was beyond the allowed lateness. */
  late: Set<string>;
  /** What each arrival is, counted: every arrival is exactly one of these. */
  outcomes: { applied: number; duplicates: number; conflicts: number; late: number };
  /** Later arrivals of an identity, in arrival order. */
  reSends: ReSend[];
  /** Per vehicle id, its windows once every reading is in. */
  finals: Map<string, RecomputedFinal>;
}

export interface ReSend {
  seq: number;
  /** The arrival that was the reading (its first). */
  firstSeq: number;
  outcome: 'duplicate' | 'conflict' | 'late';
  /** Older than the vehicle's newest event time minus the lateness when it arrived. */
  beyondLateness: boolean;
}

const STATS = ['mean', 'min', 'max', 'std'] as const;

export async function recomputeWindows(
  arrivals: readonly ArrivalRecord[],
  windows: readonly RecomputedWindow[],
  allowedLatenessMs: number,
): Promise<Recomputation> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const vehicleIds = await load(db, arrivals, windows);
    await db.run(classificationSql(allowedLatenessMs));
    await db.run(tiledRowsSql());
    await db.run(boundsSql(windows, allowedLatenessMs));
    await db.run(finalsSql());
    return {
      rows: await expectedRows(db, windows, vehicleIds),
      late: await lateIdentities(db, vehicleIds),
      outcomes: await outcomes(db),
      reSends: await reSends(db),
      finals: await expectedFinals(db, windows, vehicleIds),
    };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** Loads the arrivals and window specs; returns the vehicle ids by their number in the tables. */
async function load(
  db: DuckDBConnection,
  arrivals: readonly ArrivalRecord[],
  windows: readonly RecomputedWindow[],
): Promise<string[]> {
  const finest = Math.min(...windows.map((w) => w.tileMs));
  await db.run(`
    CREATE TABLE window_specs (w INTEGER, name VARCHAR, length_ms BIGINT, tile_ms BIGINT, span BIGINT, fine_ms BIGINT);
    CREATE TABLE arrivals_raw (
      seq INTEGER, now_ms DOUBLE, vehicle INTEGER, event_id VARCHAR, t DOUBLE,
      sp DOUBLE, tp DOUBLE, lat DOUBLE, lon DOUBLE, fuel DOUBLE, rpm DOUBLE
    );`);
  // w = 0 must be the finest window: its tiles (10 s) compose the near edge of every window.
  if (windows[0]!.tileMs !== finest) throw new Error('the first window must have the finest tiles');
  const windowRows = windows
    .map((w, i) => `(${i}, '${w.name}', ${w.lengthMs}, ${w.tileMs}, ${w.lengthMs / w.tileMs}, ${finest})`)
    .join(', ');
  await db.run(`INSERT INTO window_specs VALUES ${windowRows}`);
  const appender = await db.createAppender('arrivals_raw');
  // Vehicles by number: the ids are opaque here, and integer keys make the joins cheaper.
  const vehicles = new Map<string, number>();
  const vehicleNumber = (id: string) => vehicles.get(id) ?? vehicles.set(id, vehicles.size).size - 1;
  const types = [INTEGER, DOUBLE, INTEGER, VARCHAR, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE];
  const CHUNK = 2048;
  for (let start = 0; start < arrivals.length; start += CHUNK) {
    const slice = arrivals.slice(start, start + CHUNK);
    const chunk = DuckDBDataChunk.create(types, slice.length);
    chunk.setColumns([
      slice.map((a) => a.seq),
      slice.map((a) => a.nowMs),
      slice.map((a) => vehicleNumber(a.reading.vehicle_id)),
      slice.map((a) => a.reading.event_id),
      slice.map((a) => a.reading.event_ts_ms),
      slice.map((a) => a.reading.speed_kmh),
      slice.map((a) => a.reading.engine_temp_c),
      slice.map((a) => a.reading.gps_lat),
      slice.map((a) => a.reading.gps_lon),
      slice.map((a) => a.reading.fuel_level_pct),
      slice.map((a) => a.reading.rpm),
    ]);
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
  return [...vehicles.keys()];
}

function classificationSql(allowedLatenessMs: number): string {
  const L = allowedLatenessMs;
  return `
    -- NULL in, NULL out (least() would skip a NULL argument).
    CREATE MACRO clamp_to_one(x) AS CASE WHEN x > 1 THEN 1 ELSE x END;
    -- Population standard deviation from count, sum and sum of squares; NULL for no readings.
    CREATE MACRO pop_std(n, total, squares) AS
      CASE WHEN n > 0 THEN sqrt(CASE WHEN squares / n - (total / n) ** 2 > 0 THEN squares / n - (total / n) ** 2 ELSE 0 END) END;
    CREATE MACRO haversine_km(lat1, lon1, lat2, lon2) AS
      2 * 6371.0088 * asin(clamp_to_one(sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2))));

    CREATE TABLE arrivals AS SELECT * REPLACE (t::BIGINT AS t) FROM arrivals_raw;

    -- head_before: the newest event time among the vehicle's earlier arrivals. Every arrival is
    -- applied, or a re-send of an earlier one, or older than the head (late): only applied ones can
    -- be newer than the head, so this is the newest applied event time.
    CREATE TABLE judged AS
      SELECT *,
        max(t) OVER (PARTITION BY vehicle ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS head_before,
        row_number() OVER (PARTITION BY vehicle, t ORDER BY seq) AS nth
      FROM arrivals;

    -- One reading, one identity: the first arrival of (vehicle, t). Its status: in order when newer
    -- than the head (t equal to the head would be a re-send), late when older than head - lateness.
    CREATE TABLE firsts AS
      SELECT * EXCLUDE (nth),
        CASE WHEN head_before IS NULL OR t > head_before THEN 'in_order'
             WHEN t < head_before - ${L} THEN 'late'
             ELSE 'out_of_order' END AS status
      FROM judged WHERE nth = 1;

    -- Later arrivals of an identity: a duplicate (same values, whatever the event_id) or a conflict
    -- of an applied reading; late again if the first was late (a late reading leaves no mark).
    CREATE TABLE re_sends AS
      SELECT r.seq, f.seq AS first_seq, r.t < r.head_before - ${L} AS beyond_lateness,
        CASE WHEN f.status = 'late' THEN 'late'
             WHEN r.sp = f.sp AND r.tp = f.tp AND r.lat = f.lat AND r.lon = f.lon
               AND r.fuel IS NOT DISTINCT FROM f.fuel AND r.rpm IS NOT DISTINCT FROM f.rpm THEN 'duplicate'
             ELSE 'conflict' END AS outcome
      FROM judged r JOIN firsts f USING (vehicle, t)
      WHERE r.nth > 1;

    CREATE TABLE applied AS
      SELECT seq, now_ms, vehicle, event_id, t, sp, tp, lat, lon, status, head_before
      FROM firsts WHERE status <> 'late';

    -- Neighbours of an out-of-order reading x among the readings applied before it, in event order:
    -- p (the newest before t) and n (the oldest after t; there is one, the head). A reading applied
    -- after x is newer than (head at x) - lateness > t - lateness, so those at or before t - lateness
    -- were all applied before x: the nearest of them comes from an ASOF join, the rest from readings
    -- in (t - lateness, head], matched through one-minute buckets of event time.
    CREATE TABLE out_of_order AS SELECT * FROM applied WHERE status = 'out_of_order';
    CREATE TABLE near AS
      SELECT x.seq,
        max(j.t) FILTER (WHERE j.t < x.t) AS p_near,
        min(j.t) FILTER (WHERE j.t > x.t) AS n_t
      FROM (SELECT seq, vehicle, t, head_before, unnest(range((t - ${L}) // 60000, head_before // 60000 + 1)) AS bucket
            FROM out_of_order) x
        JOIN (SELECT *, t // 60000 AS bucket FROM applied) j
          ON j.vehicle = x.vehicle AND j.bucket = x.bucket
      WHERE j.seq < x.seq AND j.t > x.t - ${L} AND j.t <= x.head_before
      GROUP BY x.seq;
    CREATE TABLE neighbours AS
      SELECT x.seq, x.vehicle, x.t, x.lat, x.lon, coalesce(nr.p_near, far.t) AS p_t, nr.n_t
      FROM out_of_order x JOIN near nr USING (seq)
        ASOF LEFT JOIN applied far ON far.vehicle = x.vehicle AND x.t - ${L} >= far.t;

    -- Every change to the length of the segments, placed at the event time where its segment starts:
    -- an in-order reading adds the segment from the head; an out-of-order one x adds x -> n and turns
    -- p -> n into p -> x.
    CREATE TABLE segment_changes AS
      SELECT x.vehicle, x.seq, p.t, haversine_km(p.lat, p.lon, x.lat, x.lon) AS d
      FROM applied x JOIN applied p ON p.vehicle = x.vehicle AND p.t = x.head_before
      WHERE x.status = 'in_order'
      UNION ALL
      SELECT nb.vehicle, nb.seq, nb.t, haversine_km(nb.lat, nb.lon, n.lat, n.lon)
      FROM neighbours nb JOIN applied n ON n.vehicle = nb.vehicle AND n.t = nb.n_t
      UNION ALL
      SELECT nb.vehicle, nb.seq, p.t,
        haversine_km(p.lat, p.lon, nb.lat, nb.lon) - haversine_km(p.lat, p.lon, n.lat, n.lon)
      FROM neighbours nb
        JOIN applied p ON p.vehicle = nb.vehicle AND p.t = nb.p_t
        JOIN applied n ON n.vehicle = nb.vehicle AND n.t = nb.n_t;
  `;
}

function tiledRowsSql(): string {
  return `
    -- What happens to a tile, in arrival order: readings (sp, tp) and segment changes (d).
    CREATE TABLE tile_events AS
      SELECT vehicle, seq, t, sp, tp, 0.0 AS d FROM applied
      UNION ALL
      SELECT vehicle, seq, t, NULL, NULL, d FROM segment_changes;

    -- Every state each tile of each window goes through, one step per arrival that changed it.
    CREATE TABLE tile_history AS
      SELECT vehicle, w, tile, seq,
        sum(cnt) OVER grow AS cnt,
        sum(sp_sum) OVER grow AS sp_sum, sum(sp_sq) OVER grow AS sp_sq,
        min(sp_min) OVER grow AS sp_min, max(sp_max) OVER grow AS sp_max,
        sum(tp_sum) OVER grow AS tp_sum, sum(tp_sq) OVER grow AS tp_sq,
        min(tp_min) OVER grow AS tp_min, max(tp_max) OVER grow AS tp_max,
        sum(dist) OVER grow AS dist
      FROM (
        SELECT e.vehicle, s.w, e.t // s.tile_ms AS tile, e.seq,
          count(e.sp) AS cnt, sum(e.sp) AS sp_sum, sum(e.sp * e.sp) AS sp_sq, min(e.sp) AS sp_min, max(e.sp) AS sp_max,
          sum(e.tp) AS tp_sum, sum(e.tp * e.tp) AS tp_sq, min(e.tp) AS tp_min, max(e.tp) AS tp_max,
          sum(e.d) AS dist
        FROM tile_events e CROSS JOIN window_specs s
        GROUP BY e.vehicle, s.w, tile, e.seq
      )
      WINDOW grow AS (PARTITION BY vehicle, w, tile ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

    -- The tiles each row reads: its window's whole tiles before t's tile, then the finest (10 s)
    -- tiles from the start of t's tile up to t's own.
    CREATE TABLE row_tiles AS
      SELECT a.seq, a.vehicle, s.w, s.w AS tile_w,
        unnest(range(a.t // s.tile_ms - s.span, a.t // s.tile_ms)) AS tile
      FROM applied a CROSS JOIN window_specs s
      UNION ALL
      SELECT a.seq, a.vehicle, s.w, 0 AS tile_w,
        unnest(range(a.t // s.tile_ms * s.tile_ms // s.fine_ms, a.t // s.fine_ms + 1)) AS tile
      FROM applied a CROSS JOIN window_specs s;

    CREATE TABLE tiled AS
      SELECT r.seq, r.w,
        sum(h.cnt)::INTEGER AS cnt,
        sum(h.sp_sum) AS sp_sum, sum(h.sp_sq) AS sp_sq, min(h.sp_min) AS sp_min, max(h.sp_max) AS sp_max,
        sum(h.tp_sum) AS tp_sum, sum(h.tp_sq) AS tp_sq, min(h.tp_min) AS tp_min, max(h.tp_max) AS tp_max,
        sum(h.dist) AS dist
      FROM row_tiles r
        ASOF JOIN tile_history h ON r.vehicle = h.vehicle AND r.tile_w = h.w AND r.tile = h.tile AND r.seq >= h.seq
      GROUP BY r.seq, r.w;

    CREATE TABLE expected AS
      SELECT a.seq, s.w,
        coalesce(x.cnt, 0) AS cnt,
        x.sp_sum / x.cnt AS sp_mean, x.sp_min, x.sp_max, pop_std(x.cnt, x.sp_sum, x.sp_sq) AS sp_std,
        x.tp_sum / x.cnt AS tp_mean, x.tp_min, x.tp_max, pop_std(x.cnt, x.tp_sum, x.tp_sq) AS tp_std,
        coalesce(x.dist, 0) AS dist
      FROM applied a CROSS JOIN window_specs s LEFT JOIN tiled x ON x.seq = a.seq AND x.w = s.w;
  `;
}

/**
 * The documented bounds per row, from exact event-time ranges: a RANGE frame over every applied
 * reading of the vehicle, minus those applied after the row at or before t (out of order, and newer
 * than head - lateness, so within the lateness before t), plus those applied before it after t in
 * its 10 s tile.
 */
function boundsSql(windows: readonly RecomputedWindow[], allowedLatenessMs: number): string {
  const L = allowedLatenessMs;
  const finest = Math.min(...windows.map((w) => w.tileMs));
  const frames = windows.flatMap((w, i) => [
    `lo_${i} AS (PARTITION BY vehicle ORDER BY t RANGE BETWEEN ${w.lengthMs} PRECEDING AND CURRENT ROW)`,
    `hi_${i} AS (PARTITION BY vehicle ORDER BY t RANGE BETWEEN ${w.lengthMs + w.tileMs - 1} PRECEDING AND CURRENT ROW)`,
  ]);
  const everything = windows.flatMap((_, i) => [
    `count(*) OVER lo_${i} AS lo_cnt_${i}`,
    `sum(sp) OVER lo_${i} AS lo_sp_${i}`,
    `count(*) OVER hi_${i} AS hi_cnt_${i}`,
  ]);
  const later = windows.flatMap((w, i) => [
    `count(*) FILTER (WHERE j.t >= i.t - ${w.lengthMs}) AS lo_cnt_${i}`,
    `coalesce(sum(j.sp) FILTER (WHERE j.t >= i.t - ${w.lengthMs}), 0) AS lo_sp_${i}`,
    `count(*) FILTER (WHERE j.t >= i.t - ${w.lengthMs + w.tileMs - 1}) AS hi_cnt_${i}`,
  ]);
  const bounds = windows.flatMap((_, i) => [
    `e.lo_cnt_${i} - coalesce(l.lo_cnt_${i}, 0) AS at_least_${i}`,
    `e.hi_cnt_${i} - coalesce(l.hi_cnt_${i}, 0) + coalesce(n.ahead, 0) AS at_most_${i}`,
    `(e.lo_sp_${i} - coalesce(l.lo_sp_${i}, 0)) / (e.lo_cnt_${i} - coalesce(l.lo_cnt_${i}, 0)) AS exact_sp_mean_${i}`,
  ]);
  return `
    CREATE TABLE bounds AS
    WITH everything AS (
      SELECT seq, ${everything.join(', ')} FROM applied WINDOW ${frames.join(', ')}
    ), later AS (
      SELECT i.seq, ${later.join(', ')}
      FROM (SELECT seq, vehicle, t, unnest(range((t - ${L}) // 60000, t // 60000 + 1)) AS bucket FROM applied) i
        JOIN (SELECT seq, vehicle, t, sp, t // 60000 AS bucket FROM applied WHERE status = 'out_of_order') j
          ON j.vehicle = i.vehicle AND j.bucket = i.bucket
      WHERE j.seq > i.seq AND j.t BETWEEN i.t - ${L} AND i.t
      GROUP BY i.seq
    ), near_edge AS (
      SELECT i.seq, count(*) AS ahead
      FROM (SELECT seq, vehicle, t, t // ${finest} AS tile FROM applied) i
        JOIN (SELECT seq, vehicle, t, t // ${finest} AS tile FROM applied) j
          ON j.vehicle = i.vehicle AND j.tile = i.tile
      WHERE j.seq < i.seq AND j.t > i.t
      GROUP BY i.seq
    )
    SELECT seq, ${bounds.join(', ')}
    FROM everything e LEFT JOIN later l USING (seq) LEFT JOIN near_edge n USING (seq);
  `;
}

function finalsSql(): string {
  return `
    -- Once every reading is in: each vehicle's windows at its newest event time, over all applied
    -- readings; segments between consecutive readings in event order, counted where they start.
    CREATE TABLE newest AS SELECT vehicle, max(t) AS head FROM applied GROUP BY vehicle;
    CREATE TABLE segments AS
      SELECT vehicle, t, sp, tp,
        haversine_km(lat, lon, lead(lat) OVER ev, lead(lon) OVER ev) AS seg
      FROM applied WINDOW ev AS (PARTITION BY vehicle ORDER BY t);
    CREATE TABLE final_windows AS
      SELECT n.vehicle, s.w, n.head,
        count(*) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms)::INTEGER AS cnt,
        avg(g.sp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS sp_mean,
        min(g.sp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS sp_min,
        max(g.sp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS sp_max,
        stddev_pop(g.sp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS sp_std,
        avg(g.tp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS tp_mean,
        min(g.tp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS tp_min,
        max(g.tp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS tp_max,
        stddev_pop(g.tp) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms) AS tp_std,
        coalesce(sum(g.seg) FILTER (WHERE g.t >= n.head // s.tile_ms * s.tile_ms - s.length_ms), 0) AS dist,
        count(*) FILTER (WHERE g.t >= n.head - s.length_ms)::INTEGER AS at_least,
        count(*) FILTER (WHERE g.t >= n.head - s.length_ms - s.tile_ms + 1)::INTEGER AS at_most
      FROM newest n CROSS JOIN window_specs s JOIN segments g ON g.vehicle = n.vehicle
      GROUP BY n.vehicle, s.w, n.head;
  `;
}

function windowColumns(windows: readonly RecomputedWindow[]): string[] {
  return windows.flatMap((w, i) => [
    `max(cnt) FILTER (WHERE w = ${i}) AS count_${w.name}`,
    ...STATS.flatMap((stat) => [
      `max(sp_${stat}) FILTER (WHERE w = ${i}) AS speed_${stat}_${w.name}`,
      `max(tp_${stat}) FILTER (WHERE w = ${i}) AS temp_${stat}_${w.name}`,
    ]),
    `max(dist) FILTER (WHERE w = ${i}) AS distance_km_${w.name}`,
  ]);
}

async function expectedRows(
  db: DuckDBConnection,
  windows: readonly RecomputedWindow[],
  vehicleIds: readonly string[],
): Promise<Recomputation['rows']> {
  // Two flat reads pivoted here: a GROUP BY with a FILTER per column is several times slower.
  const boundColumns = windows.flatMap((_, i) => [`at_least_${i}`, `at_most_${i}`, `exact_sp_mean_${i}`]);
  const readings = (
    await db.runAndReadAll(`
      SELECT a.seq, a.vehicle, a.t::DOUBLE, a.event_id, a.status, a.now_ms,
        (CASE WHEN a.status = 'out_of_order' THEN a.head_before - a.t ELSE 0 END)::DOUBLE,
        ${boundColumns.map((c) => `b.${c}::DOUBLE`).join(', ')}
      FROM applied a JOIN bounds b USING (seq) ORDER BY a.seq`)
  ).getColumns();
  const stats = (
    await db.runAndReadAll(`
      SELECT cnt, sp_mean, sp_min, sp_max, sp_std, tp_mean, tp_min, tp_max, tp_std, dist
      FROM expected ORDER BY seq, w`)
  ).getColumns() as (number | null)[][];
  const statColumns = (name: string) => [
    `count_${name}`,
    ...STATS.map((stat) => `speed_${stat}_${name}`),
    ...STATS.map((stat) => `temp_${stat}_${name}`),
    `distance_km_${name}`,
  ];
  const names = windows.map((w) => statColumns(w.name));
  const rows: Recomputation['rows'] = new Map();
  const column = (c: number) => readings[c] as unknown[];
  for (let r = 0; r < column(0).length; r++) {
    const columns: ExpectedColumns = {};
    const bounds: Record<string, WindowBounds> = {};
    for (const [i, w] of windows.entries()) {
      const k = r * windows.length + i;
      names[i]!.forEach((name, c) => {
        columns[name] = stats[c]![k] ?? null;
      });
      bounds[w.name] = {
        atLeast: column(7 + 3 * i)[r] as number,
        atMost: column(8 + 3 * i)[r] as number,
        exactSpeedMean: column(9 + 3 * i)[r] as number,
      };
    }
    rows.set(identityOf(vehicleIds[column(1)[r] as number]!, column(2)[r] as number), {
      eventId: column(3)[r] as string,
      status: column(4)[r] as RecomputedRow['status'],
      processedTsMs: column(5)[r] as number,
      behindHeadMs: column(6)[r] as number,
      columns,
      bounds,
    });
  }
  return rows;
}

async function lateIdentities(db: DuckDBConnection, vehicleIds: readonly string[]): Promise<Set<string>> {
  const reader = await db.runAndReadAll(`SELECT vehicle, t FROM firsts WHERE status = 'late'`);
  return new Set(reader.getRows().map(([v, t]) => identityOf(vehicleIds[v as number]!, Number(t))));
}

async function outcomes(db: DuckDBConnection): Promise<Recomputation['outcomes']> {
  const reader = await db.runAndReadAll(`
    SELECT
      (SELECT count(*) FROM applied)::INTEGER,
      (SELECT count(*) FILTER (WHERE outcome = 'duplicate') FROM re_sends)::INTEGER,
      (SELECT count(*) FILTER (WHERE outcome = 'conflict') FROM re_sends)::INTEGER,
      ((SELECT count(*) FILTER (WHERE status = 'late') FROM firsts)
        + (SELECT count(*) FILTER (WHERE outcome = 'late') FROM re_sends))::INTEGER`);
  const [applied, duplicates, conflicts, late] = reader.getRows()[0]!.map(Number);
  return { applied: applied!, duplicates: duplicates!, conflicts: conflicts!, late: late! };
}

async function reSends(db: DuckDBConnection): Promise<ReSend[]> {
  const reader = await db.runAndReadAll(
    `SELECT seq, first_seq, outcome, beyond_lateness FROM re_sends ORDER BY seq`,
  );
  return reader.getRows().map(([seq, firstSeq, outcome, beyondLateness]) => ({
    seq: Number(seq),
    firstSeq: Number(firstSeq),
    outcome: outcome as ReSend['outcome'],
    beyondLateness: beyondLateness === true,
  }));
}

async function expectedFinals(
  db: DuckDBConnection,
  windows: readonly RecomputedWindow[],
  vehicleIds: readonly string[],
): Promise<Recomputation['finals']> {
  const reader = await db.runAndReadAll(`
    SELECT f.vehicle, f.head, any_value(a.event_id),
      ${windows.flatMap((_, i) => [`max(at_least) FILTER (WHERE w = ${i})`, `max(at_most) FILTER (WHERE w = ${i})`]).join(', ')},
      ${windowColumns(windows).join(', ')}
    FROM final_windows f JOIN applied a ON a.vehicle = f.vehicle AND a.t = f.head
    GROUP BY f.vehicle, f.head ORDER BY f.vehicle`);
  const names = reader.columnNames();
  const firstColumn = 3 + 2 * windows.length;
  const finals: Recomputation['finals'] = new Map();
  for (const row of reader.getRows()) {
    const columns: ExpectedColumns = {};
    for (let c = firstColumn; c < names.length; c++) columns[names[c]!] = row[c] as number | null;
    const bounds: RecomputedFinal['bounds'] = {};
    for (const [i, w] of windows.entries())
      bounds[w.name] = { atLeast: Number(row[3 + 2 * i]), atMost: Number(row[4 + 2 * i]) };
    finals.set(vehicleIds[row[0] as number]!, {
      eventTsMs: Number(row[1]),
      eventId: row[2] as string,
      columns,
      bounds,
    });
  }
  return finals;
}
