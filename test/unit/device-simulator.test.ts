import { describe, expect, it } from 'vitest';
import {
  InvalidSimulatorOptionsError,
  type SimulatedMessage,
  simulateFleet,
} from '../../local/simulator/device-simulator.js';
import { createSeededRandom } from '../../local/simulator/seeded-random.js';
import {
  type ArrivalKind,
  type DisorderOptions,
  generateTelemetry,
  shuffleWithinLateness,
  type TelemetryArrival,
} from '../../local/simulator/telemetry-generator.js';
import { haversineKm } from '../../shared/geo/haversine.js';
import { parseTelemetryMessage, type TelemetryReading } from '../../shared/telemetry/index.js';

const START_MS = Date.UTC(2026, 2, 1, 8, 0, 0);
const HOUR_S = 3600;
const FIFTEEN_MIN_MS = 15 * 60_000;

// One hour of 12 vehicles at 1 Hz with the default rates: the fleet most tests look at.
const fleet = [
  ...simulateFleet({ vehicles: 12, ratePerVehicleHz: 1, durationS: HOUR_S, startMs: START_MS, seed: 7 }),
];
const parsed = fleet.map((message) => ({
  message,
  result: parseTelemetryMessage(message.data, { nowMs: message.sendMs }),
}));

/** Each vehicle's distinct readings (duplicates and malformed left out), in event-time order. */
const tracks = new Map<string, TelemetryReading[]>();
for (const { message, result } of parsed) {
  if (message.kind === 'malformed' || message.kind === 'duplicate') continue;
  const track = tracks.get(message.vehicleId) ?? [];
  track.push(...result.readings);
  tracks.set(message.vehicleId, track);
}
for (const track of tracks.values()) track.sort((a, b) => a.event_ts_ms - b.event_ts_ms);
const allReadings = [...tracks.values()].flat();

const count = (messages: SimulatedMessage[], kind: SimulatedMessage['kind']) =>
  messages.filter((m) => m.kind === kind).length;

describe('device simulator: the stream', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const options = { vehicles: 4, ratePerVehicleHz: 2, durationS: 300, startMs: START_MS };
    const first = [...simulateFleet({ ...options, seed: 11 })];
    expect([...simulateFleet({ ...options, seed: 11 })]).toEqual(first);
    expect([...simulateFleet({ ...options, seed: 12 })]).not.toEqual(first);
  });

  it("gives each vehicle its own story: a vehicle's messages do not depend on the fleet size", () => {
    const options = { ratePerVehicleHz: 1, durationS: 600, startMs: START_MS, seed: 3 };
    const ofFirst = (vehicles: number) =>
      [...simulateFleet({ ...options, vehicles })].filter((m) => m.vehicleId === 'veh-00001');
    expect(ofFirst(2)).toEqual(ofFirst(9));
  });

  it('names vehicles veh-00001 and up, and yields messages in send order', () => {
    expect(new Set(fleet.map((m) => m.vehicleId))).toEqual(
      new Set(Array.from({ length: 12 }, (_, i) => `veh-${String(i + 1).padStart(5, '0')}`)),
    );
    expect(fleet.every((m, i) => i === 0 || m.sendMs >= fleet[i - 1]!.sendMs)).toBe(true);
  });

  it('sends one reading per vehicle per interval at the requested rate', () => {
    const slots = fleet.length - count(fleet, 'duplicate');
    expect(slots).toBe(12 * HOUR_S);
  });

  it('roughly respects the default rates of duplicates, disorder, malformed and late messages', () => {
    // Late readings need 16 to 30 minutes of run after them: measure rates on the first 29 minutes of slots.
    const cutoff = START_MS + 29 * 60_000;
    const window = fleet.filter((m) => m.kind !== 'duplicate' && (m.eventTsMs ?? m.sendMs) < cutoff);
    const share = (kind: SimulatedMessage['kind']) => count(window, kind) / window.length;
    expect(share('malformed')).toBeGreaterThan(0.005 * 0.7);
    expect(share('malformed')).toBeLessThan(0.005 * 1.3);
    expect(share('out_of_order')).toBeGreaterThan(0.02 * 0.8);
    expect(share('out_of_order')).toBeLessThan(0.02 * 1.2);
    expect(share('late')).toBeGreaterThan(0.002 * 0.6);
    expect(share('late')).toBeLessThan(0.002 * 1.4);
    const duplicates = count(fleet, 'duplicate') / (count(fleet, 'valid') + count(fleet, 'out_of_order'));
    expect(duplicates).toBeGreaterThan(0.01 * 0.8);
    expect(duplicates).toBeLessThan(0.01 * 1.2);
  });

  it('follows custom rates', () => {
    const messages = [
      ...simulateFleet({
        vehicles: 5,
        ratePerVehicleHz: 1,
        durationS: 1200,
        startMs: START_MS,
        seed: 5,
        duplicateRate: 0,
        outOfOrderRate: 0.1,
        malformedRate: 0.1,
        lateRate: 0,
      }),
    ];
    expect(count(messages, 'duplicate')).toBe(0);
    expect(count(messages, 'late')).toBe(0);
    expect(count(messages, 'malformed') / messages.length).toBeGreaterThan(0.08);
    expect(count(messages, 'malformed') / messages.length).toBeLessThan(0.12);
    expect(count(messages, 'out_of_order') / messages.length).toBeGreaterThan(0.08);
    expect(count(messages, 'out_of_order') / messages.length).toBeLessThan(0.12);
  });

  it('refuses impossible options with a stable code', () => {
    const base = { vehicles: 1, ratePerVehicleHz: 1, durationS: 1, startMs: START_MS };
    for (const bad of [
      { vehicles: -1 },
      { ratePerVehicleHz: 0 },
      { durationS: Number.NaN },
      { malformedRate: 2 },
    ]) {
      expect(() => simulateFleet({ ...base, ...bad }).next()).toThrow(InvalidSimulatorOptionsError);
    }
  });
});

describe('device simulator: every message is what its kind says', () => {
  it('every valid, out-of-order, late and duplicate message passes the parser; every malformed one fails it', () => {
    const wrong = parsed.filter(({ message, result }) =>
      message.kind === 'malformed'
        ? result.readings.length > 0 || result.rejects.length !== 1
        : result.rejects.length > 0 || result.readings[0]?.event_ts_ms !== message.eventTsMs,
    );
    expect(wrong.map(({ message, result }) => ({ message, rejects: result.rejects }))).toEqual([]);
  });

  it('malformed messages mix broken JSON, out-of-range values, hostile ids and more', () => {
    const reasons = new Set(
      parsed
        .filter(({ message }) => message.kind === 'malformed')
        .map(({ result }) => result.rejects[0]!.reason),
    );
    expect(reasons).toContain('malformed_json');
    expect(reasons).toContain('out_of_range');
    expect(reasons).toContain('invalid_vehicle_id');
    expect(reasons.size).toBeGreaterThanOrEqual(5);
  });

  it('duplicates re-send an earlier reading: same event id and values, sometimes in another timestamp format', () => {
    const firstById = new Map<string, { reading: TelemetryReading; data: string; sendMs: number }>();
    let reformatted = 0;
    for (const { message, result } of parsed) {
      const reading = result.readings[0];
      if (!reading) continue;
      if (message.kind !== 'duplicate') {
        firstById.set(reading.event_id, { reading, data: message.data, sendMs: message.sendMs });
        continue;
      }
      const original = firstById.get(reading.event_id);
      expect(original, `original of ${message.data}`).toBeDefined();
      expect(reading).toEqual(original!.reading);
      expect(message.sendMs).toBeGreaterThan(original!.sendMs);
      if (message.data !== original!.data) reformatted++;
    }
    const duplicates = count(fleet, 'duplicate');
    expect(reformatted).toBeGreaterThan(duplicates * 0.25);
    expect(reformatted).toBeLessThan(duplicates * 0.75);
  });

  it('out-of-order readings arrive a few seconds late, mostly after a newer reading of their vehicle', () => {
    const newestSent = new Map<string, number>();
    let disordered = 0;
    const outOfOrder = fleet.filter((m) => m.kind === 'out_of_order');
    for (const message of fleet) {
      if (message.eventTsMs === null) continue;
      if (message.kind === 'out_of_order') {
        // 1.5 to 4 intervals at 1 Hz; the next reading may itself be held back or malformed, hence "mostly".
        expect(message.sendMs - message.eventTsMs).toBeGreaterThanOrEqual(1500);
        expect(message.sendMs - message.eventTsMs).toBeLessThanOrEqual(4000);
        if ((newestSent.get(message.vehicleId) ?? 0) > message.eventTsMs) disordered++;
      }
      newestSent.set(message.vehicleId, Math.max(newestSent.get(message.vehicleId) ?? 0, message.eventTsMs));
    }
    expect(disordered).toBeGreaterThan(outOfOrder.length * 0.9);
  });

  it('late readings arrive more than 15 minutes behind the newest reading of their own vehicle', () => {
    const newestSent = new Map<string, number>();
    let late = 0;
    for (const message of fleet) {
      if (message.eventTsMs === null) continue;
      if (message.kind === 'late') {
        late++;
        expect(newestSent.get(message.vehicleId)! - message.eventTsMs).toBeGreaterThan(FIFTEEN_MIN_MS);
      }
      newestSent.set(message.vehicleId, Math.max(newestSent.get(message.vehicleId) ?? 0, message.eventTsMs));
    }
    expect(late).toBeGreaterThan(0);
  });
});

describe('device simulator: realistic vehicles', () => {
  it('GPS moves consistently with speed: haversine distance matches the trapezoid of speed over time', () => {
    let totalGps = 0;
    for (const [vehicleId, track] of tracks) {
      let gpsKm = 0;
      let speedKm = 0;
      for (let i = 1; i < track.length; i++) {
        const a = track[i - 1]!;
        const b = track[i]!;
        gpsKm += haversineKm(a.gps_lat, a.gps_lon, b.gps_lat, b.gps_lon);
        speedKm += (((a.speed_kmh + b.speed_kmh) / 2) * (b.event_ts_ms - a.event_ts_ms)) / 3_600_000;
      }
      totalGps += gpsKm;
      expect(Math.abs(gpsKm - speedKm), vehicleId).toBeLessThanOrEqual(Math.max(0.05, speedKm * 0.01));
    }
    expect(totalGps).toBeGreaterThan(12 * 5); // the fleet actually drives
  });

  it('vehicles alternate trips and stops, in town and on the highway, with bounded acceleration', () => {
    const speeds = allReadings.map((r) => r.speed_kmh);
    expect(Math.max(...speeds)).toBeLessThanOrEqual(135);
    expect(Math.max(...speeds)).toBeGreaterThan(100);
    for (const track of tracks.values()) {
      const stopped = track.filter((r) => r.speed_kmh === 0).length;
      const moving = track.filter((r) => r.speed_kmh > 0).length;
      expect(stopped).toBeGreaterThan(0);
      expect(moving).toBeGreaterThan(0);
      for (let i = 1; i < track.length; i++) {
        const dtS = (track[i]!.event_ts_ms - track[i - 1]!.event_ts_ms) / 1000;
        expect(Math.abs(track[i]!.speed_kmh - track[i - 1]!.speed_kmh) / dtS).toBeLessThanOrEqual(13.2);
      }
    }
    const cityCruise = speeds.filter((s) => s >= 25 && s <= 60).length;
    const highwayCruise = speeds.filter((s) => s >= 90).length;
    expect(cityCruise / speeds.length).toBeGreaterThan(0.1);
    expect(highwayCruise / speeds.length).toBeGreaterThan(0.05);
  });

  it('engines warm up from ambient to about 90 °C', () => {
    const warmedUp = [...tracks.values()].filter((track) => {
      const coldStart = track[0]!.engine_temp_c < 70;
      return coldStart && track.some((r) => r.engine_temp_c >= 85);
    });
    expect(warmedUp.length).toBeGreaterThan(0);
    const running = allReadings.filter((r) => r.speed_kmh > 30);
    const median = running.map((r) => r.engine_temp_c).sort((a, b) => a - b)[Math.floor(running.length / 2)]!;
    expect(median).toBeGreaterThan(85);
    expect(median).toBeLessThan(95);
  });

  it('some vehicles overheat above 105 °C for a minute or two at a time', () => {
    // An episode: readings above 105 °C, gaps under 10 s merged (sensor noise flickers around the line).
    const episodesS: number[] = [];
    for (const track of tracks.values()) {
      const hot = track.filter((r) => r.engine_temp_c > 105).map((r) => r.event_ts_ms);
      let start = hot[0];
      hot.forEach((ts, i) => {
        const next = hot[i + 1];
        if (next === undefined || next - ts > 10_000) {
          episodesS.push((ts - start!) / 1000);
          start = next;
        }
      });
    }
    const overheating = [...tracks.values()].filter((t) => t.some((r) => r.engine_temp_c > 105)).length;
    expect(overheating).toBeGreaterThan(0);
    expect(overheating).toBeLessThan(tracks.size / 2);
    expect(episodesS.length).toBeGreaterThan(0);
    for (const seconds of episodesS) {
      expect(seconds).toBeGreaterThanOrEqual(45);
      expect(seconds).toBeLessThanOrEqual(200);
    }
  });

  it('fuel only goes down, except when refuelled at a stop', () => {
    for (const track of tracks.values()) {
      const fuel = track.filter((r) => r.fuel_level_pct !== null);
      for (let i = 1; i < fuel.length; i++) {
        const before = fuel[i - 1]!;
        const after = fuel[i]!;
        if (after.fuel_level_pct! > before.fuel_level_pct!) {
          expect(after.fuel_level_pct).toBeGreaterThanOrEqual(90);
          expect(after.speed_kmh).toBe(0);
        }
      }
    }
    const reporting = [...tracks.values()].filter((t) => t[0]!.fuel_level_pct !== null);
    const burned = reporting.filter((t) => t.at(-1)!.fuel_level_pct! < t[0]!.fuel_level_pct!);
    expect(burned.length).toBeGreaterThan(reporting.length / 2);
  });

  it('rpm correlates with speed', () => {
    const withRpm = allReadings.filter((r) => r.rpm !== null && r.speed_kmh > 0);
    expect(
      correlation(
        withRpm.map((r) => r.speed_kmh),
        withRpm.map((r) => r.rpm!),
      ),
    ).toBeGreaterThan(0.7);
  });
});

describe('the shared telemetry generator: disorder within and beyond the allowed lateness', () => {
  const LATENESS_MS = 600_000;
  const generate = (disorder: DisorderOptions) => [
    ...generateTelemetry({
      vehicles: 8,
      durationS: 2 * HOUR_S,
      startMs: START_MS,
      seed: 21,
      allowedLatenessMs: LATENESS_MS,
      timestampJitterMs: 200,
      latencyMs: [50, 400],
      disorder,
    }),
  ];
  const kinds = (arrivals: TelemetryArrival[], kind: ArrivalKind) => arrivals.filter((a) => a.kind === kind);
  /** Per arrival, the newest event time of its vehicle delivered before it (-Infinity for none). */
  const newestBefore = (arrivals: TelemetryArrival[]) => {
    const newest = new Map<number, number>();
    return arrivals.map((a) => {
      const before = newest.get(a.vehicleIndex) ?? Number.NEGATIVE_INFINITY;
      newest.set(a.vehicleIndex, Math.max(before, a.reading.event_ts_ms));
      return before;
    });
  };

  it('holds readings back, alone and in bursts, by seconds to minutes, never beyond the lateness', () => {
    const arrivals = generate({
      heldBackRate: 0.05,
      heldBackDelayMs: [1_500, 540_000],
      heldBackBurstRate: 1 / 600,
    });
    expect(arrivals.every((a, i) => i === 0 || a.arrivalMs >= arrivals[i - 1]!.arrivalMs)).toBe(true);
    const newest = newestBefore(arrivals);
    const heldBack = arrivals.map((a, i) => ({ a, behindMs: newest[i]! - a.reading.event_ts_ms }));
    const held = heldBack.filter(({ a }) => a.kind === 'held_back');
    expect(held.length / arrivals.length).toBeGreaterThan(0.05);
    // Mostly: a burst's readings arrive in order among themselves, only newer live ones overtake them.
    expect(held.filter(({ behindMs }) => behindMs > 0).length).toBeGreaterThan(held.length * 0.75);
    expect(held.some(({ behindMs }) => behindMs > 120_000)).toBe(true);
    expect(Math.max(...heldBack.map(({ behindMs }) => behindMs))).toBeLessThan(LATENESS_MS);
  });

  it('delivers beyond-lateness readings more than the lateness behind their vehicle', () => {
    const arrivals = generate({ beyondLatenessRate: 0.01 });
    const newest = newestBefore(arrivals);
    const late = arrivals.flatMap((a, i) =>
      a.kind === 'beyond_lateness' ? [newest[i]! - a.reading.event_ts_ms] : [],
    );
    expect(late.length).toBeGreaterThan(50);
    expect(Math.min(...late)).toBeGreaterThan(LATENESS_MS);
  });

  it('uploads an offline buffer in order on reconnection, ahead of newer live readings', () => {
    const arrivals = generate({ offlineRate: 1 / 3000, offlineS: [300, 1_200] });
    const newest = newestBefore(arrivals);
    const buffered = arrivals.flatMap((a, i) => (a.kind === 'buffered' ? [{ a, newest: newest[i]! }] : []));
    expect(buffered.length).toBeGreaterThan(600);
    // Each buffered reading is the newest of its vehicle when it arrives: the upload loses nothing.
    expect(buffered.filter(({ a, newest }) => newest >= a.reading.event_ts_ms)).toEqual([]);
    expect(buffered.some(({ a }) => a.arrivalMs - a.reading.event_ts_ms > LATENESS_MS)).toBe(true);
  });

  it('pauses devices: gaps of 15 s to 10 min without readings', () => {
    const arrivals = generate({ pauseRate: 1 / 600 });
    const gaps: number[] = [];
    for (let v = 0; v < 8; v++) {
      const ts = arrivals.filter((a) => a.vehicleIndex === v).map((a) => a.reading.event_ts_ms);
      for (let i = 1; i < ts.length; i++) gaps.push(ts[i]! - ts[i - 1]!);
    }
    const pauses = gaps.filter((g) => g > 2_000);
    expect(pauses.length).toBeGreaterThan(10);
    expect(Math.min(...pauses)).toBeGreaterThanOrEqual(14_000);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(601_200);
  });

  it('re-sends: the same instant, with the same values or (conflicts) others, under the same or another event_id', () => {
    const arrivals = generate({ reSendRate: 0.05, conflictShare: 0.3, newIdShare: 0.3, reformatShare: 0.5 });
    const first = new Map<string, TelemetryArrival>();
    for (const a of arrivals) {
      const identity = `${a.vehicleIndex}@${a.reading.event_ts_ms}`;
      const original = first.get(identity);
      if (original === undefined) {
        expect(a.kind).not.toMatch(/re_send|conflict/);
        first.set(identity, a);
        continue;
      }
      expect(a.kind).toMatch(/re_send|conflict/);
      expect(a.arrivalMs).toBeGreaterThan(original.arrivalMs);
      const values = (x: TelemetryArrival) => ({ ...x.reading, event_id: '' });
      if (a.kind === 're_send') expect(values(a)).toEqual(values(original));
      else expect(values(a)).not.toEqual(values(original));
    }
    const reSends = [...kinds(arrivals, 're_send'), ...kinds(arrivals, 'conflict')];
    const newIds = reSends.filter(
      (a) => a.reading.event_id !== first.get(`${a.vehicleIndex}@${a.reading.event_ts_ms}`)!.reading.event_id,
    );
    expect(kinds(arrivals, 'conflict').length / reSends.length).toBeGreaterThan(0.2);
    expect(newIds.length / reSends.length).toBeGreaterThan(0.2);
  });

  it('shuffles a stream within the lateness: order changes, no reading falls more than the lateness behind', () => {
    const readings = [
      ...generateTelemetry({ vehicles: 6, durationS: HOUR_S, startMs: START_MS, seed: 4 }),
    ].map((a) => a.reading);
    const shuffled = shuffleWithinLateness(
      readings,
      (r) => r.event_ts_ms,
      LATENESS_MS,
      createSeededRandom(9),
    );
    expect(
      shuffled
        .map((s) => s.item)
        .sort((a, b) => a.event_ts_ms - b.event_ts_ms || a.vehicle_id.localeCompare(b.vehicle_id)),
    ).toEqual(
      [...readings].sort((a, b) => a.event_ts_ms - b.event_ts_ms || a.vehicle_id.localeCompare(b.vehicle_id)),
    );
    const newest = new Map<string, number>();
    let outOfOrder = 0;
    let maxBehindMs = 0;
    for (const { item } of shuffled) {
      const before = newest.get(item.vehicle_id) ?? Number.NEGATIVE_INFINITY;
      if (before > item.event_ts_ms) {
        outOfOrder++;
        maxBehindMs = Math.max(maxBehindMs, before - item.event_ts_ms);
      } else newest.set(item.vehicle_id, item.event_ts_ms);
    }
    expect(outOfOrder).toBeGreaterThan(readings.length / 2);
    expect(maxBehindMs).toBeGreaterThan(LATENESS_MS * 0.9);
    expect(maxBehindMs).toBeLessThan(LATENESS_MS);
  });
});

function correlation(xs: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    const dy = ys[i]! - my;
    sxy += (x - mx) * dy;
    sxx += (x - mx) ** 2;
    syy += dy ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}
