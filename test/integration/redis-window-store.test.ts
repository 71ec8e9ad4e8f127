// RedisWindowStore against a real redis-server and the real script: the semantics of window-spec.ts
// and of the WindowStore port, spelled out on small hand-made streams. Every vehicle id is used by
// one case only, so cases never share state.
//
// The rule every count below follows (window-spec.ts): the row of a reading at event time t counts,
// per window of length `len` and tile `T`, every reading applied so far in
//   [floor(t / T) * T - len,  end of t's 10-second tile)
// so the far edge is tile-granular (len to len + T back) and, for a reading applied out of order,
// readings after t count only inside its own 10 s tile. Distance is the sum of the segments between
// consecutive readings in event order, each counted in the window where it starts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pendingField, RedisWindowStore, vehicleKey } from '../../shared/adapters/redis-window-store.js';
import { FleetError } from '../../shared/errors.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import type { ApplyResult } from '../../shared/ports/window-store.js';
import { buildFeatureRow, type FeatureRow, type FeatureRowReading } from '../../shared/rows/feature-row.js';
import { type LatestVector, READING_ARG_BYTES } from '../../shared/windows/window-snapshot.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';
import { localServers } from '../helpers/local-servers.js';

const LATENESS_MS = 600_000;
const IDLE_TTL_S = 86_400;
const OPTIONS = { allowedLatenessMs: LATENESS_MS, vehicleIdleTtlS: IDLE_TTL_S };
/** On an hour boundary, so every window's tiles start at T0. */
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const HOUR_MS = 3_600_000;
/** One 0.001° step of latitude on the haversine sphere (R = 6371.0088 km). */
const STEP_KM = (6371.0088 * 0.001 * Math.PI) / 180;

let redis: Redis;
let store: RedisWindowStore;

beforeAll(async () => {
  redis = new Redis(localServers().redisUrl, { maxRetriesPerRequest: 1 });
  store = new RedisWindowStore(redis, OPTIONS);
  // Start from no state, also when the suite runs twice against one server (watch mode).
  const stale = await redis.keys('fv:{spec-*');
  if (stale.length > 0) await redis.del(...stale);
});

afterAll(async () => {
  await redis.quit();
});

/** A reading `s` seconds after T0; its position is `north` and `east` steps of 0.001° from (48, 11). */
interface Step {
  id: string;
  s: number;
  speed?: number;
  temp?: number;
  north?: number;
  east?: number;
}

/** What the store answered for one reading, with the row the engine would write for it (if any). */
type Sent = ApplyResult & { row: FeatureRow | null };

/** One vehicle's device: sends steps through the store with an arrival clock that never goes back. */
class Device {
  private nowMs = 0;
  constructor(readonly vehicleId: string) {}

  reading(step: Step): FeatureRowReading {
    return {
      event_id: step.id,
      vehicle_id: this.vehicleId,
      event_ts_ms: T0 + Math.round(step.s * 1000),
      speed_kmh: step.speed ?? 50,
      engine_temp_c: step.temp ?? 90,
      gps_lat: 48 + 0.001 * (step.north ?? 0),
      gps_lon: 11 + 0.001 * (step.east ?? 0),
      fuel_level_pct: null,
      rpm: 1500,
    };
  }

  /** Sends all steps in one store call (one script call), arriving half a second after the newest. */
  send(...steps: Step[]): Promise<Sent[]> {
    const newest = Math.max(...steps.map((step) => this.reading(step).event_ts_ms));
    return this.sendAt(Math.max(this.nowMs, newest + 500), ...steps);
  }

  /** Sends all steps in one store call at processing time `nowMs`. */
  async sendAt(nowMs: number, ...steps: Step[]): Promise<Sent[]> {
    this.nowMs = Math.max(this.nowMs, nowMs);
    const readings = steps.map((step) => this.reading(step));
    const results = await store.apply(
      this.vehicleId,
      readings.map((reading) => ({ eventId: reading.event_id, reading })),
      nowMs,
    );
    return results.map((result, i) => ({ ...result, row: rowFor(readings[i]!, result) }));
  }

  /** Sends each step in its own call and returns the results in order. */
  async sendEach(...steps: Step[]): Promise<Sent[]> {
    const sent: Sent[] = [];
    for (const step of steps) sent.push(...(await this.send(step)));
    return sent;
  }

  async latest(): Promise<LatestVector | null> {
    return (await store.latest([this.vehicleId]))[0]!;
  }

  /** Every field of the vehicle's hash (window state, entries, rings, stored rows), as raw bytes. */
  async stateBytes(): Promise<Record<string, Buffer>> {
    return redis.hgetallBuffer(vehicleKey(this.vehicleId));
  }
}

/** The row feature-engine.ts builds: from the snapshot of a new reading, or a duplicate's first version. */
function rowFor(reading: FeatureRowReading, result: ApplyResult): FeatureRow | null {
  if (result.outcome === 'new') return buildFeatureRow(reading, result.snapshot);
  if (result.outcome === 'duplicate' && result.pending !== null) {
    const first = result.pending;
    return buildFeatureRow(
      { ...first.reading, event_id: first.eventId, vehicle_id: reading.vehicle_id },
      first.snapshot,
    );
  }
  return null;
}

function rowOf(sent: Sent | undefined): FeatureRow {
  if (!sent?.row) throw new Error(`expected a row, got ${sent?.outcome}`);
  return sent.row;
}

/** count_1m, count_5m, count_15m, count_1h of a row (the order of WINDOWS). */
function counts(sent: Sent | undefined): number[] {
  const row = rowOf(sent);
  return WINDOWS.map((w) => row[`count_${w.name}`]);
}

function statusOf(sent: Sent | undefined): string {
  return sent?.outcome === 'new' ? sent.snapshot.status : (sent?.outcome ?? 'none');
}

const every = (seconds: number[]): Step[] => seconds.map((s, i) => ({ id: `r${i}`, s, north: i }));
/** Readings every 10 s from 0 to `lastS` inclusive. */
const tenSecondSteps = (lastS: number): Step[] =>
  Array.from({ length: lastS / 10 + 1 }, (_, i) => ({ id: `r${i * 10}`, s: i * 10 }));

/** Haversine on the script's sphere, independent of shared/geo. */
function km(a: Step, b: Step): number {
  const rad = Math.PI / 180;
  const [lat1, lon1] = [48 + 0.001 * (a.north ?? 0), 11 + 0.001 * (a.east ?? 0)];
  const [lat2, lon2] = [48 + 0.001 * (b.north ?? 0), 11 + 0.001 * (b.east ?? 0)];
  const h =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The latest vector without its processing time (the one thing arrival order may change). */
function withoutProcessedTime(latest: LatestVector | null) {
  if (!latest) throw new Error('expected a latest vector');
  return { ...latest, snapshot: { ...latest.snapshot, processedTsMs: 0 } };
}

/**
 * The window bytes of a vehicle's state, everything but its header of bookkeeping and processing
 * time. window-snapshot.ts: the state ends with, per window, the aggregate at the newest event time
 * ('<Idddddffff') and the head tile ('<iIdddddffff'), then the newest reading's argument and event_id.
 */
async function windowBytes(vehicleId: string): Promise<Buffer> {
  const [state, latest] = await Promise.all([
    redis.hgetBuffer(vehicleKey(vehicleId), 's'),
    store.latest([vehicleId]).then((l) => l[0]),
  ]);
  if (!state || !latest) throw new Error(`no state for ${vehicleId}`);
  const tail = WINDOWS.length * (60 + 64) + READING_ARG_BYTES + Buffer.byteLength(latest.eventId);
  return state.subarray(state.length - tail);
}

/** A row without the columns that name the vehicle and the processing time. */
function rowValues(sent: Sent | undefined) {
  const { vehicle_id: _vehicle, processed_ts: _processed, ...values } = rowOf(sent);
  return values;
}

describe('RedisWindowStore: windows of in-order readings (real Redis)', () => {
  it('accumulates in every window: count, mean, min, max, population std, distance', async () => {
    const device = new Device('spec-accumulate');
    const sent = await device.sendEach(
      { id: 'a', s: 0, speed: 10, temp: 80, north: 0 },
      { id: 'b', s: 10, speed: 20, temp: 90, north: 1 },
      { id: 'c', s: 20, speed: 30, temp: 100, north: 2 },
    );
    expect(sent.map(statusOf)).toEqual(['in_order', 'in_order', 'in_order']);
    expect(rowOf(sent[0])).toMatchObject({ count_1m: 1, speed_std_1m: 0, distance_km_1m: 0, late: false });
    for (const w of WINDOWS) {
      expect(rowOf(sent[2])).toMatchObject({
        [`count_${w.name}`]: 3,
        [`speed_mean_${w.name}`]: 20,
        [`speed_min_${w.name}`]: 10,
        [`speed_max_${w.name}`]: 30,
        [`speed_std_${w.name}`]: 8.165, // sqrt(200 / 3)
        [`temp_mean_${w.name}`]: 90,
        [`temp_min_${w.name}`]: 80,
        [`temp_max_${w.name}`]: 100,
        [`temp_std_${w.name}`]: 8.165,
        [`distance_km_${w.name}`]: Math.round(2 * STEP_KM * 1e4) / 1e4,
      });
    }
  });

  // Counts per row, in the order count_1m, count_5m, count_15m, count_1h. Tiles: 1m 10 s, 5m 30 s,
  // 15m 60 s, 1h 300 s; a window is its tile and the `len / T` tiles before it.
  it.each([
    {
      vehicle: 'spec-roll-evict',
      when: 'a reading in a new tile drops the oldest tile of the 1m window',
      seconds: [0, 65, 70],
      counts: [
        [1, 1, 1, 1],
        [2, 2, 2, 2], // 65 s: 1m is [0 s, 65 s]
        [2, 3, 3, 3], // 70 s: 1m is [10 s, 70 s]
      ],
    },
    {
      vehicle: 'spec-roll-1h',
      when: 'the 1h window moves on by tiles of 5 minutes',
      seconds: [0, 3899, 3900],
      counts: [
        [1, 1, 1, 1],
        [1, 1, 1, 2],
        [2, 2, 2, 2],
      ],
    },
    {
      vehicle: 'spec-roll-gap',
      when: 'a gap longer than the 1h window empties every window',
      seconds: [0, 10, 20, 20 + 3900],
      counts: [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        [3, 3, 3, 3],
        [1, 1, 1, 1],
      ],
    },
    {
      vehicle: 'spec-roll-longest',
      when: 'a window covers at most its length plus one tile (69.999 s for 1m)',
      seconds: [10, 79.999],
      counts: [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
      ],
    },
    {
      vehicle: 'spec-roll-shortest',
      when: 'a window covers at least its length (a reading 60.001 s back is out of 1m)',
      seconds: [9.999, 70],
      counts: [
        [1, 1, 1, 1],
        [1, 2, 2, 2],
      ],
    },
  ])('$when', async ({ vehicle, seconds, counts: expected }) => {
    const device = new Device(vehicle);
    const sent = await device.sendEach(...every(seconds));
    expect(sent.map(counts)).toEqual(expected);
  });

  it('after a gap the statistics are the reading’s own (the 1h window forgot everything)', async () => {
    const device = new Device('spec-gap-stats');
    const sent = await device.sendEach(
      { id: 'a', s: 0, speed: 100, temp: 120 },
      { id: 'b', s: 4000, speed: 7, temp: 60 },
    );
    expect(rowOf(sent[1])).toMatchObject({
      count_1h: 1,
      speed_mean_1h: 7,
      speed_min_1h: 7,
      speed_max_1h: 7,
      speed_std_1h: 0,
      temp_max_1h: 60,
      distance_km_1h: 0,
    });
  });

  it('counts a segment only in windows where it starts: a reading 75 s after the previous one', async () => {
    const device = new Device('spec-segment-start');
    const sent = await device.sendEach({ id: 'a', s: 0, north: 0 }, { id: 'b', s: 75, north: 1 });
    // 1m at 75 s starts at 10 s: the segment from 0 s is not in it; the longer windows have it.
    expect(counts(sent[1])).toEqual([1, 2, 2, 2]);
    expect(rowOf(sent[1])).toMatchObject({
      distance_km_1m: 0,
      distance_km_5m: Math.round(STEP_KM * 1e4) / 1e4,
      distance_km_1h: Math.round(STEP_KM * 1e4) / 1e4,
    });
  });
});

describe('RedisWindowStore: readings out of order, within the allowed lateness (real Redis)', () => {
  // Every case: readings every 10 s from 0 to 1200 s (speed 50), then 1205 s: the head. Then one
  // reading x (speed 200) at `s`. Expected counts by the rule at the top of this file, x included;
  // speed_max 200 in every window shows that x is in each of them.
  it.each([
    {
      s: 1203,
      what: '2 s behind the head, in its 10 s tile: the head counts too',
      // 1m [1140, 1210): 1140..1200 (7), 1205, x. 5m [900, 1210): 31 + 2. 15m [300, 1210): 91 + 2.
      // 1h [-2400, 1210): all 121 + 2.
      counts: [9, 33, 93, 123],
    },
    {
      s: 1195,
      what: '10 s behind the head, in the tile before: nothing after x counts',
      // 1m [1130, 1200): 7 + x. 5m [870, 1200): 33 + x. 15m [240, 1200): 96 + x. 1h: 120 + x.
      counts: [8, 34, 97, 121],
    },
    {
      s: 610.5,
      what: '594.5 s behind the head (lateness 600 s)',
      // 1m [550, 620): 550..610 (7) + x. 5m [300, 620): 32 + x. 15m and 1h [.., 620): 62 + x.
      counts: [8, 33, 63, 63],
    },
    {
      s: 605,
      what: 'exactly the lateness behind the head: still in time',
      // 1m [540, 610): 540..600 (7) + x. 5m [300, 610): 31 + x. 15m and 1h: 0..600 (61) + x.
      counts: [8, 32, 62, 62],
    },
  ])('x $what: its row holds itself and every reading of (t - len, t]', async ({ s, counts: expected }) => {
    const device = new Device(`spec-ooo-${String(s).replace('.', '_')}`);
    await device.send(...tenSecondSteps(1200), { id: 'head', s: 1205 });
    const [x] = await device.send({ id: 'x', s, speed: 200 });
    expect(statusOf(x)).toBe('out_of_order');
    expect(counts(x)).toEqual(expected);
    for (const w of WINDOWS) {
      expect(rowOf(x)[`speed_max_${w.name}`], w.name).toBe(200);
      expect(rowOf(x)[`speed_min_${w.name}`], w.name).toBe(50);
    }
    expect(rowOf(x).late).toBe(true);
  });

  it('makes later rows see an out-of-order reading', async () => {
    const device = new Device('spec-ooo-later-rows');
    await device.sendEach(
      { id: 'a', s: 0, speed: 10, north: 0 },
      { id: 'b', s: 20, speed: 30, north: 1 },
      { id: 'c', s: 40, speed: 50, north: 2 },
    );
    const [x] = await device.send({ id: 'x', s: 15, speed: 100, north: 0.5 });
    // 1m of x: [-50, 20): a and x, not b (20 s is past x's 10 s tile).
    expect(rowOf(x)).toMatchObject({ late: true, count_1m: 2, speed_max_1m: 100, speed_min_1m: 10 });
    const [d] = await device.send({ id: 'd', s: 50, speed: 60, north: 3 });
    // x splits a-b into a-x-b on the same meridian: the path is still 3 steps.
    expect(rowOf(d)).toMatchObject({
      late: false,
      count_1m: 5,
      speed_max_1m: 100,
      distance_km_1m: Math.round(3 * STEP_KM * 1e4) / 1e4,
    });
  });

  it('splits the segment an out-of-order reading falls into: A, C, then B gives d(A,B) + d(B,C)', async () => {
    const A = { id: 'A', s: 0, north: 0, east: 0 };
    const B = { id: 'B', s: 10, north: 1, east: 1 };
    const C = { id: 'C', s: 20, north: 2, east: 0 };
    const D = { id: 'D', s: 30, north: 3, east: 0 };
    const device = new Device('spec-split');
    const [, c, b] = await device.sendEach(A, C, B);
    // Before B: one segment A-C.
    expect(rowOf(c).distance_km_1h).toBeCloseTo(km(A, C), 4);
    // B's row: segments that start up to the end of B's 10 s tile: A-B and B-C.
    expect(rowOf(b).distance_km_1m).toBeCloseTo(km(A, B) + km(B, C), 4);
    expect(km(A, B) + km(B, C) - km(A, C)).toBeGreaterThan(0.04); // the cases differ visibly
    const latest = await device.latest();
    for (const [w, spec] of WINDOWS.entries()) {
      expect(latest?.snapshot.windows[w]?.distanceKm, spec.name).toBeCloseTo(km(A, B) + km(B, C), 5);
    }
    const [d] = await device.send(D);
    expect(rowOf(d).distance_km_1m).toBeCloseTo(km(A, B) + km(B, C) + km(C, D), 4);
  });

  it('updates latest() with a later out-of-order arrival: the windows at the newest event time', async () => {
    const steps = {
      a: { id: 'a', s: 0, speed: 10, north: 0 },
      b: { id: 'b', s: 10, speed: 99, north: 1, east: 1 },
      c: { id: 'c', s: 20, speed: 30, north: 2 },
    };
    const shuffled = new Device('spec-latest-ooo');
    const [, c] = await shuffled.sendEach(steps.a, steps.c);
    await shuffled.send(steps.b);
    const latest = await shuffled.latest();
    // Still c's reading, but windows holding b.
    expect(latest?.eventId).toBe('c');
    const { event_id: _id, vehicle_id: _vehicle, ...cValues } = shuffled.reading(steps.c);
    expect(latest?.reading).toEqual(cValues);
    expect(latest?.snapshot.windows.map((w) => [w.count, w.speed.max])).toEqual(WINDOWS.map(() => [3, 99]));
    expect(latest?.snapshot.windows).not.toEqual(c?.outcome === 'new' && c.snapshot.windows);

    const inOrder = new Device('spec-latest-in-order');
    await inOrder.sendEach(steps.a, steps.b, steps.c);
    expect(withoutProcessedTime(latest)).toEqual(withoutProcessedTime(await inOrder.latest()));
    expect(await windowBytes(shuffled.vehicleId)).toEqual(await windowBytes(inOrder.vehicleId));
  });

  it('ends in the same windows whatever the arrival order: all 24 orders of 4 readings', async () => {
    const steps: Step[] = [
      { id: 'a', s: 0, speed: 12.5, temp: 81, north: 0 },
      { id: 'b', s: 35, speed: 47.25, temp: 88.5, north: 2, east: 1 },
      { id: 'c', s: 61, speed: 33, temp: 79.75, north: 1, east: 3 },
      { id: 'd', s: 400, speed: 101.125, temp: 97, north: 5 },
    ];
    const next: Step = { id: 'e', s: 401, speed: 5, north: 6 };
    const permutations = (items: Step[]): Step[][] =>
      items.length <= 1
        ? [items]
        : items.flatMap((x, i) => permutations(items.toSpliced(i, 1)).map((p) => [x, ...p]));
    const orders = permutations(steps);
    const reference = new Device('spec-order-ref');
    await reference.sendEach(...steps);
    const referenceBytes = await windowBytes(reference.vehicleId);
    const [referenceNext] = await reference.send(next);
    for (const [k, order] of orders.entries()) {
      const device = new Device(`spec-order-${k}`);
      // Half the orders one reading per call, half all in one call.
      const sent = k % 2 === 0 ? await device.sendEach(...order) : await device.send(...order);
      expect(sent.map((s) => s.outcome)).toEqual(['new', 'new', 'new', 'new']);
      const label = order.map((s) => s.id).join('');
      expect(await windowBytes(device.vehicleId), label).toEqual(referenceBytes);
      // The rings agree too: the next reading's row is the same, except its processing time.
      const [afterwards] = await device.send(next);
      expect(rowValues(afterwards), label).toEqual(rowValues(referenceNext));
    }
  });

  it('does not apply a reading older than head - lateness: late, and a re-send is late again', async () => {
    const device = new Device('spec-late');
    await device.sendEach({ id: 'a', s: 0 }, { id: 'b', s: 700 });
    const stateBefore = await device.stateBytes();
    const [late] = await device.send({ id: 'old', s: 99.999, speed: 300 });
    expect(late).toEqual({ outcome: 'late', row: null });
    expect(await device.stateBytes()).toEqual(stateBefore);
    // No dedupe mark for a late reading: a re-send is late again (and archived again).
    const [resent] = await device.send({ id: 'old', s: 99.999, speed: 300 });
    expect(resent?.outcome).toBe('late');
    // Exactly head - lateness is still in time.
    const [edge] = await device.send({ id: 'edge', s: 100, speed: 1 });
    expect(statusOf(edge)).toBe('out_of_order');
    const [next] = await device.send({ id: 'c', s: 710 });
    expect(counts(next)).toEqual([2, 2, 4, 4]); // 15m and 1h: a, edge, b, c; never `old`
    expect(rowOf(next).speed_max_1h).toBe(50);
  });

  it('measures lateness per vehicle: one vehicle’s clock never makes another’s readings late', async () => {
    const ahead = new Device('spec-clock-ahead');
    const behind = new Device('spec-clock-behind');
    await ahead.send({ id: 'same-id', s: 10_000 });
    const sent = await behind.sendEach({ id: 'same-id', s: 0 }, { id: 'next', s: 5 });
    // Also the same event_id and instant on another vehicle is another reading.
    expect(sent.map(statusOf)).toEqual(['in_order', 'in_order']);
    expect(counts(sent[1])).toEqual([2, 2, 2, 2]);
  });
});

describe('RedisWindowStore: one reading, one identity (real Redis)', () => {
  it('answers an exact re-send with the stored first version and changes nothing', async () => {
    const device = new Device('spec-dup');
    const [first] = await device.send({ id: 'a', s: 0, speed: 10 });
    await device.send({ id: 'b', s: 10, speed: 20 });
    const stateBefore = await device.stateBytes();
    const latestBefore = await device.latest();

    const [again] = await device.send({ id: 'a', s: 0, speed: 10 });
    expect(again?.outcome).toBe('duplicate');
    const { event_id: _id, vehicle_id: _vehicle, ...values } = device.reading({ id: 'a', s: 0, speed: 10 });
    expect(again?.outcome === 'duplicate' && again.pending).toEqual({
      eventId: 'a',
      modelVersion: null,
      reading: values,
      snapshot: first?.outcome === 'new' && first.snapshot, // processed_ts of the first attempt, too
    });
    expect(again?.row).toEqual(first?.row);
    expect(await device.stateBytes()).toEqual(stateBefore);
    expect(await device.latest()).toEqual(latestBefore);

    const [next] = await device.send({ id: 'c', s: 20, speed: 30 });
    expect(counts(next)).toEqual([3, 3, 3, 3]);
    expect(rowOf(next).speed_mean_1m).toBe(20);
  });

  it('takes the same vehicle and instant under another event_id for the same reading', async () => {
    const device = new Device('spec-dup-other-id');
    const [first] = await device.send({ id: 'device-42', s: 0, speed: 10 });
    const stateBefore = await device.stateBytes();
    const [again] = await device.send({ id: 'derived-7f3a', s: 0, speed: 10 });
    expect(again?.outcome).toBe('duplicate');
    // The first version stands, its event_id included: the re-send's row is the first row.
    expect(again?.outcome === 'duplicate' && again.pending?.eventId).toBe('device-42');
    expect(again?.row).toEqual(first?.row);
    expect(await device.stateBytes()).toEqual(stateBefore);
    const [next] = await device.send({ id: 'b', s: 10, speed: 30 });
    expect(counts(next)).toEqual([2, 2, 2, 2]);
  });

  it.each([
    { what: 'the same event_id', id: 'a' },
    { what: 'another event_id', id: 'z' },
  ])('keeps the first version on a conflicting re-send ($what, other values)', async ({ id }) => {
    const device = new Device(`spec-conflict-${id}`);
    await device.send({ id: 'a', s: 0, speed: 10 }, { id: 'b', s: 5, speed: 10 });
    const stateBefore = await device.stateBytes();
    const sent = await device.send({ id, s: 0, speed: 99 }, { id, s: 5, speed: 10, north: 1 });
    expect(sent).toEqual([
      { outcome: 'conflict', row: null },
      { outcome: 'conflict', row: null },
    ]);
    expect(await device.stateBytes()).toEqual(stateBefore);
    const [next] = await device.send({ id: 'c', s: 10, speed: 40 });
    expect(rowOf(next)).toMatchObject({
      count_1m: 3,
      speed_max_1m: 40,
      speed_mean_1m: 20,
      distance_km_1m: 0,
    });
  });

  it('returns the first version until markDurable, then nothing: the stored row is dropped', async () => {
    const device = new Device('spec-durable');
    const [first] = await device.send({ id: 'a', s: 0 }, { id: 'b', s: 1 });
    const key = vehicleKey(device.vehicleId);
    expect(await redis.hexists(key, pendingField(T0))).toBe(1);

    const [pending] = await device.send({ id: 'a', s: 0 });
    expect(pending?.outcome === 'duplicate' && pending.pending?.eventId).toBe('a');
    expect(pending?.row).toEqual(first?.row);

    await store.markDurable(device.vehicleId, [T0, T0 + 1000, T0 + 999_000 /* never seen: harmless */]);
    expect(await redis.hexists(key, pendingField(T0))).toBe(0);
    const stateBefore = await device.stateBytes();
    const sent = await device.send({ id: 'a', s: 0 }, { id: 'b-again', s: 1 });
    expect(sent).toEqual([
      { outcome: 'duplicate', pending: null, row: null },
      { outcome: 'duplicate', pending: null, row: null },
    ]);
    // A conflict is still told from a duplicate once only the mark is left.
    const [conflict] = await device.send({ id: 'a', s: 0, speed: 51 });
    expect(conflict?.outcome).toBe('conflict');
    expect(await device.stateBytes()).toEqual(stateBefore);
  });

  it('recognises a parked vehicle’s re-send two hours of processing time later: not applied', async () => {
    // Dedupe follows event time, not a wall-clock TTL: the vehicle sent nothing newer, so its reading
    // is still within the lateness of its newest event time.
    const device = new Device('spec-parked');
    const [first] = await device.sendAt(T0 + 500, { id: 'a', s: 0 }, { id: 'b', s: 1 });
    const stateBefore = await device.stateBytes();
    const twoHoursLater = T0 + 2 * HOUR_MS;

    const [notDurable] = await device.sendAt(twoHoursLater, { id: 'a', s: 0 });
    expect(notDurable?.outcome).toBe('duplicate');
    expect(notDurable?.row).toEqual(first?.row);
    await store.markDurable(device.vehicleId, [T0, T0 + 1000]);
    const durableState = await device.stateBytes();
    const [durable] = await device.sendAt(twoHoursLater + 1000, { id: 'a', s: 0 });
    expect(durable).toEqual({ outcome: 'duplicate', pending: null, row: null });
    expect(await device.stateBytes()).toEqual(durableState);
    expect(Object.keys(stateBefore).length).toBeGreaterThan(Object.keys(durableState).length);
    expect((await device.latest())?.snapshot.windows[3]?.count).toBe(2);

    // Once the vehicle's own event time has moved on past the lateness, the re-send is late.
    await device.sendAt(twoHoursLater + 2000, { id: 'c', s: 700 });
    const [beyond] = await device.sendAt(twoHoursLater + 3000, { id: 'a', s: 0 });
    expect(beyond?.outcome).toBe('late');
  });

  it('applies one vehicle’s batch in one call exactly as one call per reading would', async () => {
    const steps: Step[] = [
      { id: 'a', s: 0, speed: 10, north: 0 },
      { id: 'b', s: 10, speed: 20, north: 1 },
      { id: 'c', s: 5, speed: 30, north: 9 }, // out of order within the batch
      { id: 'b2', s: 10, speed: 20, north: 1 }, // the same instant again, under another id
      { id: 'c', s: 5, speed: 31, north: 9 }, // a conflict within the batch
      { id: 'd', s: 70, speed: 40, north: 2 },
    ];
    const arrival = T0 + 70_500;
    const batched = await new Device('spec-batch').sendAt(arrival, ...steps);
    const oneByOne = new Device('spec-batch-single');
    const single: Sent[] = [];
    for (const step of steps) single.push(...(await oneByOne.sendAt(arrival, step)));
    expect(batched.map(statusOf)).toEqual([
      'in_order',
      'in_order',
      'out_of_order',
      'duplicate',
      'conflict',
      'in_order',
    ]);
    expect(batched.map(statusOf)).toEqual(single.map(statusOf));
    // The re-send of b in the same call as b itself: no second row (the call writes b's once); in a
    // later call, b's stored first version (not durable yet).
    expect(batched[3]).toEqual({ outcome: 'duplicate', pending: null, row: null });
    expect(single[3]?.row).toEqual(single[1]?.row);
    const newRows = (sent: Sent[]) => sent.filter((s) => s.outcome === 'new').map(rowValues);
    expect(newRows(batched)).toEqual(newRows(single));
    expect(counts(batched[5])).toEqual([2, 4, 4, 4]); // 1m at 70 s is [10, 80): b and d
    expect(rowOf(batched[5]).distance_km_1h).toBeCloseTo(
      km(steps[0]!, steps[2]!) + km(steps[2]!, steps[1]!) + km(steps[1]!, steps[5]!),
      4,
    );
  });

  it('recognises a re-send in the same call as its first version, also beyond the lateness', async () => {
    const device = new Device('spec-batch-resend-beyond');
    const sent = await device.send(
      { id: 'a', s: 0 },
      { id: 'b', s: 700 },
      { id: 'a', s: 0 },
      { id: 'a', s: 0, speed: 1 },
    );
    expect(sent.map((s) => s.outcome)).toEqual(['new', 'new', 'duplicate', 'conflict']);
  });

  it('keeps recognising re-sends after its event time jumps forward by more than 2^32 ms', async () => {
    const device = new Device('spec-clock-jump');
    const jumpS = 50 * 86_400;
    await device.sendAt(T0 + 500, { id: 'a', s: 0 });
    await device.sendAt(T0 + 1000, { id: 'b', s: jumpS });
    const [again] = await device.sendAt(T0 + 1500, { id: 'b', s: jumpS });
    expect(again?.outcome).toBe('duplicate');
  });

  it('through the engine: a duplicate gives the same row, conflicts and late readings give none and are counted', async () => {
    const device = new Device('spec-engine');
    const reading = (step: Step) => ({ ...device.reading(step), extra: {} });
    const first = await computeFeatureRows(
      store,
      [reading({ id: 'a', s: 0 }), reading({ id: 'b', s: 700 })],
      T0 + 700_500,
    );
    const second = await computeFeatureRows(
      store,
      [
        reading({ id: 'a', s: 0 }), // re-send, not durable yet: the same row again
        reading({ id: 'b-other-id', s: 700 }), // the same instant under another event_id: the same
        reading({ id: 'b', s: 700, speed: 1 }), // conflict
        reading({ id: 'old', s: 50 }), // beyond the lateness
        reading({ id: 'c', s: 710 }),
      ],
      T0 + 711_000,
    );
    expect(first).toMatchObject({ applied: 2, duplicates: 0, conflicts: 0, lateCount: 0 });
    expect(second).toMatchObject({ applied: 1, duplicates: 2, conflicts: 1, lateCount: 1 });
    expect(second.rows.map((r) => r.event_id)).toEqual(['a', 'b', 'c']);
    expect(second.rows.slice(0, 2)).toEqual(first.rows);
    expect(second.late.map((l) => [l.reading.event_id, l.processedTsMs])).toEqual([['old', T0 + 711_000]]);
    expect(second.rows[2]?.count_1h).toBe(3);
  });
});

describe('RedisWindowStore: keys, expiry and the latest vector (real Redis)', () => {
  it.each(['a}b', '{x}', 'x y', '', '-leading-dash', 'a'.repeat(65), 'ümlaut', 'v1\r\nFLUSHALL', 'fv:*'])(
    'rejects the hostile vehicle id %j with invalid_identifier before anything reaches Redis',
    async (id) => {
      const sendCommand = vi.spyOn(redis, 'sendCommand');
      try {
        const reading = new Device('spec-hostile').reading({ id: 'a', s: 0 });
        for (const call of [
          () => store.apply(id, [{ eventId: 'a', reading }], T0),
          () => store.latest(['spec-hostile', id]),
        ]) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(FleetError);
          expect((error as FleetError).code).toBe('invalid_identifier');
        }
        expect(sendCommand).not.toHaveBeenCalled();
      } finally {
        sendCommand.mockRestore();
      }
    },
  );

  it('rejects a hostile vehicle id in markDurable with invalid_identifier too', async () => {
    const error = await store.markDurable('a}b', [T0]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).code).toBe('invalid_identifier');
  });

  it('touches only keys with the vehicle id as {hash tag}: one Redis Cluster slot per vehicle', async () => {
    const id = 'spec-keys.v-1_A';
    const device = new Device(id);
    expect(vehicleKey(id)).toBe(`fv:{${id}}`);
    // Every command the script runs, as MONITOR shows it (a script's commands come from "lua").
    const monitor = await redis.duplicate().monitor();
    const scriptCommands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua') scriptCommands.push(args);
    });
    try {
      // In order, out of order (tiles, entries), duplicate, conflict, late, then markDurable.
      await device.send({ id: 'a', s: 0 }, { id: 'b', s: 700 }, { id: 'c', s: 650 });
      await device.send({ id: 'c', s: 650 }, { id: 'c', s: 650, speed: 1 }, { id: 'old', s: 1 });
      await store.markDurable(id, [T0 + 650_000]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await monitor.disconnect();
    }
    expect(scriptCommands.length).toBeGreaterThan(3);
    // Redis Cluster hashes only what is between the first { and the next }.
    const hashTag = (key: string) => key.slice(key.indexOf('{') + 1, key.indexOf('}'));
    for (const [command, key] of scriptCommands)
      expect(`${command} ${hashTag(key!)}`).toBe(`${command} ${id}`);
    const keys = await redis.keys(`*${id}*`);
    expect(keys.map(hashTag)).toEqual(keys.map(() => id));
    expect(keys).toContain(`fv:{${id}}`);
  });

  it('keeps working when a vehicle’s other keys were evicted', async () => {
    const device = new Device('spec-evicted');
    await device.send(...tenSecondSteps(100));
    const others = (await redis.keys('*{spec-evicted}*')).filter(
      (key) => key !== vehicleKey(device.vehicleId),
    );
    if (others.length > 0) await redis.del(...others);
    const sent = [...(await device.send({ id: 'next', s: 110 })), ...(await device.send({ id: 'x', s: 55 }))];
    expect(sent.map((s) => s.outcome)).toEqual(['new', 'new']);
  });

  it('expires a vehicle after the idle ttl, refreshing it at most every eighth of it', async () => {
    const device = new Device('spec-ttl');
    await device.sendAt(T0 + 500, { id: 'a', s: 0 });
    const keys = await redis.keys('*{spec-ttl}*');
    expect(keys.length).toBeGreaterThan(0);
    const ttls = () => Promise.all(keys.map((key) => redis.ttl(key)));
    const setTtls = (seconds: number) => Promise.all(keys.map((key) => redis.expire(key, seconds)));
    for (const ttl of await ttls()) {
      expect(ttl).toBeGreaterThan(IDLE_TTL_S - 60);
      expect(ttl).toBeLessThanOrEqual(IDLE_TTL_S);
    }
    // Shortened by hand to see when a write refreshes it: not an hour later (an EXPIRE costs as much
    // as a write), but once an eighth of the idle ttl (3 h) has passed since the last refresh.
    await setTtls(1000);
    await device.sendAt(T0 + HOUR_MS, { id: 'b', s: 1 });
    for (const ttl of await ttls()) expect(ttl).toBeLessThanOrEqual(1000);
    await device.sendAt(T0 + 4 * HOUR_MS, { id: 'c', s: 2 });
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(IDLE_TTL_S - 60);
    // A duplicate writes nothing, so it refreshes nothing either.
    await setTtls(1000);
    await device.sendAt(T0 + 9 * HOUR_MS, { id: 'c', s: 2 });
    for (const ttl of await ttls()) expect(ttl).toBeLessThanOrEqual(1000);
  });

  it('serves the latest vector: the newest reading with the windows at its event time', async () => {
    const device = new Device('spec-latest');
    const sent = await device.sendEach(
      { id: 'a', s: 0, speed: 10, north: 0 },
      { id: 'b', s: 10, speed: 20, north: 1 },
    );
    const [latest, unknown, again] = await store.latest(['spec-latest', 'spec-never-seen', 'spec-latest']);
    expect(unknown).toBeNull();
    expect(again).toEqual(latest);
    expect(latest?.eventId).toBe('b');
    const {
      event_id: _id,
      vehicle_id: _vehicle,
      ...values
    } = device.reading({ id: 'b', s: 10, speed: 20, north: 1 });
    expect(latest?.reading).toEqual(values);
    // Nothing arrived out of order: the newest row's snapshot, byte for byte.
    expect(latest?.snapshot).toEqual(sent[1]?.outcome === 'new' && sent[1].snapshot);
    expect(await store.latest([])).toEqual([]);
  });
});
