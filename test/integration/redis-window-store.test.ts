// RedisWindowStore against a real redis-server: the window semantics of window-spec.ts, spelled out
// on small hand-made streams. Every vehicle id is used by one case only, so cases never share state.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisWindowStore, vehicleKey } from '../../shared/adapters/redis-window-store.js';
import { FleetError } from '../../shared/errors.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import {
  buildFeatureRow,
  type FeatureRow,
  type FeatureRowReading,
} from '../../shared/features/feature-row.js';
import type { ApplyOutcome } from '../../shared/ports/window-store.js';
import type { RecordStatus, WindowSnapshot } from '../../shared/windows/window-snapshot.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';
import { localServers } from '../helpers/local-servers.js';

const OPTIONS = { allowedLatenessMs: 600_000, dedupeRetentionS: 900, vehicleIdleTtlS: 7200 };
/** On an hour boundary, so tile ids start at a multiple of every window's ring. */
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
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

/** A reading `s` seconds after T0; position steps 0.001° north per `north` unit. */
interface Step {
  id: string;
  s: number;
  speed?: number;
  temp?: number;
  north?: number;
  east?: number;
}

interface Sent {
  outcome: ApplyOutcome;
  status: RecordStatus;
  snapshot: WindowSnapshot;
  /** Null for a reading that was not applied (late). */
  row: FeatureRow | null;
}

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
  async send(...steps: Step[]): Promise<Sent[]> {
    const readings = steps.map((step) => this.reading(step));
    this.nowMs = Math.max(this.nowMs, ...readings.map((r) => r.event_ts_ms + 500));
    const results = await store.apply(
      this.vehicleId,
      readings.map((reading) => ({ eventId: reading.event_id, reading })),
      this.nowMs,
    );
    return results.map(({ outcome, snapshot }, i) => ({
      outcome,
      status: snapshot.status,
      snapshot,
      row: snapshot.status === 'late' ? null : buildFeatureRow(readings[i]!, snapshot),
    }));
  }

  /** Sends each step in its own call and returns the results in order. */
  async sendEach(...steps: Step[]): Promise<Sent[]> {
    const sent: Sent[] = [];
    for (const step of steps) sent.push(...(await this.send(step)));
    return sent;
  }

  /** Every field of the vehicle's hash (window state, rings, latest vector), as raw bytes. */
  async stateBytes(): Promise<Record<string, Buffer>> {
    return redis.hgetallBuffer(vehicleKey(this.vehicleId));
  }
}

/** count_1m, count_5m, count_15m, count_1h of a row (the order of WINDOWS). */
function counts(sent: Sent | undefined): number[] {
  const row = sent?.row;
  if (!row) throw new Error('expected an applied reading with a row');
  return WINDOWS.map((w) => row[`count_${w.name}`]);
}

function rowOf(sent: Sent | undefined): FeatureRow {
  if (!sent?.row) throw new Error('expected an applied reading with a row');
  return sent.row;
}

const every = (seconds: number[]): Step[] => seconds.map((s, i) => ({ id: `r${i}`, s, north: i }));

describe('RedisWindowStore windows (real Redis)', () => {
  it('accumulates in-order readings in every window: count, mean, min, max, population std, distance', async () => {
    const device = new Device('spec-accumulate');
    const sent = await device.sendEach(
      { id: 'a', s: 0, speed: 10, temp: 80, north: 0 },
      { id: 'b', s: 10, speed: 20, temp: 90, north: 1 },
      { id: 'c', s: 20, speed: 30, temp: 100, north: 2 },
    );
    expect(sent.map((s) => [s.outcome, s.status])).toEqual([
      ['new', 'in_order'],
      ['new', 'in_order'],
      ['new', 'in_order'],
    ]);
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

  // Counts per row, in the order count_1m, count_5m, count_15m, count_1h. Rings: 1m = 7 tiles of
  // 10 s, 5m = 11 of 30 s, 15m = 16 of 60 s, 1h = 13 of 300 s.
  it.each([
    {
      vehicle: 'spec-roll-evict',
      when: 'a reading in a new tile evicts the oldest tile of the 1m ring',
      seconds: [0, 65, 70],
      counts: [
        [1, 1, 1, 1],
        [2, 2, 2, 2], // 65 s still sees tile 0: the ring spans up to 70 s
        [2, 3, 3, 3], // tile 7 evicts tile 0 from the 1m ring only
      ],
    },
    {
      vehicle: 'spec-roll-1h',
      when: 'the 1h ring rolls after 13 tiles of 5 minutes',
      seconds: [0, 3899, 3900],
      counts: [
        [1, 1, 1, 1],
        [1, 1, 1, 2],
        [2, 2, 2, 2],
      ],
    },
    {
      vehicle: 'spec-roll-gap',
      when: 'a gap longer than the 1h ring empties every window',
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

  it('lands an out-of-order reading in its own tile; it moves no position and later rows see it', async () => {
    const device = new Device('spec-ooo');
    await device.sendEach(
      { id: 'a', s: 0, speed: 10, north: 0 },
      { id: 'b', s: 20, speed: 30, north: 1 },
      { id: 'c', s: 40, speed: 50, north: 2 },
    );
    // Far away on purpose: an out-of-order reading adds no distance and does not move the vehicle.
    const [ooo] = await device.send({ id: 'x', s: 15, speed: 100, north: 1000 });
    expect(ooo?.outcome).toBe('new');
    expect(ooo?.status).toBe('out_of_order');
    // Its 1m window ends with its own tile (10-20 s): a (tile 0) and itself, not b or c.
    expect(rowOf(ooo)).toMatchObject({ late: true, count_1m: 2, speed_max_1m: 100, speed_min_1m: 10 });
    const [next] = await device.send({ id: 'd', s: 50, speed: 60, north: 3 });
    expect(rowOf(next)).toMatchObject({
      late: false,
      count_1m: 5,
      speed_max_1m: 100,
      distance_km_1m: Math.round(3 * STEP_KM * 1e4) / 1e4,
    });
  });

  it('includes readings later than an out-of-order one when they share its tile (one tile past t at most)', async () => {
    const device = new Device('spec-ooo-same-tile');
    const sent = await device.sendEach({ id: 'a', s: 0 }, { id: 'b', s: 8 }, { id: 'c', s: 5 });
    expect(sent[2]?.status).toBe('out_of_order');
    expect(counts(sent[2])).toEqual([3, 3, 3, 3]);
  });

  it('gives an out-of-order reading older than a ring nothing in that window, but the longer windows take it', async () => {
    const device = new Device('spec-ooo-old');
    const seconds = Array.from({ length: 21 }, (_, i) => i * 10); // 0..200 s
    await device.send(...every(seconds));
    const [ooo] = await device.send({ id: 'x', s: 100.5, speed: 200 });
    expect(ooo?.status).toBe('out_of_order');
    // 1m ring is tiles 14..20 (140-210 s): tile 10 is gone. 5m: tiles up to 3 (< 120 s): 0..110 s
    // and itself. 15m: tile 1 (< 120 s): the same 13. 1h: tile 0 (< 300 s): all 21 and itself.
    expect(counts(ooo)).toEqual([0, 13, 13, 22]);
    expect(rowOf(ooo)).toMatchObject({ speed_mean_1m: null, speed_max_1m: null, distance_km_1m: 0 });
    expect(rowOf(ooo).speed_max_5m).toBe(200);
    const [next] = await device.send({ id: 'y', s: 210 });
    expect(counts(next)).toEqual([7, 23, 23, 23]);
    expect(rowOf(next).speed_max_1m).toBe(50);
    expect(rowOf(next).speed_max_5m).toBe(200);
  });

  it('never lets an out-of-order reading see tiles that left the ring, even when a pause left their slots unused', async () => {
    const device = new Device('spec-ooo-after-pause');
    // Tiles 0..9 of the 1m window, then silence until 155 s (tiles 10..14 stay empty).
    await device.send(...every([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 155]));
    const [ooo] = await device.send({ id: 'x', s: 95 });
    // The 1m ring is now tiles 9..15: the held-back reading sees tile 9 (90 s and itself) only.
    expect(ooo?.status).toBe('out_of_order');
    expect(counts(ooo)).toEqual([2, 11, 11, 12]);
    const [next] = await device.send({ id: 'y', s: 160 });
    expect(counts(next)).toEqual([2, 13, 13, 13]);
  });

  it('restarts an empty tile an out-of-order reading lands in, whatever older tile its slot held', async () => {
    const device = new Device('spec-ooo-empty-tile');
    // Tiles 0..13 of the 1m window, nothing in tile 14, then tile 15. Tile 14 shares its ring slot
    // with tile 7 (70 s), which is long out of the ring.
    const seconds = [...Array.from({ length: 14 }, (_, i) => i * 10), 150];
    await device.send(...every(seconds));
    const [ooo] = await device.send({ id: 'x', s: 145, speed: 99 });
    expect(ooo?.status).toBe('out_of_order');
    // Ring 9..15, own tile 14: 90-130 s (5 readings) and itself.
    expect(rowOf(ooo)).toMatchObject({ count_1m: 6, speed_max_1m: 99, speed_min_1m: 50 });
    const [next] = await device.send({ id: 'y', s: 160 });
    expect(counts(next)[0]).toBe(7); // 100-130 s, 145 s, 150 s, 160 s
  });

  it('does not apply a reading older than head - lateness: late, archived, and a re-send stays late', async () => {
    const device = new Device('spec-late');
    await device.sendEach({ id: 'a', s: 0 }, { id: 'b', s: 700 });
    const stateBefore = await device.stateBytes();
    const [late] = await device.send({ id: 'old', s: 99.999, speed: 300 });
    expect(late).toMatchObject({ outcome: 'late', status: 'late', row: null });
    expect(late?.snapshot.windows).toEqual([]);
    expect(await device.stateBytes()).toEqual(stateBefore);
    const [resent] = await device.send({ id: 'old', s: 99.999, speed: 300 });
    expect(resent).toMatchObject({ outcome: 'duplicate', status: 'late' });
    expect(resent?.snapshot).toEqual(late?.snapshot);
    // Exactly head - lateness is still in time.
    const [edge] = await device.send({ id: 'edge', s: 100, speed: 1 });
    expect(edge).toMatchObject({ outcome: 'new', status: 'out_of_order' });
    const [next] = await device.send({ id: 'c', s: 710 });
    expect(counts(next)).toEqual([2, 2, 4, 4]); // 15m and 1h: a, edge, b, c; never `old`
    expect(rowOf(next).speed_max_1h).toBe(50);
  });

  it('measures lateness per vehicle: one vehicle’s clock never makes another’s readings late', async () => {
    const ahead = new Device('spec-clock-ahead');
    const behind = new Device('spec-clock-behind');
    await ahead.send({ id: 'same-id', s: 10_000 });
    const sent = await behind.sendEach({ id: 'same-id', s: 0 }, { id: 'next', s: 5 });
    // Also the same event_id on another vehicle is another reading.
    expect(sent.map((s) => [s.outcome, s.status])).toEqual([
      ['new', 'in_order'],
      ['new', 'in_order'],
    ]);
    expect(counts(sent[1])).toEqual([2, 2, 2, 2]);
  });
});

describe('RedisWindowStore idempotency (real Redis)', () => {
  it('returns the stored snapshot byte for byte for an exact duplicate and changes nothing', async () => {
    const device = new Device('spec-dup');
    const [first] = await device.send({ id: 'a', s: 0, speed: 10 });
    await device.send({ id: 'b', s: 10, speed: 20 });
    const gen = Math.floor((T0 + 500) / 1000 / OPTIONS.dedupeRetentionS);
    const dedupeKey = `fv:{spec-dup}:seen:${gen}`;
    const markBefore = await redis.hgetBuffer(dedupeKey, 'a');
    const stateBefore = await device.stateBytes();
    expect(Object.keys(stateBefore)).toEqual(expect.arrayContaining(['s', 'l']));
    const latestBefore = await store.latest(['spec-dup']);

    const [again] = await device.send({ id: 'a', s: 0, speed: 10 });
    expect(again?.outcome).toBe('duplicate');
    expect(again?.snapshot).toEqual(first?.snapshot); // processed_ts of the first attempt, too
    expect(again?.row).toEqual(first?.row);
    expect(await redis.hgetBuffer(dedupeKey, 'a')).toEqual(markBefore);
    expect(await device.stateBytes()).toEqual(stateBefore);
    expect(await store.latest(['spec-dup'])).toEqual(latestBefore);

    const [next] = await device.send({ id: 'c', s: 20, speed: 30 });
    expect(counts(next)).toEqual([3, 3, 3, 3]);
    expect(rowOf(next).speed_mean_1m).toBe(20);
  });

  it('keeps the first version on a conflicting re-send (same event_id, other values)', async () => {
    const device = new Device('spec-conflict');
    const [first] = await device.send({ id: 'a', s: 0, speed: 10 });
    const stateBefore = await device.stateBytes();
    const sent = await device.send({ id: 'a', s: 0, speed: 99 }, { id: 'a', s: 3, speed: 10 });
    expect(sent.map((s) => s.outcome)).toEqual(['conflict', 'conflict']);
    expect(sent[0]?.snapshot).toEqual(first?.snapshot);
    expect(await device.stateBytes()).toEqual(stateBefore);
    const [next] = await device.send({ id: 'b', s: 10, speed: 30 });
    expect(rowOf(next)).toMatchObject({ count_1m: 2, speed_max_1m: 30, speed_mean_1m: 20 });
  });

  it('keeps a dedupe mark for at least one retention period, across a generation boundary', async () => {
    const device = new Device('spec-dup-retention');
    // Arrives 50 s before a generation boundary (T0 is on one); the re-send 899 s later is in the next.
    const [first] = await device.send({ id: 'a', s: 849.5 });
    const again = await store.apply(
      device.vehicleId,
      [{ eventId: 'a', reading: device.reading({ id: 'a', s: 849.5 }) }],
      T0 + 850_000 + 899_000,
    );
    expect(again[0]?.outcome).toBe('duplicate');
    expect(again[0]?.snapshot).toEqual(first?.snapshot);
  });

  it('applies a batch of one vehicle in order in one call, exactly as one call per reading would', async () => {
    const steps: Step[] = [
      { id: 'a', s: 0, speed: 10, north: 0 },
      { id: 'b', s: 10, speed: 20, north: 1 },
      { id: 'c', s: 5, speed: 30, north: 9 }, // out of order within the batch
      { id: 'b', s: 10, speed: 20, north: 1 }, // duplicate within the batch
      { id: 'd', s: 70, speed: 40, north: 2 },
    ];
    const batched = await new Device('spec-batch').send(...steps);
    const oneByOne = new Device('spec-batch-single');
    const single: Sent[] = [];
    // Same arrival clock as the batch, so processed_ts matches too.
    for (const step of steps) {
      const reading = oneByOne.reading(step);
      const [result] = await store.apply(oneByOne.vehicleId, [{ eventId: step.id, reading }], T0 + 70_500);
      single.push({ ...result!, status: result!.snapshot.status, row: null });
    }
    expect(batched.map((s) => s.outcome)).toEqual(['new', 'new', 'new', 'duplicate', 'new']);
    expect(batched.map((s) => s.status)).toEqual([
      'in_order',
      'in_order',
      'out_of_order',
      'in_order',
      'in_order',
    ]);
    expect(batched.map((s) => s.snapshot)).toEqual(single.map((s) => s.snapshot));
    expect(counts(batched[4])).toEqual([2, 4, 4, 4]); // 1m at 70 s: tiles 1..7, so b and d
    expect(rowOf(batched[4]).distance_km_1h).toBe(Math.round(2 * STEP_KM * 1e4) / 1e4);
  });

  it('through the engine: duplicates give the same row, conflicts and late readings give none and are counted', async () => {
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
        reading({ id: 'a', s: 0 }), // exact duplicate
        reading({ id: 'a', s: 0, speed: 1 }), // conflict
        reading({ id: 'old', s: 50 }), // beyond the lateness
        reading({ id: 'c', s: 710 }),
      ],
      T0 + 711_000,
    );
    expect(first).toMatchObject({ applied: 2, duplicates: 0, conflicts: 0, lateCount: 0 });
    expect(second).toMatchObject({ applied: 1, duplicates: 1, conflicts: 1, lateCount: 1 });
    expect(second.rows.map((r) => r.event_id)).toEqual(['a', 'c']);
    expect(second.rows[0]).toEqual(first.rows[0]);
    expect(second.late.map((l) => [l.reading.event_id, l.processedTsMs])).toEqual([['old', T0 + 711_000]]);
    expect(second.rows[1]?.count_1h).toBe(3);
  });
});

describe('RedisWindowStore keys and latest vector (real Redis)', () => {
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

  it('puts the vehicle id in a {hash tag}, so one vehicle’s keys share a Redis Cluster slot', async () => {
    const device = new Device('spec-keys.v-1_A');
    await device.send({ id: 'a', s: 0 });
    expect(vehicleKey('spec-keys.v-1_A')).toBe('fv:{spec-keys.v-1_A}');
    const keys = (await redis.keys('fv:{spec-keys.v-1_A}*')).sort();
    const gen = Math.floor((T0 + 500) / 1000 / OPTIONS.dedupeRetentionS);
    expect(keys).toEqual(['fv:{spec-keys.v-1_A}', `fv:{spec-keys.v-1_A}:seen:${gen}`]);
    // Redis Cluster hashes only what is between the first { and the next }.
    for (const key of keys) expect(key.slice(key.indexOf('{') + 1, key.indexOf('}'))).toBe('spec-keys.v-1_A');
  });

  it('expires an idle vehicle’s state and its dedupe marks (TTLs set on every write)', async () => {
    const device = new Device('spec-ttl');
    await device.send({ id: 'a', s: 0 });
    const gen = Math.floor((T0 + 500) / 1000 / OPTIONS.dedupeRetentionS);
    const stateTtl = await redis.ttl(vehicleKey('spec-ttl'));
    const dedupeTtl = await redis.ttl(`fv:{spec-ttl}:seen:${gen}`);
    expect(stateTtl).toBeGreaterThan(OPTIONS.vehicleIdleTtlS - 60);
    expect(stateTtl).toBeLessThanOrEqual(OPTIONS.vehicleIdleTtlS);
    // Marks live in generations of the retention period; a key must outlive the next generation.
    expect(dedupeTtl).toBeGreaterThan(2 * OPTIONS.dedupeRetentionS - 60);
    expect(dedupeTtl).toBeLessThanOrEqual(2 * OPTIONS.dedupeRetentionS);
  });

  it('serves the latest in-order vector; an out-of-order reading does not move it back', async () => {
    const device = new Device('spec-latest');
    const sent = await device.sendEach(
      { id: 'a', s: 0, speed: 10, north: 0 },
      { id: 'b', s: 10, speed: 20, north: 1 },
      { id: 'x', s: 5, speed: 99, north: 7 },
    );
    expect(sent[2]?.status).toBe('out_of_order');
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
    expect(latest?.snapshot).toEqual(sent[1]?.snapshot);
    expect(await store.latest([])).toEqual([]);
  });
});
