// Parity of the rolling-window engine with an independent offline recomputation in DuckDB SQL
// (test/helpers/window-recomputation.ts), on a real Redis with the real script.
//
// A seeded two-hour fleet stream (1 Hz, with re-sends, conflicting re-sends, held-back and late
// readings, pauses, an offline buffer upload) is replayed through computeFeatureRows three ways:
//   generated  in the stream's own arrival order;
//   shuffled   the readings it applied, each vehicle's in a random order within the allowed
//              lateness (every reading arrives less than the lateness behind its vehicle's newest
//              applied one), with re-sends under other event_ids and conflicting re-sends;
//   in order   the same readings in event order.
// For the first two, every row is checked column by column against the recomputation (the tiled
// windows of window-spec.ts as of the reading's arrival) and against the documented bounds from
// exact event-time ranges. Once all readings are in, every vehicle's latest() must equal the
// recomputation at its newest event time, and the three replays must agree byte for byte.
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeededRandom, deriveSeed } from '../../local/simulator/seeded-random.js';
import { RedisWindowStore, vehicleKey } from '../../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import { type LatestVector, READING_ARG_BYTES } from '../../shared/windows/window-snapshot.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';
import { localServers } from '../helpers/local-servers.js';
import { generateReplayStream } from '../helpers/replay-stream.js';
import {
  DOCUMENTED_WINDOWS,
  type ExpectedColumns,
  identityOf,
  latestColumns,
  type Recomputation,
  recomputeWindows,
} from '../helpers/window-recomputation.js';

type WindowName = (typeof DOCUMENTED_WINDOWS)[number]['name'];

const ALLOWED_LATENESS_MS = 600_000;
/** Arrivals are handed to the engine in 10 s batches (as a push subscription would deliver them). */
const BATCH_MS = 10_000;
const START_MS = Date.UTC(2026, 2, 1, 6, 0, 0);
// 12 vehicles x 2 h 5 min at 1 Hz, ~70k readings once pauses are taken out: the 1h window rolls
// ~12 times per vehicle. More vehicles add minutes on a 2-core machine, not cases (vehicles are
// independent; the store test covers that).
const STREAM = { seed: 20260301, vehicles: 12, durationS: 2 * 3600 + 300 };
const SHUFFLE_SEED = 20260302;
/** Statistics are float32 rounded to 4 decimals in rows; the recomputation is float64. */
const tolerance = (expected: number) => 1e-3 + 1e-6 * Math.abs(expected);

interface Arrival {
  seq: number;
  arrivalMs: number;
  reading: TelemetryReading;
  /** What the arrival was meant to be (the recomputation classifies on its own). */
  intent: string;
}

interface Replay {
  name: string;
  arrivals: Arrival[];
  /** Every row the engine returned, in order. */
  rows: FeatureRow[];
  /** Readings the engine handed to the late archive, by identity, with how often. */
  lateArchived: Map<string, number>;
  totals: { applied: number; duplicates: number; conflicts: number; lateCount: number };
  calls: number;
  multiReadingCalls: number;
}

interface Comparison {
  rowsCompared: number;
  mismatches: string[];
  maxAbsError: number;
  maxRelError: number;
  reSendRows: number;
  reSendRowMismatches: string[];
  rowsForLateReadings: string[];
  /** Rows whose count in a window is outside [readings in (t - len, t], widest documented range]. */
  boundViolations: string[];
  perWindow: Record<WindowName, { maxExtra: number; meanExtra: number; p99SpeedMeanDiff: number }>;
}

interface Checked {
  replay: Replay;
  recomputed: Recomputation;
  comparison: Comparison;
}

const nowOf = (a: Arrival) => (Math.floor(a.arrivalMs / BATCH_MS) + 1) * BATCH_MS;
const renamed = (vehicleId: string, prefix: string) => vehicleId.replace(/^parity-v/, prefix);
const identityOfReading = (r: TelemetryReading) => identityOf(r.vehicle_id, r.event_ts_ms);
const identityOfRow = (row: FeatureRow) => identityOf(row.vehicle_id, Date.parse(row.event_ts));

let redis: Redis;
let store: RedisWindowStore;
let generated: Checked;
let shuffled: Checked;
let inOrder: Replay;
/** The vehicles of the generated stream, and per replay the id each one has there. */
let vehicles: string[];
const PREFIXES = { generated: 'parity-v', shuffled: 'parity-s', inOrder: 'parity-o' } as const;

beforeAll(async () => {
  redis = new Redis(localServers().redisUrl);
  for (const prefix of Object.values(PREFIXES)) await deleteVehicleKeys(redis, prefix);
  store = new RedisWindowStore(redis, { allowedLatenessMs: ALLOWED_LATENESS_MS, vehicleIdleTtlS: 86_400 });

  const generatedArrivals: Arrival[] = generateReplayStream({
    ...STREAM,
    startMs: START_MS,
    allowedLatenessMs: ALLOWED_LATENESS_MS,
  });
  vehicles = [...new Set(generatedArrivals.map((a) => a.reading.vehicle_id))].sort();
  // The recomputations run in DuckDB's threads while the engine replays against Redis.
  const generatedRecomputation = recompute(generatedArrivals);
  const generatedReplay = replayThroughEngine('generated', generatedArrivals);
  const recomputedGenerated = await generatedRecomputation;

  // The readings the generated replay applied (the first version of each identity not late).
  const firsts = firstVersions(generatedArrivals);
  const applied = [...recomputedGenerated.rows.keys()].map((identity) => firsts.get(identity)!);
  const shuffledArrivals = shuffleWithinLateness(applied, SHUFFLE_SEED);
  const inOrderArrivals = inEventOrder(applied);
  const shuffledRecomputation = recompute(shuffledArrivals);
  const replays = (async () => {
    const g = await generatedReplay;
    const s = await replayThroughEngine('shuffled', shuffledArrivals);
    const o = await replayThroughEngine('in order', inOrderArrivals);
    return [g, s, o] as const;
  })();
  const [[g, s, o], recomputedShuffled] = await Promise.all([replays, shuffledRecomputation]);
  generated = { replay: g, recomputed: recomputedGenerated, comparison: compareRows(g, recomputedGenerated) };
  shuffled = { replay: s, recomputed: recomputedShuffled, comparison: compareRows(s, recomputedShuffled) };
  inOrder = o;
}, 300_000);

afterAll(async () => {
  await redis?.quit();
});

function recompute(arrivals: readonly Arrival[]): Promise<Recomputation> {
  return recomputeWindows(
    arrivals.map((a) => ({ seq: a.seq, nowMs: nowOf(a), reading: a.reading })),
    DOCUMENTED_WINDOWS,
    ALLOWED_LATENESS_MS,
  );
}

function firstVersions(arrivals: readonly Arrival[]): Map<string, TelemetryReading> {
  const firsts = new Map<string, TelemetryReading>();
  for (const a of arrivals) {
    const identity = identityOfReading(a.reading);
    if (!firsts.has(identity)) firsts.set(identity, a.reading);
  }
  return firsts;
}

function byVehicleId(readings: readonly TelemetryReading[]): Map<string, TelemetryReading[]> {
  const groups = new Map<string, TelemetryReading[]>();
  for (const r of readings) {
    const group = groups.get(r.vehicle_id);
    if (group) group.push(r);
    else groups.set(r.vehicle_id, [r]);
  }
  return groups;
}

/**
 * Each reading arrives after a random delay below the lateness (most within a second, some by up
 * to 20 s, 2 min, or almost the whole lateness): when it arrives, its vehicle's newest applied
 * reading arrived before it, so is at most that delay ahead of it. Now and then the same reading
 * comes again under another event_id, or again with other values, after the first.
 */
function shuffleWithinLateness(readings: readonly TelemetryReading[], seed: number): Arrival[] {
  const pending: Omit<Arrival, 'seq'>[] = [];
  const byVehicle = byVehicleId(readings);
  for (const [v, vehicleId] of vehicles.entries()) {
    const random = createSeededRandom(deriveSeed(seed, v));
    const own = [...(byVehicle.get(vehicleId) ?? [])].sort((a, b) => a.event_ts_ms - b.event_ts_ms);
    for (const original of own) {
      const reading = { ...original, vehicle_id: renamed(vehicleId, PREFIXES.shuffled) };
      const bucket = random.next();
      const delayMs =
        bucket < 0.4
          ? random.range(50, 400)
          : bucket < 0.65
            ? random.range(400, 20_000)
            : bucket < 0.85
              ? random.range(20_000, 120_000)
              : random.range(120_000, ALLOWED_LATENESS_MS - 1_000);
      const arrivalMs = reading.event_ts_ms + delayMs;
      pending.push({ arrivalMs, reading, intent: delayMs < 400 ? 'reading' : 'held_back' });
      if (random.chance(0.04)) {
        const again = { ...reading, event_id: `${reading.event_id}:again` };
        pending.push({
          arrivalMs: arrivalMs + random.range(200, 120_000),
          reading: again,
          intent: 're_send_other_id',
        });
      }
      if (random.chance(0.02)) {
        const speed = Math.round(Math.min(400, reading.speed_kmh + random.range(0.5, 20)) * 100) / 100;
        pending.push({
          arrivalMs: arrivalMs + random.range(200, 120_000),
          reading: { ...reading, speed_kmh: speed },
          intent: 'conflict',
        });
      }
    }
  }
  pending.sort((a, b) => a.arrivalMs - b.arrivalMs);
  return pending.map((a, seq) => ({ ...a, seq }));
}

function inEventOrder(readings: readonly TelemetryReading[]): Arrival[] {
  return [...readings]
    .sort((a, b) => a.event_ts_ms - b.event_ts_ms || a.vehicle_id.localeCompare(b.vehicle_id))
    .map((r, seq) => ({
      seq,
      arrivalMs: r.event_ts_ms + 100,
      reading: { ...r, vehicle_id: renamed(r.vehicle_id, PREFIXES.inOrder) },
      intent: 'reading',
    }));
}

/** Hands the arrivals to the engine batch by batch, as a subscription would, with the batch's clock. */
async function replayThroughEngine(name: string, arrivals: Arrival[]): Promise<Replay> {
  const result: Replay = {
    name,
    arrivals,
    rows: [],
    lateArchived: new Map(),
    totals: { applied: 0, duplicates: 0, conflicts: 0, lateCount: 0 },
    calls: 0,
    multiReadingCalls: 0,
  };
  for (let start = 0; start < arrivals.length; ) {
    const nowMs = nowOf(arrivals[start]!);
    let end = start;
    while (end < arrivals.length && nowOf(arrivals[end]!) === nowMs) end++;
    const batch = arrivals.slice(start, end).map((a) => a.reading);
    start = end;
    const engine = await computeFeatureRows(store, batch, nowMs);
    const perVehicle = byVehicleId(batch);
    result.calls += perVehicle.size;
    for (const readings of perVehicle.values()) if (readings.length > 1) result.multiReadingCalls++;
    for (const key of ['applied', 'duplicates', 'conflicts', 'lateCount'] as const)
      result.totals[key] += engine[key];
    result.rows.push(...engine.rows);
    for (const late of engine.late) {
      const identity = identityOfReading(late.reading);
      result.lateArchived.set(identity, (result.lateArchived.get(identity) ?? 0) + 1);
    }
  }
  return result;
}

function compareRows(replay: Replay, recomputed: Recomputation): Comparison {
  const result: Comparison = {
    rowsCompared: 0,
    mismatches: [],
    maxAbsError: 0,
    maxRelError: 0,
    reSendRows: 0,
    reSendRowMismatches: [],
    rowsForLateReadings: [],
    boundViolations: [],
    perWindow: {} as Comparison['perWindow'],
  };
  const firsts = firstVersions(replay.arrivals);
  const extras = Object.fromEntries(DOCUMENTED_WINDOWS.map((w) => [w.name, [] as number[]]));
  const speedMeanDiffs = Object.fromEntries(DOCUMENTED_WINDOWS.map((w) => [w.name, [] as number[]]));
  const firstRows = new Map<string, FeatureRow>();
  for (const row of replay.rows) {
    const identity = identityOfRow(row);
    const first = firstRows.get(identity);
    if (first) {
      result.reSendRows++;
      if (!isDeepStrictEqual(row, first)) result.reSendRowMismatches.push(identity);
      continue;
    }
    firstRows.set(identity, row);
    if (recomputed.late.has(identity)) result.rowsForLateReadings.push(identity);
    result.rowsCompared++;
    const expected = recomputed.rows.get(identity);
    const reading = firsts.get(identity);
    const mismatch = (what: string) => {
      if (result.mismatches.length < 20) result.mismatches.push(`${identity} (${expected?.status}): ${what}`);
    };
    if (!expected || !reading) {
      mismatch('a row for a reading the recomputation did not apply');
      continue;
    }
    const want = {
      event_id: expected.eventId,
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
    for (const w of DOCUMENTED_WINDOWS) {
      const count = row[`count_${w.name}`];
      const { atLeast, atMost, exactSpeedMean } = expected.bounds[w.name]!;
      if (!(count >= atLeast && count <= atMost && count >= 1) && result.boundViolations.length < 20)
        result.boundViolations.push(`${identity} ${w.name}: count ${count} outside [${atLeast}, ${atMost}]`);
      extras[w.name]!.push(count - atLeast);
      speedMeanDiffs[w.name]!.push(Math.abs((row[`speed_mean_${w.name}`] ?? Number.NaN) - exactSpeedMean));
    }
  }
  for (const w of DOCUMENTED_WINDOWS) {
    const extra = extras[w.name]!;
    const diffs = speedMeanDiffs[w.name]!.sort((a, b) => a - b);
    result.perWindow[w.name] = {
      maxExtra: Math.max(...extra),
      meanExtra: extra.reduce((a, b) => a + b, 0) / extra.length,
      p99SpeedMeanDiff: diffs[Math.floor(0.99 * (diffs.length - 1))]!,
    };
  }
  return result;
}

/**
 * Re-sends that reach the engine in the same script call as their first version (same vehicle, same
 * batch): how many are duplicates, and how many of them arrive when the head has moved past the lateness.
 */
function reSendsInTheFirstsCall({ replay, recomputed }: Checked) {
  const result = { duplicates: 0, misjudged: { duplicates: 0, conflicts: 0, identities: new Set<string>() } };
  for (const reSend of recomputed.reSends) {
    const arrival = replay.arrivals[reSend.seq]!;
    if (nowOf(arrival) !== nowOf(replay.arrivals[reSend.firstSeq]!)) continue;
    if (reSend.outcome === 'duplicate') result.duplicates++;
    if (!reSend.beyondLateness || reSend.outcome === 'late') continue;
    result.misjudged[reSend.outcome === 'duplicate' ? 'duplicates' : 'conflicts']++;
    result.misjudged.identities.add(identityOfReading(arrival.reading));
  }
  return result;
}

function compareValue(
  column: string,
  got: number | null,
  want: ExpectedColumns[string],
  mismatch: (what: string) => void,
  result: Pick<Comparison, 'maxAbsError' | 'maxRelError'>,
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

/**
 * The window bytes of a vehicle's state, everything but its header of bookkeeping and processing
 * time (window-snapshot.ts: the state ends with, per window, the aggregate at the newest event time
 * and the head tile, 60 + 64 bytes, then the newest reading's argument and event_id).
 */
async function windowBytes(vehicleId: string, latest: LatestVector): Promise<Buffer> {
  const state = await redis.hgetBuffer(vehicleKey(vehicleId), 's');
  if (!state) throw new Error(`no state for ${vehicleId}`);
  const tail = WINDOWS.length * (60 + 64) + READING_ARG_BYTES + Buffer.byteLength(latest.eventId);
  return state.subarray(state.length - tail);
}

async function deleteVehicleKeys(client: Redis, prefix: string): Promise<void> {
  for await (const keys of client.scanStream({ match: `fv:{${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
  }
}

const fmt = (n: number) => Number(n.toPrecision(3));
const perWindow = (pick: (w: WindowName) => number) =>
  DOCUMENTED_WINDOWS.map((w) => `${w.name}=${fmt(pick(w.name))}`).join(' ');

describe('rolling windows: engine vs an independent DuckDB recomputation', () => {
  it('recomputes the windows as documented in window-spec.ts', () => {
    expect(WINDOWS).toEqual(DOCUMENTED_WINDOWS);
  });

  it('replays a generated stream that exercises every case', () => {
    const { replay, recomputed } = generated;
    const intents = new Set(replay.arrivals.map((a) => a.intent));
    expect([...intents].sort()).toEqual(
      ['beyond_lateness', 'buffered', 'conflict', 'held_back', 're_send', 'reading'].sort(),
    );
    const rows = [...recomputed.rows.values()];
    const share = (n: number) => n / replay.arrivals.length;
    expect(share(rows.filter((r) => r.status === 'out_of_order').length)).toBeGreaterThan(0.02);
    expect(share(recomputed.late.size)).toBeGreaterThan(0.005);
    expect(share(recomputed.outcomes.conflicts)).toBeGreaterThan(0.01);
    expect(share(recomputed.outcomes.duplicates)).toBeGreaterThan(0.02);
    // Re-sends of late readings: late again.
    expect(recomputed.outcomes.late).toBeGreaterThan(recomputed.late.size);
    // Held back beyond the 1m and 5m windows (where v1 lost the reading from its own row).
    expect(rows.filter((r) => r.behindHeadMs > 70_000).length).toBeGreaterThan(200);
    expect(rows.filter((r) => r.behindHeadMs > 330_000).length).toBeGreaterThan(50);
    // Most engine calls apply several readings of one vehicle in one script call.
    expect(replay.multiReadingCalls / replay.calls).toBeGreaterThan(0.8);
  });

  it('shuffles every vehicle’s readings within the lateness, with re-sends under other ids and conflicts', () => {
    const { replay, recomputed } = shuffled;
    const rows = [...recomputed.rows.values()];
    expect(recomputed.outcomes.applied).toBe(generated.recomputed.outcomes.applied);
    expect(recomputed.outcomes.late).toBe(0);
    expect(replay.totals.lateCount).toBe(0);
    expect(rows.filter((r) => r.status === 'out_of_order').length / rows.length).toBeGreaterThan(0.3);
    expect(rows.filter((r) => r.behindHeadMs > 70_000).length).toBeGreaterThan(2000);
    expect(rows.filter((r) => r.behindHeadMs > 500_000).length).toBeGreaterThan(500);
    expect(Math.max(...rows.map((r) => r.behindHeadMs))).toBeLessThan(ALLOWED_LATENESS_MS);
    expect(replay.arrivals.filter((a) => a.intent === 're_send_other_id').length).toBeGreaterThan(1000);
    expect(recomputed.outcomes.conflicts).toBeGreaterThan(500);
  });
});

describe.each([
  ['generated order', () => generated],
  ['shuffled within the lateness', () => shuffled],
])('rows of the %s replay', (name, checked) => {
  it('gives every applied reading one row equal to the recomputation in every column', () => {
    const { replay, recomputed, comparison } = checked();
    expect(comparison.mismatches).toEqual([]);
    expect(comparison.rowsCompared).toBe(recomputed.rows.size);
    expect(replay.totals.applied).toBe(recomputed.rows.size);
    expect(comparison.maxAbsError).toBeLessThan(1e-3);
  });

  it('keeps every row within the documented bounds: its own reading and all of (t - len, t], at most one tile more and its 10 s tile', () => {
    const { comparison } = checked();
    expect(comparison.boundViolations).toEqual([]);
    for (const w of DOCUMENTED_WINDOWS) {
      // At 1 Hz the far edge's extra span (under one tile) and the near edge's (under 10 s) hold at
      // most tile / 800 ms + 10000 / 800 ms + 2 readings.
      expect(comparison.perWindow[w.name].maxExtra, w.name).toBeLessThanOrEqual(
        w.tileMs / 800 + 10_000 / 800 + 2,
      );
    }
  });

  it('gives a re-send of an applied reading (any event_id) the very same row, changing no window', () => {
    const { replay, recomputed, comparison } = checked();
    const sameCall = reSendsInTheFirstsCall(checked());
    expect(comparison.reSendRowMismatches).toEqual([]);
    // Nothing is made durable in this replay, so a duplicate gets its row again, except in the
    // very call that applied it: that call writes the row once.
    expect(comparison.reSendRows).toBe(recomputed.outcomes.duplicates - sameCall.duplicates);
    expect(replay.rows.length).toBe(comparison.rowsCompared + comparison.reSendRows);
  });

  it('counts duplicates and conflicts, and counts and archives late readings (re-sends too), in no row or window', () => {
    const { replay, recomputed, comparison } = checked();
    // Re-sends in the very call that applied their first version are recognised too, also when
    // the head has meanwhile moved past the lateness (an offline upload).
    expect(replay.totals.duplicates).toBe(recomputed.outcomes.duplicates);
    expect(replay.totals.conflicts).toBe(recomputed.outcomes.conflicts);
    expect(replay.totals.lateCount).toBe(recomputed.outcomes.late);
    expect(comparison.rowsForLateReadings).toEqual([]);
    expect([...replay.lateArchived.keys()].sort()).toEqual([...new Set(recomputed.late)].sort());
    const archived = [...replay.lateArchived.values()].reduce((a, b) => a + b, 0);
    expect(archived).toBe(replay.totals.lateCount);
  });

  it('reports the tiling error against the exact windows', () => {
    const { replay, recomputed, comparison } = checked();
    const outOfOrder = [...recomputed.rows.values()].filter((r) => r.status === 'out_of_order').length;
    const sameCall = reSendsInTheFirstsCall(checked());
    console.log(
      `window parity, ${name}: ${comparison.rowsCompared} rows (${vehicles.length} vehicles, ` +
        `${replay.arrivals.length} arrivals in ${replay.calls} script calls, ${outOfOrder} out of order); ` +
        `engine vs tiled SQL recomputation: max abs err ${fmt(comparison.maxAbsError)}, max rel err ${fmt(comparison.maxRelError)}; ` +
        `tiled vs exact [t-len,t] (0 bound violations): max extra readings ${perWindow((w) => comparison.perWindow[w].maxExtra)}, ` +
        `mean extra ${perWindow((w) => comparison.perWindow[w].meanExtra)}, ` +
        `|speed mean diff| km/h p99 ${perWindow((w) => comparison.perWindow[w].p99SpeedMeanDiff)}; ` +
        `late ${replay.totals.lateCount}, duplicates ${replay.totals.duplicates}, conflicts ${replay.totals.conflicts}; ` +
        `re-sends in their first's call: ${sameCall.duplicates} duplicates, ` +
        `${sameCall.misjudged.duplicates + sameCall.misjudged.conflicts} of them beyond the lateness`,
    );
    expect(comparison.rowsCompared).toBeGreaterThan(60_000);
  });
});

describe('once every reading is in', () => {
  const latestOf = async (prefix: string) => {
    const ids = vehicles.map((v) => renamed(v, prefix));
    const latest = await store.latest(ids);
    return ids.map((id, i) => ({ id, vehicle: vehicles[i]!, latest: latest[i]! }));
  };

  it.each([
    ['generated', PREFIXES.generated],
    ['shuffled', PREFIXES.shuffled],
    ['in order', PREFIXES.inOrder],
  ])(
    '%s: every vehicle’s latest() equals the exact recomputation at its newest event time',
    async (_name, prefix) => {
      const mismatches: string[] = [];
      for (const { id, vehicle, latest } of await latestOf(prefix)) {
        const want = generated.recomputed.finals.get(vehicle)!;
        expect(latest, id).not.toBeNull();
        expect(latest!.eventId, id).toBe(want.eventId);
        expect(latest!.reading.event_ts_ms, id).toBe(want.eventTsMs);
        const got = latestColumns(latest!);
        for (const [column, value] of Object.entries(want.columns)) {
          compareValue(column, got[column] ?? null, value, (what) => mismatches.push(`${id}: ${what}`), {
            maxAbsError: 0,
            maxRelError: 0,
          });
        }
        // The far edge's bound: [newest - len, newest] ⊆ window ⊆ [newest - len - tile + 1 ms, newest].
        for (const w of DOCUMENTED_WINDOWS) {
          const { atLeast, atMost } = want.bounds[w.name]!;
          const count = got[`count_${w.name}`]!;
          if (count < atLeast || count > atMost)
            mismatches.push(`${id} ${w.name}: ${count} not in [${atLeast}, ${atMost}]`);
        }
      }
      expect(mismatches).toEqual([]);
    },
  );

  it('ends every vehicle in the same windows whatever the arrival order, byte for byte (but processed time)', async () => {
    const [g, s, o] = await Promise.all([
      latestOf(PREFIXES.generated),
      latestOf(PREFIXES.shuffled),
      latestOf(PREFIXES.inOrder),
    ]);
    const differing: string[] = [];
    for (let v = 0; v < vehicles.length; v++) {
      const bytes = await Promise.all(
        [g[v]!, s[v]!, o[v]!].map(({ id, latest }) => windowBytes(id, latest!)),
      );
      if (!bytes[0]!.equals(bytes[2]!)) differing.push(`${g[v]!.id} vs in order`);
      if (!bytes[1]!.equals(bytes[2]!)) differing.push(`${s[v]!.id} vs in order`);
      const windows = [g[v]!, s[v]!, o[v]!].map(({ latest }) => latest!.snapshot.windows);
      expect(windows[0]).toEqual(windows[2]);
      expect(windows[1]).toEqual(windows[2]);
    }
    expect(differing).toEqual([]);
    expect(inOrder.totals).toMatchObject({ duplicates: 0, conflicts: 0, lateCount: 0 });
  });
});
