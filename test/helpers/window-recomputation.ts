// An offline recomputation of the tiled rolling windows with SQL in DuckDB (in memory), independent
// of the Redis script: from nothing but the arrivals in order, it re-derives identity (first arrival
// wins), head and lateness per vehicle, GPS segments, tile membership and aggregates of every row,
// and the ideal exact windows [t - length, t] over the same readings. The parity test compares the
// engine's rows with it.
//
// Tile membership (window-spec.ts): the row of an applied reading at t aggregates every reading of
// its vehicle applied up to and including it whose tile lies in [tile(head) - n + 1, tile(t)], with
// head the newest event time applied so far and n the ring size. Rather than joining every pair of
// readings (0.4 billion pairs for the 1h window), each tile's running aggregate in arrival order is
// kept, and each row reads the state of each tile in its range as of its own arrival (ASOF join).

import {
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';

export interface RecomputedWindow {
  name: string;
  lengthMs: number;
  tileMs: number;
}

export interface ArrivalRecord {
  seq: number;
  /** The arrival's processing time (processed_ts of its row if it is the first of its event_id). */
  nowMs: number;
  reading: TelemetryReading;
}

export type RecomputedStatus = 'in_order' | 'out_of_order' | 'late';

/** Expected row values for one applied reading, window columns named as in FeatureRow. */
export type ExpectedColumns = Record<string, number | null>;

export interface Recomputation {
  /** Per first arrival of an event_id that was applied: status, processed time and window columns. */
  applied: Map<
    string,
    { status: Exclude<RecomputedStatus, 'late'>; processedTsMs: number; columns: ExpectedColumns }
  >;
  /** event_ids whose first arrival was beyond the allowed lateness. */
  late: Set<string>;
  /** Later arrivals of an event_id with exactly the first's values, by status of the first. */
  exactReSends: { applied: number; late: number; eventIds: Set<string> };
  conflicts: number;
  /** Readings whose own tile had left the head's ring of some window (count 0 there). */
  outsideRing: Record<string, number>;
  ideal: IdealComparison;
}

export interface IdealComparison {
  perWindow: Record<
    string,
    {
      /** In-order rows where ideal count <= tiled count <= count over [t - length - tile + 1 ms, t] fails. */
      boundViolations: number;
      /** In-order rows: the most readings a tiled window held beyond the exact one, and what that did to the means and distance. */
      maxExtraReadings: number;
      maxSpeedMeanDiff: number;
      /** Typical sizes: the mean number of extra readings, the 99th percentile of |speed mean diff|. */
      meanExtraReadings: number;
      p99SpeedMeanDiff: number;
      maxTempMeanDiff: number;
      maxDistanceDiffKm: number;
      /** Out-of-order rows: largest |tiled - exact| count (they can miss tiles that left the ring). */
      maxCountDiffOutOfOrder: number;
    }
  >;
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
    await load(db, arrivals, windows);
    await db.run(recomputationSql(allowedLatenessMs));
    return {
      applied: await expectedRows(db, windows),
      late: new Set(
        (
          await db.runAndReadAll(`SELECT event_id FROM classified WHERE status = 'late'`)
        ).getColumnsJS()[0] as string[],
      ),
      ...(await reSends(db)),
      outsideRing: await outsideRing(db, windows),
      ideal: await idealComparison(db, windows),
    };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

async function load(
  db: DuckDBConnection,
  arrivals: readonly ArrivalRecord[],
  windows: readonly RecomputedWindow[],
) {
  await db.run(`
    CREATE TABLE window_specs (w INTEGER, name VARCHAR, length_ms BIGINT, tile_ms BIGINT);
    CREATE TABLE arrivals_raw (
      seq INTEGER, now_ms DOUBLE, vehicle INTEGER, event_id VARCHAR, t DOUBLE,
      sp DOUBLE, tp DOUBLE, lat DOUBLE, lon DOUBLE, fuel DOUBLE, rpm DOUBLE
    );`);
  const windowRows = windows.map((w, i) => `(${i}, '${w.name}', ${w.lengthMs}, ${w.tileMs})`).join(', ');
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
}

function recomputationSql(allowedLatenessMs: number): string {
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

    -- One reading, one identity: the first arrival of a (vehicle, event_id) is the reading.
    CREATE TABLE firsts AS
      SELECT * EXCLUDE (nth) FROM (
        SELECT *, row_number() OVER (PARTITION BY vehicle, event_id ORDER BY seq) AS nth FROM arrivals
      ) WHERE nth = 1;

    CREATE TABLE re_sends AS
      SELECT r.seq, r.event_id, r.vehicle, f.seq AS first_seq,
        r.t = f.t AND r.sp = f.sp AND r.tp = f.tp AND r.lat = f.lat AND r.lon = f.lon
          AND r.fuel IS NOT DISTINCT FROM f.fuel AND r.rpm IS NOT DISTINCT FROM f.rpm AS exact
      FROM arrivals r JOIN firsts f USING (vehicle, event_id)
      WHERE r.seq > f.seq;

    -- head_before: newest event time of the vehicle before this reading. The max may run over late
    -- readings too: each is older than the head of its time, so it never raises the max.
    CREATE TABLE classified AS
      SELECT *,
        CASE WHEN head_before IS NULL OR t >= head_before THEN 'in_order'
             WHEN t < head_before - ${allowedLatenessMs} THEN 'late'
             ELSE 'out_of_order' END AS status
      FROM (
        SELECT *, max(t) OVER (PARTITION BY vehicle ORDER BY seq
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS head_before
        FROM firsts
      );

    -- Applied readings; an in-order one travelled from the previous in-order (head) position.
    CREATE TABLE applied AS
      SELECT seq, now_ms, vehicle, event_id, t, sp, tp, status, head_before,
        greatest(t, coalesce(head_before, t)) AS head_after,
        CASE WHEN status = 'in_order'
             THEN coalesce(haversine_km(lag(lat) OVER path, lag(lon) OVER path, lat, lon), 0)
             ELSE 0 END AS seg
      FROM classified
      WHERE status <> 'late'
      WINDOW path AS (PARTITION BY vehicle, status = 'in_order' ORDER BY seq);

    CREATE TABLE placed AS
      SELECT a.seq, a.vehicle, a.sp, a.tp, a.seg, w.w, w.n, a.t // w.tile_ms AS tid, a.head_after // w.tile_ms AS htid
      FROM applied a CROSS JOIN (SELECT w, tile_ms, length_ms // tile_ms + 1 AS n FROM window_specs) w;

    -- Every state a tile goes through, in arrival order. (A reading whose tile is already behind
    -- its head's ring is in here too, harmlessly: no later row's range reaches back to its tile.)
    CREATE TABLE tile_history AS
      SELECT vehicle, w, tid, seq,
        count(*) OVER grow AS cnt,
        sum(sp) OVER grow AS sp_sum, sum(sp * sp) OVER grow AS sp_sq,
        min(sp) OVER grow AS sp_min, max(sp) OVER grow AS sp_max,
        sum(tp) OVER grow AS tp_sum, sum(tp * tp) OVER grow AS tp_sq,
        min(tp) OVER grow AS tp_min, max(tp) OVER grow AS tp_max,
        sum(seg) OVER grow AS dist
      FROM placed
      WINDOW grow AS (PARTITION BY vehicle, w, tid ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

    -- Each row reads the tiles [tile(head) - n + 1, tile(t)] (none when its own tile has already
    -- left the head's ring), each as it stood when the row's reading arrived.
    CREATE TABLE tiled AS
      SELECT r.seq, r.w,
        sum(h.cnt)::INTEGER AS cnt,
        sum(h.sp_sum) AS sp_sum, sum(h.sp_sq) AS sp_sq, min(h.sp_min) AS sp_min, max(h.sp_max) AS sp_max,
        sum(h.tp_sum) AS tp_sum, sum(h.tp_sq) AS tp_sq, min(h.tp_min) AS tp_min, max(h.tp_max) AS tp_max,
        sum(h.dist) AS dist
      FROM (SELECT seq, vehicle, w, unnest(range(htid - n + 1, tid + 1)) AS tile FROM placed) r
        ASOF JOIN tile_history h ON r.vehicle = h.vehicle AND r.w = h.w AND r.tile = h.tid AND r.seq >= h.seq
      GROUP BY r.seq, r.w;

    CREATE TABLE expected AS
      SELECT p.seq, p.w, p.tid <= p.htid - p.n AS outside_ring,
        coalesce(x.cnt, 0) AS cnt,
        x.sp_sum / x.cnt AS sp_mean, x.sp_min, x.sp_max,
        pop_std(x.cnt, x.sp_sum, x.sp_sq) AS sp_std,
        x.tp_sum / x.cnt AS tp_mean, x.tp_min, x.tp_max,
        pop_std(x.cnt, x.tp_sum, x.tp_sq) AS tp_std,
        coalesce(x.dist, 0) AS dist
      FROM placed p LEFT JOIN tiled x USING (seq, w);
  `;
}

async function expectedRows(db: DuckDBConnection, windows: readonly RecomputedWindow[]) {
  const select = windows.flatMap((w, i) => [
    `max(cnt) FILTER (WHERE w = ${i}) AS count_${w.name}`,
    ...STATS.flatMap((stat) => [
      `max(sp_${stat}) FILTER (WHERE w = ${i}) AS speed_${stat}_${w.name}`,
      `max(tp_${stat}) FILTER (WHERE w = ${i}) AS temp_${stat}_${w.name}`,
    ]),
    `max(dist) FILTER (WHERE w = ${i}) AS distance_km_${w.name}`,
  ]);
  const reader = await db.runAndReadAll(`
    SELECT any_value(a.event_id), any_value(a.status), any_value(a.now_ms), ${select.join(', ')}
    FROM expected JOIN applied a USING (seq) GROUP BY seq ORDER BY seq`);
  const names = reader.columnNames();
  // getRows: DOUBLE, INTEGER and VARCHAR come back as plain JS values, without a converter pass.
  const rows = reader.getRows();
  const applied: Recomputation['applied'] = new Map();
  for (const row of rows) {
    const columns: ExpectedColumns = {};
    for (let c = 3; c < names.length; c++) columns[names[c]!] = row[c] as number | null;
    applied.set(row[0] as string, {
      status: row[1] as 'in_order' | 'out_of_order',
      processedTsMs: row[2] as number,
      columns,
    });
  }
  return applied;
}

async function reSends(db: DuckDBConnection) {
  const reader = await db.runAndReadAll(`
    SELECT r.event_id, r.exact, c.status FROM re_sends r JOIN classified c ON c.seq = r.first_seq`);
  const result = { exactReSends: { applied: 0, late: 0, eventIds: new Set<string>() }, conflicts: 0 };
  for (const [eventId, exact, status] of reader.getRowsJS() as [string, boolean, RecomputedStatus][]) {
    if (!exact) result.conflicts++;
    else if (status === 'late') result.exactReSends.late++;
    else {
      result.exactReSends.applied++;
      result.exactReSends.eventIds.add(eventId);
    }
  }
  return result;
}

async function outsideRing(db: DuckDBConnection, windows: readonly RecomputedWindow[]) {
  const reader = await db.runAndReadAll(
    `SELECT w, count(*) FILTER (WHERE outside_ring)::INTEGER FROM expected GROUP BY w ORDER BY w`,
  );
  return Object.fromEntries(
    (reader.getRowsJS() as [number, number][]).map(([w, n]) => [windows[w]!.name, n]),
  );
}

/**
 * The exact windows [t - span, t] over the readings applied so far, per row: a RANGE frame on event
 * time over all applied readings of the vehicle, minus those that arrived after the row (only a
 * reading applied at or behind its head can: out-of-order ones). Per window two spans: its length
 * (the ideal window) and length + tile - 1 ms (the most a tiled window may cover).
 */
function exactSpansSql(windows: readonly RecomputedWindow[]): string {
  const spans = windows.flatMap((w, i) => [
    { key: `ideal_${i}`, ms: w.lengthMs },
    { key: `widest_${i}`, ms: w.lengthMs + w.tileMs - 1 },
  ]);
  const maxSpan = Math.max(...spans.map((s) => s.ms));
  const values = ['sp', 'tp', 'seg'];
  const overFrame = spans.flatMap(({ key }) => [
    `count(*) OVER f_${key} AS cnt_${key}`,
    ...values.map((v) => `sum(${v}) OVER f_${key} AS ${v}_${key}`),
  ]);
  const frames = spans.map(
    ({ key, ms }) =>
      `f_${key} AS (PARTITION BY vehicle ORDER BY t RANGE BETWEEN ${ms} PRECEDING AND CURRENT ROW)`,
  );
  const inSpan = spans.flatMap(({ key, ms }) => {
    const filter = `FILTER (WHERE j.t >= i.t - ${ms})`;
    return [`count(*) ${filter} AS cnt_${key}`, ...values.map((v) => `sum(j.${v}) ${filter} AS ${v}_${key}`)];
  });
  const difference = spans.flatMap(({ key }) =>
    ['cnt', ...values].map((v) => `e.${v}_${key} - coalesce(l.${v}_${key}, 0) AS ${v}_${key}`),
  );
  return `
    CREATE TABLE exact_spans AS
    WITH everything AS (
      SELECT seq, ${overFrame.join(', ')} FROM applied WINDOW ${frames.join(', ')}
    ), arrived_later AS (
      SELECT i.seq, ${inSpan.join(', ')}
      FROM applied i JOIN (SELECT * FROM applied WHERE t <= head_before) j
        ON i.vehicle = j.vehicle AND j.seq > i.seq AND j.t BETWEEN i.t - ${maxSpan} AND i.t
      GROUP BY i.seq
    )
    SELECT seq, ${difference.join(', ')} FROM everything e LEFT JOIN arrived_later l USING (seq)`;
}

async function idealComparison(
  db: DuckDBConnection,
  windows: readonly RecomputedWindow[],
): Promise<IdealComparison> {
  await db.run(exactSpansSql(windows));
  const perWindow: IdealComparison['perWindow'] = {};
  for (const [w, spec] of windows.entries()) {
    const reader = await db.runAndReadAll(`
      SELECT
        count(*) FILTER (WHERE in_order AND NOT (x.cnt_ideal_${w} <= e.cnt AND e.cnt <= x.cnt_widest_${w})),
        max(e.cnt - x.cnt_ideal_${w}) FILTER (WHERE in_order),
        max(abs(e.sp_mean - x.sp_ideal_${w} / x.cnt_ideal_${w})) FILTER (WHERE in_order),
        max(abs(e.tp_mean - x.tp_ideal_${w} / x.cnt_ideal_${w})) FILTER (WHERE in_order),
        max(abs(e.dist - x.seg_ideal_${w})) FILTER (WHERE in_order),
        max(abs(e.cnt - x.cnt_ideal_${w})) FILTER (WHERE NOT in_order),
        avg(e.cnt - x.cnt_ideal_${w}) FILTER (WHERE in_order),
        quantile_cont(abs(e.sp_mean - x.sp_ideal_${w} / x.cnt_ideal_${w}), 0.99) FILTER (WHERE in_order)
      FROM expected e JOIN exact_spans x USING (seq) JOIN (SELECT seq, status = 'in_order' AS in_order FROM applied) USING (seq)
      WHERE e.w = ${w}`);
    const [violations, extra, speed, temp, distance, outOfOrder, meanExtra, p99Speed] = (
      reader.getRows()[0] ?? []
    ).map(Number);
    perWindow[spec.name] = {
      boundViolations: violations!,
      maxExtraReadings: extra!,
      maxSpeedMeanDiff: speed!,
      meanExtraReadings: meanExtra!,
      p99SpeedMeanDiff: p99Speed!,
      maxTempMeanDiff: temp!,
      maxDistanceDiffKm: distance!,
      maxCountDiffOutOfOrder: outOfOrder!,
    };
  }
  return { perWindow };
}
