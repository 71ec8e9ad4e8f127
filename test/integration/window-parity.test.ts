// Parity of the rolling-window engine: a seeded two-hour fleet stream (1 Hz, with re-sends,
// conflicting re-sends, held-back and late readings, pauses, an offline buffer upload) is replayed through
// computeFeatureRows on a real Redis, and every row is checked, column by column, against an
// independent offline recomputation in DuckDB SQL (test/helpers/window-recomputation.ts). The same
// recomputation measures how far the tiled windows are from the exact windows [t - length, t].
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import type { FeatureRow } from '../../shared/features/feature-row.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';
import { localServers } from '../helpers/local-servers.js';
import { generateReplayStream, type ReplayArrival } from '../helpers/replay-stream.js';
import {
  type ExpectedColumns,
  type Recomputation,
  recomputeWindows,
} from '../helpers/window-recomputation.js';

/** The windows as documented in window-spec.ts; the recomputation uses these, not the engine's table. */
const DOCUMENTED_WINDOWS = [
  { name: '1m', lengthMs: 60_000, tileMs: 10_000, tiles: 7 },
  { name: '5m', lengthMs: 300_000, tileMs: 30_000, tiles: 11 },
  { name: '15m', lengthMs: 900_000, tileMs: 60_000, tiles: 16 },
  { name: '1h', lengthMs: 3_600_000, tileMs: 300_000, tiles: 13 },
] as const;

const ALLOWED_LATENESS_MS = 600_000;
/** Arrivals are handed to the engine in 10 s batches (as a push subscription would deliver them). */
const BATCH_MS = 10_000;
const START_MS = Date.UTC(2026, 2, 1, 6, 0, 0);
// 12 vehicles x 2 h 5 min at 1 Hz, ~70k readings once pauses are taken out: the 1h ring fills and
// rolls ~12 times per vehicle. More vehicles add minutes on a 2-core machine, not cases (vehicles
// are independent; the store test covers that).
const STREAM = { seed: 20260301, vehicles: 12, durationS: 2 * 3600 + 300 };
/** Statistics are float32 rounded to 4 decimals in rows; the recomputation is float64. */
const tolerance = (expected: number) => 1e-3 + 1e-6 * Math.abs(expected);

interface Replay {
  /** Every row the engine returned, in order. */
  rows: FeatureRow[];
  /** Readings the engine handed to the late archive, by event_id, with how often. */
  lateArchived: Map<string, number>;
  totals: { applied: number; duplicates: number; conflicts: number; lateCount: number };
  batches: number;
  multiReadingBatches: number;
}

interface Comparison {
  rowsCompared: number;
  mismatches: string[];
  maxAbsError: number;
  maxRelError: number;
  reSendRows: number;
  reSendRowMismatches: string[];
  rowsForLateReadings: string[];
}

let arrivals: ReplayArrival[];
let recomputed: Recomputation;
let replay: Replay;
let comparison: Comparison;
let redis: Redis;

const nowOf = (a: ReplayArrival) => (Math.floor(a.arrivalMs / BATCH_MS) + 1) * BATCH_MS;

beforeAll(async () => {
  arrivals = generateReplayStream({ ...STREAM, startMs: START_MS, allowedLatenessMs: ALLOWED_LATENESS_MS });
  redis = new Redis(localServers().redisUrl);
  await deleteVehicleKeys(redis, 'parity-v');
  // The recomputation runs in DuckDB's threads while the engine replays the stream against Redis.
  [recomputed, replay] = await Promise.all([
    recomputeWindows(
      arrivals.map((a) => ({ seq: a.seq, nowMs: nowOf(a), reading: a.reading })),
      DOCUMENTED_WINDOWS,
      ALLOWED_LATENESS_MS,
    ),
    replayThroughEngine(
      new RedisWindowStore(redis, {
        allowedLatenessMs: ALLOWED_LATENESS_MS,
        dedupeRetentionS: 900,
        vehicleIdleTtlS: 7200,
      }),
    ),
  ]);
  comparison = compareRows();
}, 180_000);

afterAll(async () => {
  await redis?.quit();
});

/** Hands the arrivals to the engine batch by batch, as a subscription would, with the batch's clock. */
async function replayThroughEngine(store: RedisWindowStore): Promise<Replay> {
  const result: Replay = {
    rows: [],
    lateArchived: new Map(),
    totals: { applied: 0, duplicates: 0, conflicts: 0, lateCount: 0 },
    batches: 0,
    multiReadingBatches: 0,
  };
  for (let start = 0; start < arrivals.length; ) {
    const nowMs = nowOf(arrivals[start]!);
    let end = start;
    while (end < arrivals.length && nowOf(arrivals[end]!) === nowMs) end++;
    const batch = arrivals.slice(start, end).map((a) => a.reading);
    start = end;
    const engine = await computeFeatureRows(store, batch, nowMs);
    result.batches++;
    if (new Set(batch.map((r) => r.vehicle_id)).size < batch.length) result.multiReadingBatches++;
    for (const key of ['applied', 'duplicates', 'conflicts', 'lateCount'] as const)
      result.totals[key] += engine[key];
    result.rows.push(...engine.rows);
    for (const late of engine.late) {
      const id = late.reading.event_id;
      result.lateArchived.set(id, (result.lateArchived.get(id) ?? 0) + 1);
    }
  }
  return result;
}

function compareRows(): Comparison {
  const result: Comparison = {
    rowsCompared: 0,
    mismatches: [],
    maxAbsError: 0,
    maxRelError: 0,
    reSendRows: 0,
    reSendRowMismatches: [],
    rowsForLateReadings: [],
  };
  const firstArrival = new Map<string, ReplayArrival>();
  for (const a of arrivals)
    if (!firstArrival.has(a.reading.event_id)) firstArrival.set(a.reading.event_id, a);
  const firstRows = new Map<string, FeatureRow>();
  for (const row of replay.rows) {
    const first = firstRows.get(row.event_id);
    if (first) {
      result.reSendRows++;
      if (!isDeepStrictEqual(row, first)) result.reSendRowMismatches.push(row.event_id);
      continue;
    }
    firstRows.set(row.event_id, row);
    if (recomputed.late.has(row.event_id)) result.rowsForLateReadings.push(row.event_id);
    compareRow(row, firstArrival.get(row.event_id)?.reading, result);
  }
  return result;
}

function compareRow(row: FeatureRow, reading: TelemetryReading | undefined, result: Comparison): void {
  result.rowsCompared++;
  const expected = recomputed.applied.get(row.event_id);
  const mismatch = (what: string) => {
    if (result.mismatches.length < 20) result.mismatches.push(`${row.event_id}: ${what}`);
  };
  if (!expected || !reading) {
    mismatch('a row for a reading the recomputation did not apply');
    return;
  }
  const want = {
    vehicle_id: reading.vehicle_id,
    event_ts: new Date(reading.event_ts_ms).toISOString(),
    processed_ts: new Date(expected.processedTsMs).toISOString(),
    speed_kmh: reading.speed_kmh,
    engine_temp_c: reading.engine_temp_c,
    gps_lat: reading.gps_lat,
    gps_lon: reading.gps_lon,
    fuel_level_pct: reading.fuel_level_pct,
    rpm: reading.rpm,
    temp_anomaly: reading.engine_temp_c > 105,
    late: expected.status === 'out_of_order',
    model_version: null,
    risk_score: null,
  };
  for (const [column, value] of Object.entries(want)) {
    if (row[column as keyof FeatureRow] !== value)
      mismatch(`${column}=${row[column as keyof FeatureRow]}, want ${value}`);
  }
  for (const [column, value] of Object.entries(expected.columns)) {
    compareValue(column, row[column as keyof FeatureRow] as number | null, value, mismatch, result);
  }
}

function compareValue(
  column: string,
  got: number | null,
  want: ExpectedColumns[string],
  mismatch: (what: string) => void,
  result: Comparison,
): void {
  if (want === null || got === null || column.startsWith('count_')) {
    if (got !== want) mismatch(`${column}=${got}, recomputed ${want}`);
    return;
  }
  const error = Math.abs(got - want);
  result.maxAbsError = Math.max(result.maxAbsError, error);
  if (Math.abs(want) >= 1) result.maxRelError = Math.max(result.maxRelError, error / Math.abs(want));
  if (!(error <= tolerance(want))) mismatch(`${column}=${got}, recomputed ${want}`);
}

async function deleteVehicleKeys(client: Redis, prefix: string): Promise<void> {
  for await (const keys of client.scanStream({ match: `fv:{${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
  }
}

describe('rolling windows: engine vs an independent DuckDB recomputation', () => {
  it('recomputes the windows as documented in window-spec.ts', () => {
    expect(WINDOWS).toEqual(DOCUMENTED_WINDOWS);
  });

  it('replays a stream that exercises every case', () => {
    const intents = new Set(arrivals.map((a) => a.intent));
    expect([...intents].sort()).toEqual(
      ['beyond_lateness', 'buffered', 'conflict', 'held_back', 're_send', 'reading'].sort(),
    );
    const statuses = [...recomputed.applied.values()].map((r) => r.status);
    const share = (n: number) => n / arrivals.length;
    expect(share(statuses.filter((s) => s === 'out_of_order').length)).toBeGreaterThan(0.02);
    expect(share(recomputed.late.size)).toBeGreaterThan(0.005);
    expect(share(recomputed.conflicts)).toBeGreaterThan(0.01);
    expect(share(recomputed.exactReSends.applied)).toBeGreaterThan(0.02);
    expect(recomputed.exactReSends.late).toBeGreaterThan(0);
    // Held back beyond the 1m and 5m rings: those readings reach only the longer windows.
    expect(recomputed.outsideRing['1m']).toBeGreaterThan(200);
    expect(recomputed.outsideRing['5m']).toBeGreaterThan(50);
    // Most engine calls apply several readings of one vehicle in one script call.
    expect(replay.multiReadingBatches / replay.batches).toBeGreaterThan(0.8);
  });

  it('gives every applied reading one row equal to the recomputation in every column', () => {
    expect(comparison.mismatches).toEqual([]);
    expect(comparison.rowsCompared).toBe(recomputed.applied.size);
    expect(replay.totals.applied).toBe(recomputed.applied.size);
    expect(comparison.maxAbsError).toBeLessThan(1e-3);
  });

  it('gives an exact re-send the very same row, changing no window (later rows still match)', () => {
    expect(comparison.reSendRowMismatches).toEqual([]);
    expect(comparison.reSendRows).toBe(recomputed.exactReSends.applied);
    expect(replay.totals.duplicates).toBe(recomputed.exactReSends.applied + recomputed.exactReSends.late);
    expect(replay.rows.length).toBe(recomputed.applied.size + recomputed.exactReSends.applied);
  });

  it('counts conflicting re-sends and gives them no row', () => {
    expect(replay.totals.conflicts).toBe(recomputed.conflicts);
  });

  it('counts and archives readings beyond the lateness, and puts them in no row or window', () => {
    expect(replay.totals.lateCount).toBe(recomputed.late.size);
    expect(comparison.rowsForLateReadings).toEqual([]);
    expect([...replay.lateArchived.keys()].sort()).toEqual([...recomputed.late].sort());
    const archived = [...replay.lateArchived.values()].reduce((a, b) => a + b, 0);
    expect(archived).toBe(recomputed.late.size + recomputed.exactReSends.late);
  });

  it('stays within the documented tiling bound of the exact windows [t - length, t]', () => {
    const ideal = recomputed.ideal.perWindow;
    for (const spec of DOCUMENTED_WINDOWS) {
      // In-order rows: exact window ⊆ tiled window ⊆ [t - length - tile + 1 ms, t], and at 1 Hz the
      // extra span (under one tile) holds at most tile / 800 ms + 1 readings.
      expect(ideal[spec.name]!.boundViolations, spec.name).toBe(0);
      expect(ideal[spec.name]!.maxExtraReadings, spec.name).toBeGreaterThan(0);
      expect(ideal[spec.name]!.maxExtraReadings, spec.name).toBeLessThanOrEqual(spec.tileMs / 800 + 1);
    }
    const fmt = (n: number) => Number(n.toPrecision(3));
    const each = (pick: (w: string) => number) =>
      DOCUMENTED_WINDOWS.map((w) => `${w.name}=${fmt(pick(w.name))}`).join(' ');
    const outOfOrder = [...recomputed.applied.values()].filter((r) => r.status === 'out_of_order').length;
    console.log(
      `window parity: ${comparison.rowsCompared} rows compared (${STREAM.vehicles} vehicles x ${STREAM.durationS} s at 1 Hz, ` +
        `${arrivals.length} arrivals in ${replay.batches} engine calls); engine vs tiled SQL recomputation: ` +
        `max abs err ${fmt(comparison.maxAbsError)}, max rel err ${fmt(comparison.maxRelError)}; ` +
        `tiled vs exact [t-len,t] (in-order rows, 0 bound violations): max extra readings ${each((w) => ideal[w]!.maxExtraReadings)}, ` +
        `mean extra readings ${each((w) => ideal[w]!.meanExtraReadings)}, ` +
        `|speed mean diff| km/h p99 ${each((w) => ideal[w]!.p99SpeedMeanDiff)} max ${each((w) => ideal[w]!.maxSpeedMeanDiff)}, ` +
        `max |distance diff| km ${each((w) => ideal[w]!.maxDistanceDiffKm)}; ` +
        `out-of-order rows max |count diff| ${each((w) => ideal[w]!.maxCountDiffOutOfOrder)}; ` +
        `late ${replay.totals.lateCount}, duplicates ${replay.totals.duplicates}, conflicts ${replay.totals.conflicts}, ` +
        `out-of-order ${outOfOrder}`,
    );
  });
});
