// A seeded telemetry stream in arrival order, for replaying through the feature engine and
// recomputing offline: 1 Hz per vehicle, with the disorder a real fleet sends (re-sends, conflicting
// re-sends, readings held back by seconds to minutes, readings beyond the allowed lateness, pauses
// without readings, a vehicle uploading its offline buffer). Pure: the same options give the same
// arrivals.

import { createSeededRandom, deriveSeed, type SeededRandom } from '../../local/seeded-random.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';

/** What the generator meant an arrival to be. The recomputation classifies on its own. */
export type ArrivalIntent = 'reading' | 'held_back' | 'beyond_lateness' | 'buffered' | 're_send' | 'conflict';

export interface ReplayArrival {
  /** Arrival order, 0-based, over the whole fleet. */
  seq: number;
  /** When it reaches the pipeline (may be fractional: ties are broken by generation order). */
  arrivalMs: number;
  reading: TelemetryReading;
  intent: ArrivalIntent;
}

export interface ReplayStreamOptions {
  seed: number;
  vehicles: number;
  durationS: number;
  startMs: number;
  /** The pipeline's allowed lateness: held-back readings stay within it, late ones go beyond. */
  allowedLatenessMs: number;
  heldBackRate?: number;
  /** Per second, the chance that the next 5-40 readings are all held back by the same delay. */
  heldBackBurstRate?: number;
  beyondLatenessRate?: number;
  reSendRate?: number;
  /** Share of re-sends that carry other values under the same event_id. */
  conflictShare?: number;
  /** The first vehicles go offline for a while and then upload their buffer in order. */
  offlineVehicles?: number;
  /** Per second, the chance that a vehicle stops sending for 15 s to 10 min (parked, engine off). */
  pauseRate?: number;
}

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
const KM_PER_DEGREE = (6371.0088 * Math.PI) / 180;

interface Pending {
  arrivalMs: number;
  order: number;
  reading: TelemetryReading;
  intent: ArrivalIntent;
}

export function generateReplayStream(options: ReplayStreamOptions): ReplayArrival[] {
  const pending: Pending[] = [];
  let order = 0;
  const push = (arrivalMs: number, reading: TelemetryReading, intent: ArrivalIntent) =>
    pending.push({ arrivalMs, order: order++, reading, intent });

  for (let v = 0; v < options.vehicles; v++) {
    const random = createSeededRandom(deriveSeed(options.seed, v));
    const vehicleId = `parity-v${String(v).padStart(2, '0')}`;
    const offline =
      v < (options.offlineVehicles ?? 2)
        ? { fromMs: options.startMs + (40 + 30 * v) * 60_000, toMs: options.startMs + (55 + 35 * v) * 60_000 }
        : null;
    const drive = vehicleDrive(random, v);
    const phaseMs = random.int(0, 799);
    let buffered = 0;
    let silentUntilK = -1;
    let burst: { untilK: number; delayMs: number } | null = null;
    for (let k = 0; k < options.durationS; k++) {
      // Parked with the engine off now and then: no readings, so tiles stay empty and rings have holes.
      if (k < silentUntilK) continue;
      if (random.chance(options.pauseRate ?? 1 / 900)) {
        silentUntilK = k + random.int(15, 600);
        drive.park();
        continue;
      }
      const values = drive.step(1);
      // At least 800 ms apart: every reading of a vehicle has its own instant.
      const t = options.startMs + phaseMs + k * 1000 + random.int(0, 200);
      const reading: TelemetryReading = {
        event_id: `${vehicleId}:${k}`,
        vehicle_id: vehicleId,
        event_ts_ms: t,
        ...values,
        extra: {},
      };
      const latency = random.range(50, 400);
      if (burst === null && random.chance(options.heldBackBurstRate ?? 1 / 1200)) {
        burst = {
          untilK: k + random.int(5, 40),
          delayMs: heldBackDelayMs(random, options.allowedLatenessMs),
        };
      }
      if (burst !== null && k >= burst.untilK) burst = null;
      if (offline && t >= offline.fromMs && t < offline.toMs) {
        // Uploaded on reconnection, in order, before anything live arrives.
        push(offline.toMs + 0.01 * buffered++, reading, 'buffered');
      } else if (random.chance(options.beyondLatenessRate ?? 0.01)) {
        push(t + options.allowedLatenessMs + random.range(60_000, 900_000), reading, 'beyond_lateness');
      } else if (burst !== null) {
        // A stretch of readings delayed together (a slow path): in order among themselves, behind
        // the live ones, filling whole tiles that were empty when the head passed them.
        push(t + burst.delayMs + latency, reading, 'held_back');
      } else if (random.chance(options.heldBackRate ?? 0.03)) {
        push(t + heldBackDelayMs(random, options.allowedLatenessMs), reading, 'held_back');
      } else {
        push(t + latency, reading, 'reading');
      }
      if (random.chance(options.reSendRate ?? 0.05)) {
        const first = pending.at(-1)!;
        const reSendAt = first.arrivalMs + random.range(200, 90_000);
        if (random.chance(options.conflictShare ?? 0.4)) {
          const changed = random.chance(0.5)
            ? { speed_kmh: round(Math.min(400, reading.speed_kmh + random.range(0.5, 20)), 2) }
            : { engine_temp_c: round(reading.engine_temp_c - random.range(0.5, 5), 2) };
          push(reSendAt, { ...reading, ...changed }, 'conflict');
        } else {
          push(reSendAt, { ...reading }, 're_send');
        }
      }
    }
  }
  pending.sort((a, b) => a.arrivalMs - b.arrivalMs || a.order - b.order);
  return pending.map((p, seq) => ({ seq, arrivalMs: p.arrivalMs, reading: p.reading, intent: p.intent }));
}

/** Seconds to several minutes: some within the 1m window, some beyond 1m and 5m, all within lateness. */
function heldBackDelayMs(random: SeededRandom, allowedLatenessMs: number): number {
  const bucket = random.next();
  if (bucket < 0.35) return random.range(1_500, 20_000);
  if (bucket < 0.65) return random.range(20_000, 120_000);
  return random.range(120_000, allowedLatenessMs - 60_000);
}

type DriveValues = Pick<
  TelemetryReading,
  'speed_kmh' | 'engine_temp_c' | 'gps_lat' | 'gps_lon' | 'fuel_level_pct' | 'rpm'
>;

/** A vehicle that alternates driving and stops, warms up, sometimes overheats, and moves on the sphere. */
function vehicleDrive(
  random: SeededRandom,
  index: number,
): { step: (dtS: number) => DriveValues; park: () => void } {
  let speed = 0;
  let target = random.range(20, 110);
  let temp = random.range(15, 30);
  let overheatS = 0;
  let lat = 48.1 + random.range(-0.2, 0.2);
  let lon = 11.5 + random.range(-0.3, 0.3);
  let heading = random.range(0, 2 * Math.PI);
  let fuel = random.range(40, 95);
  const reportsFuel = index % 2 === 0;
  const park = () => {
    speed = 0;
    target = random.range(20, 110);
  };
  const step = (dtS: number): DriveValues => {
    if (random.chance(1 / 90)) target = random.chance(0.2) ? 0 : random.range(20, 130);
    speed = Math.max(0, Math.min(160, speed + (target - speed) * 0.08 + random.normal(0, 1.5)));
    if (target === 0 && speed < 2) speed = 0;
    if (overheatS > 0) overheatS -= dtS;
    else if (random.chance(1 / 1500)) overheatS = random.range(30, 150);
    const targetTemp = overheatS > 0 ? 112 : 88 + speed / 40;
    temp += (targetTemp - temp) * 0.02 + random.normal(0, 0.2);
    heading += random.normal(0, 0.05);
    const km = (speed / 3600) * dtS;
    lat += (km * Math.cos(heading)) / KM_PER_DEGREE;
    lon += (km * Math.sin(heading)) / (KM_PER_DEGREE * Math.cos((lat * Math.PI) / 180));
    fuel = Math.max(0, fuel - km * 0.01);
    return {
      speed_kmh: round(speed, 2),
      engine_temp_c: round(Math.max(-50, Math.min(200, temp)), 2),
      gps_lat: round(lat, 6),
      gps_lon: round(lon, 6),
      fuel_level_pct: reportsFuel ? round(fuel, 1) : null,
      rpm: speed === 0 ? 800 : round(800 + speed * 28 + random.range(-50, 50), 0),
    };
  };
  return { step, park };
}
