// Parity of the rolling-window engine: a seeded two-hour fleet stream (1 Hz, with re-sends,
// conflicting re-sends, held-back and late readings, an offline buffer upload) is replayed through
// computeFeatureRows on a real Redis, and every row is checked, column by column, against an
// independent offline recomputation in DuckDB SQL (test/helpers/window-recomputation.ts). The same
// recomputation measures how far the tiled windows are from the exact windows [t - length, t].
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import type { FeatureRow } from '../../shared/features/feature-row.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';
import { localServers } from '../helpers/local-servers.js';
import { generateReplayStream, type ReplayArrival } from '../helpers/replay-stream.js';
import { type ExpectedColumns, type Recomputation, recomputeWindows } from '../helpers/window-recomputation.js';

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
const STREAM = { seed: 20260301, vehicles: 20, durationS: 2 * 3600 + 300 };
/** Statistics are float32 rounded to 4 decimals in rows; the recomputation is float64. */
const tolerance = (expected: number) => 1e-3 + 1e-6 * Math.abs(expected);

interface Replay {
  rowsCompared: number;
  mismatches: string[];
  maxAbsError: number;
  maxRelError: number;
  reSendRows: number;
  reSendRowMismatches: string[];
  rowsForLateReadings: string[];
  lateArchived: Map<string, number>;
  totals: { applied: number; duplicates: number; conflicts: number; lateCount: number; rows: number };
  batches: number;
  multiReadingBatches: number;
}

let arrivals: ReplayArrival[];
let recomputed: Recomputation;
let replay: Replay;
let redis: Redis;

beforeAll(async () => {
  arrivals = generateReplayStream({ ...STREAM, startMs: START_MS, allowedLatenessMs: ALLOWED_LATENESS_MS });
  const nowOf = (a: ReplayArrival) => (Math.floor(a.arrivalMs / BATCH_MS) + 1) * BATCH_MS;
  recomputed = await recomputeWindows(
    arrivals.map((a) => ({ seq: a.seq, nowMs: nowOf(a), reading: a.reading })),
    DOCUMENTED_WINDOWS,
    ALLOWED_LATENESS_MS,
  );

  redis = new Redis(localServers().redisUrl);
  await deleteVehicleKeys(redis, 'parity-v');
  const store = new RedisWindowStore(redis, {
    allowedLatenessMs: ALLOWED_LATENESS_MS,
    dedupeRetentionS: 900,
    vehicleIdleTtlS: 7200,
  });
  replay = {
    rowsCompared: 0,
    mismatches: [],
    maxAbsError: 0,
    maxRelError: 0,
    reSendRows: 0,
    reSendRowMismatches: [],
    rowsForLateReadings: [],
    lateArchived: new Map(),
    totals: { applied: 0, duplicates: 0, conflicts: 0, lateCount: 0, rows: 0 },
    batches: 0,
    multiReadingBatches: 0,
  };
  const firstRows = new Map<string, FeatureRow>();
  for (let start = 0; start < arrivals.length; ) {
    const nowMs = nowOf(arrivals[start]!);
    let end = start;
    while (end < arrivals.length && nowOf(arrivals[end]!) === nowMs) end++;
    const batch = arrivals.slice(start, end).map((a) => a.reading);
    start = end;
    const result = await computeFeatureRows(store, batch, nowMs);
    replay.batches++;
    const perVehicle = new Map<string, number>();
    for (const r of batch) perVehicle.set(r.vehicle_id, (perVehicle.get(r.vehicle_id) ?? 0) + 1);
    if ([...perVehicle.values()].some((n) => n > 1)) replay.multiReadingBatches++;
    for (const key of ['applied', 'duplicates', 'conflicts', 'lateCount'] as const) replay.totals[key] += result[key];
    replay.totals.rows += result.rows.length;
    for (const late of result.late) {
      const id = late.reading.event_id;
      replay.lateArchived.set(id, (replay.lateArchived.get(id) ?? 0) + 1);
    }
    for (const row of result.rows) {
      const first = firstRows.get(row.event_id);
      if (first) {
        replay.reSendRows++;
        if (!isDeepStrictEqual(row, first)) replay.reSendRowMismatches.push(row.event_id);
        continue;
      }
      if (recomputed.exactReSends.eventIds.has(row.event_id)) firstRows.set(row.event_id, row);
      if (recomputed.late.has(row.event_id)) replay.rowsForLateReadings.push(row.event_id);
      compareRow(row);
    }
  }
}, 180_000);

afterAll(async () => {
  await redis?.quit();
});

function compareRow(row: FeatureRow): void {
  replay.rowsCompared++;
  const expected = recomputed.applied.get(row.event_id);
  const mismatch = (what: string) => {
    if (replay.mismatches.length < 20) replay.mismatches.push(`${row.event_id}: ${what}`);
  };
  if (!expected) return mismatch('a row for a reading the recomputation did not apply');
  if (row.late !== (expected.status === 'out_of_order')) mismatch(`late=${row.late}, status ${expected.status}`);
  if (row.processed_ts !== new Date(expected.processedTsMs).toISOString()) {
    mismatch(`processed_ts ${row.processed_ts}, first arrival processed at ${expected.processedTsMs}`);
  }
  if (row.temp_anomaly !== row.engine_temp_c > 105) mismatch('temp_anomaly');
  for (const [column, want] of Object.entries(expected.columns)) {
    compareValue(column, row[column as keyof FeatureRow] as number | null, want, mismatch);
  }
}

function compareValue(
  column: string,
  got: number | null,
  want: ExpectedColumns[string],
  mismatch: (what: string) => void,
): void {
  if (want === null || got === null || column.startsWith('count_')) {
    if (got !== want) mismatch(`${column}=${got}, recomputed ${want}`);
    return;
  }
  const error = Math.abs(got - want);
  replay.maxAbsError = Math.max(replay.maxAbsError, error);
  if (Math.abs(want) >= 1) replay.maxRelError = Math.max(replay.maxRelError, error / Math.abs(want));
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
    expect(statuses.filter((s) => s === 'out_of_order').length).toBeGreaterThan(1000);
    expect(recomputed.late.size).toBeGreaterThan(500);
    expect(recomputed.conflicts).toBeGreaterThan(1000);
    expect(recomputed.exactReSends.applied).toBeGreaterThan(1000);
    expect(recomputed.exactReSends.late).toBeGreaterThan(0);
    // Held back beyond the 1m and 5m rings: those readings reach only the longer windows.
    expect(recomputed.outsideRing['1m']).toBeGreaterThan(300);
    expect(recomputed.outsideRing['5m']).toBeGreaterThan(100);
    expect(replay.multiReadingBatches).toBe(replay.batches);
  });

  it('gives every applied reading one row equal to the recomputation in every column', () => {
    expect(replay.mismatches).toEqual([]);
    expect(replay.rowsCompared).toBe(recomputed.applied.size);
    expect(replay.totals.applied).toBe(recomputed.applied.size);
    expect(replay.maxAbsError).toBeLessThan(1e-3);
  });

  it('gives an exact re-send the very same row, changing no window (later rows still match)', () => {
    expect(replay.reSendRowMismatches).toEqual([]);
    expect(replay.reSendRows).toBe(recomputed.exactReSends.applied);
    expect(replay.totals.duplicates).toBe(recomputed.exactReSends.applied + recomputed.exactReSends.late);
    expect(replay.totals.rows).toBe(recomputed.applied.size + recomputed.exactReSends.applied);
  });

  it('counts conflicting re-sends and gives them no row', () => {
    expect(replay.totals.conflicts).toBe(recomputed.conflicts);
  });

  it('counts and archives readings beyond the lateness, and puts them in no row or window', () => {
    expect(replay.totals.lateCount).toBe(recomputed.late.size);
    expect(replay.rowsForLateReadings).toEqual([]);
    expect([...replay.lateArchived.keys()].sort()).toEqual([...recomputed.late].sort());
    const archived = [...replay.lateArchived.values()].reduce((a, b) => a + b, 0);
    expect(archived).toBe(recomputed.late.size + recomputed.exactReSends.late);
  });

  it('stays within the documented tiling bound of the exact windows [t - length, t]', () => {
    for (const spec of DOCUMENTED_WINDOWS) {
      const ideal = recomputed.ideal.perWindow[spec.name]!;
      // In-order rows: exact window ⊆ tiled window ⊆ [t - length - tile + 1 ms, t].
      expect(ideal.boundViolations, spec.name).toBe(0);
      expect(ideal.maxExtraInOrder, spec.name).toBeGreaterThan(0);
    }
    const ideal = recomputed.ideal.perWindow;
    const fmt = (n: number) => Number(n.toPrecision(3));
    console.log(
      `window parity: ${replay.rowsCompared} rows compared (${STREAM.vehicles} vehicles, ${arrivals.length} arrivals, ` +
        `${replay.batches} batches), engine vs tiled recomputation max abs err ${fmt(replay.maxAbsError)}, ` +
        `max rel err ${fmt(replay.maxRelError)}; tiled vs exact [t-len,t]: max extra readings in-order ` +
        DOCUMENTED_WINDOWS.map((w) => `${w.name}=${ideal[w.name]!.maxExtraInOrder}`).join(' ') +
        `, max |count diff| any row ` +
        DOCUMENTED_WINDOWS.map((w) => `${w.name}=${ideal[w.name]!.maxAbsCountDiff}`).join(' ') +
        `, max |speed mean diff| km/h ` +
        DOCUMENTED_WINDOWS.map((w) => `${w.name}=${fmt(ideal[w.name]!.maxAbsSpeedMeanDiff)}`).join(' ') +
        `, max |distance diff| km ` +
        DOCUMENTED_WINDOWS.map((w) => `${w.name}=${fmt(ideal[w.name]!.maxAbsDistanceDiff)}`).join(' ') +
        `, bound violations 0; late ${replay.totals.lateCount}, duplicates ${replay.totals.duplicates}, ` +
        `conflicts ${replay.totals.conflicts}, out-of-order ${[...recomputed.applied.values()].filter((r) => r.status === 'out_of_order').length}`,
    );
  });
});
