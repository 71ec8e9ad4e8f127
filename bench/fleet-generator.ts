import { createSeededRandom, deriveSeed, type SeededRandom } from '../local/seeded-random.js';
import type { TelemetryReading } from '../shared/telemetry/telemetry-reading.js';

/**
 * A replayable fleet: every vehicle sends one reading per second of event time, and the stream is
 * delivered in arrival order with the imperfections a real broker and real devices produce:
 *  - duplicates: a share of readings is delivered again (same event_id, same values) a few
 *    seconds later, as Pub/Sub redelivery or a device retry would;
 *  - out of order: a share of readings is held back a few seconds (well inside the allowed
 *    lateness), so it arrives after a newer reading of its vehicle.
 * Deterministic for a seed, so two runs replay the very same stream.
 */
export interface FleetOptions {
  vehicles: number;
  seconds: number;
  /** Share of readings delivered twice, e.g. 0.05. */
  duplicateRate: number;
  /** Share of readings delivered after a newer reading of the same vehicle, e.g. 0.02. */
  outOfOrderRate: number;
  seed: number;
  /** Event time of the first second. */
  startMs: number;
  /** Vehicle ids are `${idPrefix}${n}` (warm-up uses another prefix than the measured run). */
  idPrefix: string;
}

/**
 * The replay, stored column-wise in typed arrays: 600k readings as objects would put a few hundred
 * MB on the heap and the bench would measure its own garbage collection. `reading(i)` builds the
 * delivery's reading object when it is sent, as parsing a message would.
 */
export interface FleetReplay {
  /** Deliveries, in arrival order. */
  length: number;
  reading(delivery: number): TelemetryReading;
  /** The receiving clock when this delivery is processed (the replay's simulated now). */
  nowMs(delivery: number): number;
  vehicleIds: string[];
  /** Distinct readings (deliveries minus duplicates). */
  distinctReadings: number;
  duplicates: number;
  heldBack: number;
}

/** Most seconds a held-back or re-sent reading trails its original slot. */
const MAX_DELAY_S = 5;
/** A city-sized area (around Munich) the fleet drives in. */
const AREA = { lat: 48.14, lon: 11.58, spreadDeg: 0.3 };

interface VehicleState {
  id: string;
  random: SeededRandom;
  /** Sub-second phase of this vehicle's clock: devices do not all report on the same millisecond. */
  phaseMs: number;
  seq: number;
  lat: number;
  lon: number;
  headingRad: number;
  speedKmh: number;
  cruiseKmh: number;
  tempC: number;
  fuelPct: number;
  /** Some devices have no fuel sensor or no rpm line. */
  hasFuel: boolean;
  hasRpm: boolean;
}

function createVehicle(options: FleetOptions, index: number): VehicleState {
  const random = createSeededRandom(deriveSeed(options.seed, index));
  return {
    id: `${options.idPrefix}${index}`,
    random,
    phaseMs: random.int(0, 999),
    seq: 0,
    lat: AREA.lat + random.range(-AREA.spreadDeg, AREA.spreadDeg),
    lon: AREA.lon + random.range(-AREA.spreadDeg, AREA.spreadDeg),
    headingRad: random.range(0, 2 * Math.PI),
    speedKmh: random.range(0, 60),
    cruiseKmh: random.pick([30, 50, 50, 80, 100, 120]),
    tempC: random.range(40, 90),
    fuelPct: random.range(15, 100),
    hasFuel: random.chance(0.9),
    hasRpm: random.chance(0.8),
  };
}

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

/** Distinct readings, column-wise; null optional values are NaN. */
class ReadingColumns {
  readonly vehicle: Uint32Array;
  readonly seq: Uint32Array;
  readonly values: Float64Array[];
  length = 0;

  constructor(capacity: number) {
    this.vehicle = new Uint32Array(capacity);
    this.seq = new Uint32Array(capacity);
    this.values = Array.from({ length: 7 }, () => new Float64Array(capacity));
  }

  push(vehicle: number, seq: number, values: readonly number[]): number {
    const i = this.length++;
    this.vehicle[i] = vehicle;
    this.seq[i] = seq;
    for (let k = 0; k < values.length; k++) this.values[k]![i] = values[k]!;
    return i;
  }
}

/** One second of driving: speed follows a cruise target with stops, the engine warms, GPS moves. */
function nextReadingValues(v: VehicleState, eventTsMs: number): number[] {
  const r = v.random;
  if (r.chance(0.01)) v.cruiseKmh = r.pick([0, 30, 50, 80, 100, 120]);
  v.speedKmh = Math.min(220, Math.max(0, v.speedKmh + 0.2 * (v.cruiseKmh - v.speedKmh) + r.normal(0, 2)));
  v.headingRad += r.normal(0, 0.05);
  const km = v.speedKmh / 3600;
  v.lat += (km / 111.32) * Math.cos(v.headingRad);
  v.lon += (km / (111.32 * Math.cos((v.lat * Math.PI) / 180))) * Math.sin(v.headingRad);
  const targetTemp = v.speedKmh > 0 ? 88 + v.speedKmh / 20 : 80;
  v.tempC += 0.05 * (targetTemp - v.tempC) + r.normal(0, 0.3);
  // A few engines run hot: readings above the 105 °C anomaly threshold happen.
  if (r.chance(0.0005)) v.tempC += 25;
  v.fuelPct = Math.max(0, v.fuelPct - km * 0.08);
  v.seq++;
  return [
    eventTsMs,
    round(v.speedKmh, 2),
    round(Math.min(200, Math.max(-50, v.tempC)), 2),
    round(v.lat, 6),
    round(v.lon, 6),
    v.hasFuel ? round(v.fuelPct, 1) : Number.NaN,
    v.hasRpm ? Math.round(800 + v.speedKmh * 25 + r.normal(0, 50)) : Number.NaN,
  ];
}

const orNull = (value: number) => (Number.isNaN(value) ? null : value);

export function generateFleetReplay(options: FleetOptions): FleetReplay {
  const vehicles = Array.from({ length: options.vehicles }, (_, i) => createVehicle(options, i));
  const stream = createSeededRandom(deriveSeed(options.seed, 0xffffffff));
  const readings = new ReadingColumns(options.vehicles * options.seconds);
  // Deliveries bucketed by the second they arrive in (reading indexes); within a second, in
  // generation order.
  const buckets: number[][] = Array.from({ length: options.seconds + MAX_DELAY_S + 1 }, () => []);
  let duplicates = 0;
  let heldBack = 0;
  for (let s = 0; s < options.seconds; s++) {
    vehicles.forEach((v, vehicle) => {
      const values = nextReadingValues(v, options.startMs + s * 1000 + v.phaseMs);
      const reading = readings.push(vehicle, v.seq, values);
      // Held back at least a second: by then the vehicle's next reading has been applied.
      const late = stream.chance(options.outOfOrderRate);
      if (late) heldBack++;
      buckets[s + (late ? stream.int(1, MAX_DELAY_S) : 0)]!.push(reading);
      if (stream.chance(options.duplicateRate)) {
        duplicates++;
        buckets[s + stream.int(0, MAX_DELAY_S)]!.push(reading);
      }
    });
  }
  const length = buckets.reduce((sum, bucket) => sum + bucket.length, 0);
  const deliveryReading = new Uint32Array(length);
  const deliverySecond = new Uint32Array(length);
  let d = 0;
  buckets.forEach((bucket, second) => {
    for (const reading of bucket) {
      deliveryReading[d] = reading;
      deliverySecond[d++] = second;
    }
  });
  const vehicleIds = vehicles.map((v) => v.id);
  const [ts, speed, temp, lat, lon, fuel, rpm] = readings.values as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  return {
    length,
    reading(delivery) {
      const i = deliveryReading[delivery]!;
      const vehicleId = vehicleIds[readings.vehicle[i]!]!;
      return {
        event_id: `${vehicleId}:${readings.seq[i]}`,
        vehicle_id: vehicleId,
        event_ts_ms: ts[i]!,
        speed_kmh: speed[i]!,
        engine_temp_c: temp[i]!,
        gps_lat: lat[i]!,
        gps_lon: lon[i]!,
        fuel_level_pct: orNull(fuel[i]!),
        rpm: orNull(rpm[i]!),
        extra: {},
      };
    },
    // Processed at the end of its arrival second (the replay's receiving clock).
    nowMs: (delivery) => options.startMs + (deliverySecond[delivery]! + 1) * 1000,
    vehicleIds,
    distinctReadings: readings.length,
    duplicates,
    heldBack,
  };
}
