// Engine v2's semantics as properties over generated fleets, against a real redis-server and the
// real script: whatever the arrival order within the allowed lateness, with re-sends, conflicting
// re-sends and the same instant under other event_ids,
//  - every reading (vehicle + instant) is applied exactly once;
//  - every row holds its own reading and every reading of its vehicle applied before it in
//    (t - length, t], and nothing outside the documented tile bounds (window-spec.ts);
//  - once all readings are in, every vehicle's vector is the same bytes as when the applied
//    readings arrive in event order.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import type { WindowInput } from '../../shared/ports/window-store.js';
import type { ReadingValues, WindowSnapshot } from '../../shared/windows/window-snapshot.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';
import { localServers } from '../helpers/local-servers.js';

const LATENESS_MS = 120_000;
const OPTIONS = { allowedLatenessMs: LATENESS_MS, vehicleIdleTtlS: 3600 };
/** Long drives under a short lateness: entries are pruned, their room grows, tiles wrap. */
const LONG_OPTIONS = { allowedLatenessMs: 20_000, vehicleIdleTtlS: 3600 };
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const FINEST_TILE_MS = WINDOWS[0]!.tileMs;

let redis: Redis;
let store: RedisWindowStore;
let longStore: RedisWindowStore;
let caseNumber = 0;

beforeAll(async () => {
  redis = new Redis(localServers().redisUrl, { maxRetriesPerRequest: 1 });
  store = new RedisWindowStore(redis, OPTIONS);
  longStore = new RedisWindowStore(redis, LONG_OPTIONS);
});

afterAll(async () => {
  await redis.quit();
});

interface Sent {
  vehicle: string;
  eventId: string;
  reading: ReadingValues;
  /** Event time + this = when it arrives; below the lateness, so it is never late. */
  delayMs: number;
}

/** A vehicle's drive: readings 0.3 s to 1.5 min apart (re-sent under the same or other ids), moving. */
const vehicleReadings = (vehicle: string, latenessMs = LATENESS_MS, maxLength = 60) =>
  fc
    .array(
      fc.record({
        // Mostly 1 Hz-like, sometimes pauses of up to 1.5 min, so tiles of every window move.
        gapMs: fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: 300, max: 4_000 }) },
          { weight: 1, arbitrary: fc.integer({ min: 4_000, max: 90_000 }) },
        ),
        speed: fc.integer({ min: 0, max: 1_500 }).map((v) => v / 10),
        temp: fc.integer({ min: 600, max: 1_200 }).map((v) => v / 10),
        dLat: fc.integer({ min: -30, max: 30 }),
        dLon: fc.integer({ min: -30, max: 30 }),
        delayMs: fc.integer({ min: 0, max: latenessMs - 1 }),
        resend: fc.constantFrom('none', 'none', 'none', 'same', 'other-id', 'conflict'),
        resendDelayMs: fc.integer({ min: 0, max: latenessMs - 1 }),
      }),
      { minLength: 1, maxLength },
    )
    .map((steps) => {
      const sent: Sent[] = [];
      let t = T0;
      let lat = 48;
      let lon = 11;
      steps.forEach((step, i) => {
        t += step.gapMs;
        lat += step.dLat * 1e-5;
        lon += step.dLon * 1e-5;
        const reading: ReadingValues = {
          event_ts_ms: t,
          speed_kmh: step.speed,
          engine_temp_c: step.temp,
          gps_lat: lat,
          gps_lon: lon,
          fuel_level_pct: null,
          rpm: 1500,
        };
        const eventId = `${vehicle}-${i}`;
        sent.push({ vehicle, eventId, reading, delayMs: step.delayMs });
        if (step.resend === 'same') sent.push({ vehicle, eventId, reading, delayMs: step.resendDelayMs });
        if (step.resend === 'other-id')
          sent.push({ vehicle, eventId: `${eventId}-again`, reading, delayMs: step.resendDelayMs });
        if (step.resend === 'conflict')
          sent.push({
            vehicle,
            eventId: `${eventId}-fixed`,
            reading: { ...reading, speed_kmh: reading.speed_kmh + 1 },
            delayMs: step.resendDelayMs,
          });
      });
      return sent;
    });

/** One to three vehicles; arrival = event time + delay (ties in generation order). */
const fleetArrivals = (latenessMs = LATENESS_MS, maxLength = 60, maxVehicles = 3) =>
  fc.integer({ min: 1, max: maxVehicles }).chain((vehicles) =>
    fc
      .tuple(...Array.from({ length: vehicles }, (_, v) => vehicleReadings(`v${v}`, latenessMs, maxLength)))
      .map((perVehicle) =>
        perVehicle
          .flat()
          .map((sent, order) => ({ sent, order }))
          .sort(
            (a, b) =>
              a.sent.reading.event_ts_ms + a.sent.delayMs - (b.sent.reading.event_ts_ms + b.sent.delayMs) ||
              a.order - b.order,
          )
          .map(({ sent }) => sent),
      ),
  );

const instantKey = (vehicle: string, ts: number) => `${vehicle}@${ts}`;

/** The store's windows without the processing time, for byte-for-byte comparison. */
function comparable(snapshot: WindowSnapshot | undefined): unknown {
  return snapshot?.windows;
}

/** Sends the arrivals one by one and checks every property; fresh vehicles per run. */
async function checkArrivals(engine: RedisWindowStore, arrivals: readonly Sent[]): Promise<void> {
  const prefix = `prop${caseNumber++}`;
  const applied = new Map<string, { vehicle: string; eventId: string; reading: ReadingValues }[]>();
  const appliedInstants = new Set<string>();
  for (const sent of arrivals) {
    const vehicle = `${prefix}-${sent.vehicle}`;
    const nowMs = sent.reading.event_ts_ms + sent.delayMs;
    const [result] = await engine.apply(vehicle, [{ eventId: sent.eventId, reading: sent.reading }], nowMs);
    const key = instantKey(vehicle, sent.reading.event_ts_ms);
    expect(result!.outcome).not.toBe('late');
    if (result!.outcome !== 'new') {
      expect(appliedInstants.has(key)).toBe(true);
      continue;
    }
    expect(appliedInstants.has(key)).toBe(false);
    appliedInstants.add(key);
    const before = applied.get(vehicle) ?? [];
    before.push({ vehicle, eventId: sent.eventId, reading: sent.reading });
    applied.set(vehicle, before);
    checkRowBounds(
      result!.snapshot,
      sent.reading.event_ts_ms,
      before.map((a) => a.reading.event_ts_ms),
    );
  }
  // Every distinct instant sent was applied once.
  const sentInstants = new Set(
    arrivals.map((s) => instantKey(`${prefix}-${s.vehicle}`, s.reading.event_ts_ms)),
  );
  expect(appliedInstants.size).toBe(sentInstants.size);

  // The applied versions again, in event order, on fresh vehicles: the same final vectors.
  for (const [vehicle, readings] of applied) {
    const inOrder = [...readings].sort((a, b) => a.reading.event_ts_ms - b.reading.event_ts_ms);
    const replayVehicle = `${vehicle}-ordered`;
    for (const r of inOrder) {
      const input: WindowInput = { eventId: r.eventId, reading: r.reading };
      await engine.apply(replayVehicle, [input], r.reading.event_ts_ms);
    }
    const [shuffled, ordered] = await engine.latest([vehicle, replayVehicle]);
    expect(comparable(shuffled?.snapshot)).toEqual(comparable(ordered?.snapshot));
    expect(shuffled?.reading).toEqual(ordered?.reading);
  }
}

describe('window engine properties (real Redis, real script)', () => {
  it('applies each reading once, keeps every row within its bounds and ends where event order ends', async () => {
    await fc.assert(
      fc.asyncProperty(fleetArrivals(), (arrivals) => checkArrivals(store, arrivals)),
      { numRuns: 200 },
    );
  }, 240_000);

  it('holds over long drives whose dedupe entries are pruned and regrown', async () => {
    await fc.assert(
      fc.asyncProperty(fleetArrivals(LONG_OPTIONS.allowedLatenessMs, 700, 1), (arrivals) =>
        checkArrivals(longStore, arrivals),
      ),
      { numRuns: 25 },
    );
  }, 240_000);
});

/**
 * A row at t (applied when `appliedTs` had been applied, t last) counts, per window, at least every
 * applied reading in (t - length, t] and at most those from the window's tile-aligned far edge up to
 * the end of t's finest tile (window-spec.ts).
 */
function checkRowBounds(snapshot: WindowSnapshot, t: number, appliedTs: readonly number[]): void {
  const newest = Math.max(...appliedTs);
  const nearEdge = t === newest ? t : (Math.floor(t / FINEST_TILE_MS) + 1) * FINEST_TILE_MS - 1;
  WINDOWS.forEach((w, i) => {
    const count = snapshot.windows[i]!.count;
    const exact = appliedTs.filter((ts) => ts > t - w.lengthMs && ts <= t).length;
    const farEdge = (Math.floor(t / w.tileMs) - w.lengthMs / w.tileMs) * w.tileMs;
    const widest = appliedTs.filter((ts) => ts >= farEdge && ts <= nearEdge).length;
    expect(count, `count_${w.name} of the row at ${t - T0} ms`).toBeGreaterThanOrEqual(Math.max(1, exact));
    expect(count, `count_${w.name} of the row at ${t - T0} ms`).toBeLessThanOrEqual(widest);
  });
}
