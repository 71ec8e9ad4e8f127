// The read-only reading-status script (shared/windows/reading-status.lua) against the real apply
// script on a real redis-server: it reads the apply script's layout, so every state it reports is
// checked here against what apply and markDurable actually did, including out-of-order entries,
// entries that outgrew their first ring buffer, and entries pruned behind the lateness horizon.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisReadingStatus } from '../../shared/adapters/redis-reading-status.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { readingRef } from '../../shared/ingress/read-after-write.js';
import type { ReadingState } from '../../shared/ports/reading-status.js';
import { buildFeatureRow } from '../../shared/rows/feature-row.js';
import type { TelemetryReading } from '../../shared/telemetry/index.js';
import { localServers } from '../helpers/local-servers.js';

const LATENESS_MS = 600_000;
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const run = randomBytes(3).toString('hex');

let redis: Redis;
let store: RedisWindowStore;
let status: RedisReadingStatus;

beforeAll(() => {
  redis = new Redis(localServers().redisUrl, { maxRetriesPerRequest: 1 });
  store = new RedisWindowStore(redis, { allowedLatenessMs: LATENESS_MS, vehicleIdleTtlS: 3600 });
  status = new RedisReadingStatus(redis);
});

afterAll(async () => {
  await redis.quit();
});

function reading(vehicleId: string, s: number, speed = 50): TelemetryReading {
  const event_ts_ms = T0 + Math.round(s * 1000);
  return {
    event_id: `${vehicleId}:${event_ts_ms}`,
    vehicle_id: vehicleId,
    event_ts_ms,
    speed_kmh: speed,
    engine_temp_c: 90,
    gps_lat: 48 + s * 1e-5,
    gps_lon: 11,
    fuel_level_pct: null,
    rpm: null,
    extra: {},
  };
}

async function apply(readings: TelemetryReading[], nowMs = T0 + 3_600_000) {
  return store.apply(
    readings[0]!.vehicle_id,
    readings.map((r) => ({ eventId: r.event_id, reading: r })),
    nowMs,
  );
}

const states = (vehicleId: string, readings: TelemetryReading[]) =>
  status.readingStates(vehicleId, readings.map(readingRef));
const words = (list: ReadingState[]) => list.map((s) => s.state);

describe('reading status, read from the apply script state', () => {
  it('is pending for a vehicle the store has never seen', async () => {
    const v = `rs-none-${run}`;
    expect(words(await states(v, [reading(v, 1)]))).toEqual(['pending']);
  });

  it('holds the stored row until it is durable, then the dedupe mark; the row equals the engine row', async () => {
    const v = `rs-stored-${run}`;
    const readings = [reading(v, 0), reading(v, 10), reading(v, 20)];
    const applied = await apply(readings);
    const before = await states(v, [...readings, reading(v, 30)]);
    expect(words(before)).toEqual(['stored', 'stored', 'stored', 'pending']);
    readings.forEach((r, i) => {
      const state = before[i]!;
      const result = applied[i]!;
      if (state.state !== 'stored' || result.outcome !== 'new')
        throw new Error('expected a stored new reading');
      const fromStore = buildFeatureRow(
        { ...state.stored.reading, event_id: state.stored.eventId, vehicle_id: v },
        state.stored.snapshot,
      );
      expect(fromStore).toEqual(buildFeatureRow(r, result.snapshot));
    });
    await store.markDurable(v, [readings[0]!.event_ts_ms, readings[2]!.event_ts_ms]);
    expect(words(await states(v, readings))).toEqual(['applied', 'stored', 'applied']);
  });

  it('tells another version of the same instant from the one applied', async () => {
    const v = `rs-conflict-${run}`;
    await apply([reading(v, 0), reading(v, 10)]);
    expect(words(await states(v, [reading(v, 10, 51)]))).toEqual(['conflict']);
    await store.markDurable(v, [reading(v, 10).event_ts_ms]);
    expect(words(await states(v, [reading(v, 10, 51), reading(v, 10)]))).toEqual(['conflict', 'applied']);
  });

  it('finds out-of-order entries and reports unapplied instants between them as pending', async () => {
    const v = `rs-disorder-${run}`;
    const order = [50, 10, 40, 20, 30, 0];
    await apply(order.map((s) => reading(v, s)));
    await store.markDurable(
      v,
      order.map((s) => reading(v, s).event_ts_ms),
    );
    const asked = [0, 5, 10, 15, 20, 30, 35, 40, 50, 55].map((s) => reading(v, s));
    expect(words(await states(v, asked))).toEqual([
      'applied',
      'pending',
      'applied',
      'pending',
      'applied',
      'applied',
      'pending',
      'applied',
      'applied',
      'pending',
    ]);
  });

  it('reads entries that outgrew the first ring buffer and wrapped around it', async () => {
    const v = `rs-many-${run}`;
    // 200 readings a second apart, sent in messages of 7: the ring (64 entries at first) grows.
    const all = Array.from({ length: 200 }, (_, i) => reading(v, i));
    for (let i = 0; i < all.length; i += 7) await apply(all.slice(i, i + 7));
    await store.markDurable(
      v,
      all.map((r) => r.event_ts_ms),
    );
    const got = await states(v, all);
    expect(new Set(words(got))).toEqual(new Set(['applied']));
  });

  it('reports readings behind the lateness horizon as late, and keeps recognising recent ones', async () => {
    const v = `rs-late-${run}`;
    // Two hours at one reading a minute: the horizon moves on and old entries are pruned.
    const all = Array.from({ length: 121 }, (_, i) => reading(v, i * 60));
    for (const r of all) await apply([r]);
    await store.markDurable(
      v,
      all.map((r) => r.event_ts_ms),
    );
    const old = reading(v, 30); // never sent, far behind the horizon
    const recent = all.slice(-5);
    const got = await states(v, [old, all[0]!, ...recent]);
    expect(words(got)).toEqual(['late', 'late', 'applied', 'applied', 'applied', 'applied', 'applied']);
    // What the engine itself says of a re-send behind the horizon: late as well.
    expect((await apply([all[0]!]))[0]!.outcome).toBe('late');
  });

  it('refuses a vehicle id outside the contract before it reaches a key', async () => {
    await expect(status.readingStates('bad id}', [readingRef(reading('x', 1))])).rejects.toMatchObject({
      code: 'invalid_identifier',
    });
  });
});
