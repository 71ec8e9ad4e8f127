import { EARTH_RADIUS_KM } from '../../shared/geo/haversine.js';
import { deriveEventId } from '../../shared/telemetry/telemetry-event-id.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import { createSeededRandom, deriveSeed, type SeededRandom } from './seeded-random.js';

/**
 * The one telemetry generator: a seeded fleet of simulated vehicles and the stream of arrivals it
 * sends, shared by the device simulator (`npm run dev`), the bench and the tests. Pure: no clock, no
 * I/O; the same options give the same arrivals, and every vehicle draws from its own random
 * stream, so a vehicle's story does not depend on the fleet size.
 *
 * Vehicles alternate trips (city or highway: acceleration, cruise, braking, traffic lights) and
 * stops; engines warm up from ambient to ~90 °C and some overheat now and then; GPS follows speed
 * and heading on the sphere, so the haversine distance between two consecutive readings equals the
 * trapezoid of their speeds over the interval.
 *
 * On top of that, the disorder a real fleet sends, each kind off unless asked for (DisorderOptions):
 * re-sends (same values, sometimes in another timestamp format or under another event_id),
 * conflicting re-sends (same instant, other values), readings held back within the allowed
 * lateness (alone or in bursts), readings beyond it, offline buffers uploaded in order on
 * reconnection, pauses (the device silent) and malformed messages.
 */

/** What the generator meant an arrival to be; a consumer (a recomputation, the engine) judges on its own. */
export type ArrivalKind =
  /** Live, on time. */
  | 'reading'
  /** Arrives after newer readings of its vehicle, within the allowed lateness. */
  | 'held_back'
  /** Recorded while the vehicle was offline, uploaded in order on reconnection. */
  | 'buffered'
  /** Arrives more than the allowed lateness behind newer readings of its vehicle. */
  | 'beyond_lateness'
  /** An earlier reading again, same instant and values. */
  | 're_send'
  /** An earlier reading's instant again with other values. */
  | 'conflict'
  /** An invalid message sent instead of a reading. */
  | 'malformed';

export type TimestampFormat = 'iso_z' | 'iso_offset' | 'epoch_ms' | 'epoch_s';

/** How a device puts a reading on the wire (see encodeArrival). */
export interface WireFormat {
  timestampFormat: TimestampFormat;
  utcOffsetMin: number;
  /** event_id is sent; otherwise the pipeline derives it from the vehicle and the instant. */
  sendsEventId: boolean;
}

export interface TelemetryArrival {
  /** Arrival order over the whole fleet, 0-based. */
  seq: number;
  kind: ArrivalKind;
  vehicleIndex: number;
  /** When it reaches the pipeline, in ms (may be fractional); arrivals come in this order. */
  arrivalMs: number;
  /**
   * The reading as the pipeline normalizes it (event_id set: the device's, or the derived one).
   * For `malformed`, the reading the invalid payload replaced.
   */
  reading: TelemetryReading;
  wire: WireFormat;
  /** `malformed` only: the payload sent instead of the reading. */
  malformedPayload: string | null;
}

/** An inclusive range [min, max]. */
export type Range = readonly [min: number, max: number];

/** Rates are per reading, in [0, 1]; everything defaults to 0 (an in-order, exactly-once stream). */
export interface DisorderOptions {
  /** Share of readings sent again later (a retry after a lost acknowledgement). */
  reSendRate?: number;
  /** A re-send arrives this long after the first delivery, in ms. Default [200, 30_000]. */
  reSendDelayMs?: Range;
  /** Share of re-sends with other values for the same instant (speed or temperature changed). */
  conflictShare?: number;
  /** Share of re-sends under another event_id for the same instant (the derived one, or an explicit one). */
  newIdShare?: number;
  /** Share of re-sends in another timestamp format and offset than the device's own. */
  reformatShare?: number;
  /** Share of readings held back, each alone, by heldBackDelayMs (log-uniform). */
  heldBackRate?: number;
  /**
   * How long a held-back reading trails its event time, in ms; the upper end is capped at the
   * allowed lateness minus a second minus the transport latency. Default [1_500, 4_000].
   */
  heldBackDelayMs?: Range;
  /** Per reading, the chance that it and the next 5-40 readings are all held back by the same delay. */
  heldBackBurstRate?: number;
  /** Share of readings delivered beyond the allowed lateness. */
  beyondLatenessRate?: number;
  /** Beyond-lateness readings arrive the allowed lateness plus this many ms after their event time. Default [60_000, 900_000]. */
  beyondLatenessDelayMs?: Range;
  /** Share of readings replaced by an invalid message (broken JSON, out of range, hostile id...). */
  malformedRate?: number;
  /** Per reading, the chance that the device goes silent (parked, no coverage) for pauseS seconds. */
  pauseRate?: number;
  /** Default [15, 600]. */
  pauseS?: Range;
  /** Per reading, the chance that the vehicle goes offline for offlineS seconds, buffering its readings. */
  offlineRate?: number;
  /** Default [300, 1_200]. */
  offlineS?: Range;
}

export interface TelemetryGeneratorOptions {
  vehicles: number;
  /** Event time of the run's start (integer epoch ms). */
  startMs: number;
  durationS: number;
  /** Readings per vehicle per second of event time, in (0, 100]. Default 1. */
  ratePerVehicleHz?: number;
  seed?: number;
  /** Default vehicleIdFor: veh-00001, veh-00002, ... */
  vehicleId?: (index: number) => string;
  /** Each reading's event time lands up to this many ms after its slot (devices do not sample on the dot). Default 0. */
  timestampJitterMs?: number;
  /** Transport latency of a live reading, in ms. Default [0, 0]. */
  latencyMs?: Range;
  /** Share of devices that send their own event_id. Default 1. */
  eventIdShare?: number;
  /** The pipeline's allowed lateness: held-back readings stay within it, beyond-lateness ones go past it. Default 600 s. */
  allowedLatenessMs?: number;
  disorder?: DisorderOptions;
}

export class InvalidGeneratorOptionsError extends Error {
  readonly code = 'invalid_generator_options';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGeneratorOptionsError';
  }
}

export const DEFAULT_GENERATOR_LATENESS_MS = 600_000;

export function vehicleIdFor(index: number): string {
  return `veh-${String(index + 1).padStart(5, '0')}`;
}

interface Settings {
  vehicles: number;
  startMs: number;
  durationMs: number;
  endMs: number;
  periodMs: number;
  seed: number;
  vehicleId: (index: number) => string;
  jitterMs: number;
  latencyMs: Range;
  eventIdShare: number;
  allowedLatenessMs: number;
  reSendRate: number;
  reSendDelayMs: Range;
  conflictShare: number;
  newIdShare: number;
  reformatShare: number;
  heldBackRate: number;
  heldBackDelayMs: Range;
  heldBackBurstRate: number;
  beyondLatenessRate: number;
  beyondLatenessDelayMs: Range;
  malformedRate: number;
  pauseRate: number;
  pauseS: Range;
  offlineRate: number;
  offlineS: Range;
}

function checkOptions(options: TelemetryGeneratorOptions): Settings {
  const fail = (message: string): never => {
    throw new InvalidGeneratorOptionsError(message);
  };
  const { vehicles, durationS, startMs } = options;
  const rateHz = options.ratePerVehicleHz ?? 1;
  if (!Number.isInteger(vehicles) || vehicles < 0) fail(`vehicles must be an integer >= 0, got ${vehicles}`);
  // Above 100 Hz two readings of one vehicle could round to the same millisecond, i.e. the same identity.
  if (!(rateHz > 0 && rateHz <= 100)) fail(`ratePerVehicleHz must be in (0, 100], got ${rateHz}`);
  if (!(Number.isFinite(durationS) && durationS >= 0))
    fail(`durationS must be a finite number >= 0, got ${durationS}`);
  if (!Number.isSafeInteger(startMs)) fail(`startMs must be integer epoch ms, got ${startMs}`);
  const periodMs = 1000 / rateHz;
  const share = (name: string, value: number | undefined): number => {
    const chosen = value ?? 0;
    if (!(chosen >= 0 && chosen <= 1)) fail(`${name} must be in [0, 1], got ${chosen}`);
    return chosen;
  };
  const range = (name: string, value: Range | undefined, fallback: Range): Range => {
    const [min, max] = value ?? fallback;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && min <= max))
      fail(`${name} must be [min, max] with 0 <= min <= max, got [${min}, ${max}]`);
    return [min, max];
  };
  const d = options.disorder ?? {};
  const jitterMs = options.timestampJitterMs ?? 0;
  if (!(jitterMs >= 0 && jitterMs <= periodMs - 1))
    fail(`timestampJitterMs must be in [0, ${periodMs - 1}] at this rate, got ${jitterMs}`);
  const allowedLatenessMs = options.allowedLatenessMs ?? DEFAULT_GENERATOR_LATENESS_MS;
  if (!(allowedLatenessMs >= 0)) fail(`allowedLatenessMs must be >= 0, got ${allowedLatenessMs}`);
  const settings: Settings = {
    vehicles,
    startMs,
    durationMs: durationS * 1000,
    endMs: startMs + durationS * 1000,
    periodMs,
    seed: options.seed ?? 1,
    vehicleId: options.vehicleId ?? vehicleIdFor,
    jitterMs,
    latencyMs: range('latencyMs', options.latencyMs, [0, 0]),
    eventIdShare: share('eventIdShare', options.eventIdShare ?? 1),
    allowedLatenessMs,
    reSendRate: share('reSendRate', d.reSendRate),
    reSendDelayMs: range('reSendDelayMs', d.reSendDelayMs, [200, 30_000]),
    conflictShare: share('conflictShare', d.conflictShare),
    newIdShare: share('newIdShare', d.newIdShare),
    reformatShare: share('reformatShare', d.reformatShare),
    heldBackRate: share('heldBackRate', d.heldBackRate),
    heldBackDelayMs: range('heldBackDelayMs', d.heldBackDelayMs, [1_500, 4_000]),
    heldBackBurstRate: share('heldBackBurstRate', d.heldBackBurstRate),
    beyondLatenessRate: share('beyondLatenessRate', d.beyondLatenessRate),
    beyondLatenessDelayMs: range('beyondLatenessDelayMs', d.beyondLatenessDelayMs, [60_000, 900_000]),
    malformedRate: share('malformedRate', d.malformedRate),
    pauseRate: share('pauseRate', d.pauseRate),
    pauseS: range('pauseS', d.pauseS, [15, 600]),
    offlineRate: share('offlineRate', d.offlineRate),
    offlineS: range('offlineS', d.offlineS, [300, 1_200]),
  };
  if (settings.malformedRate + settings.beyondLatenessRate + settings.heldBackRate > 1) {
    fail('malformedRate + beyondLatenessRate + heldBackRate must not exceed 1');
  }
  return settings;
}

/**
 * The fleet's arrivals in arrival order (ties in generation order), lazily: a long run of a large
 * fleet never sits in memory at once, only the deliveries still waiting for their arrival time.
 */
export function* generateTelemetry(options: TelemetryGeneratorOptions): Generator<TelemetryArrival> {
  const s = checkOptions(options);
  const vehicles = Array.from({ length: s.vehicles }, (_, index) =>
    createVehicle(index, s, createSeededRandom(deriveSeed(s.seed, index))),
  ).sort((a, b) => a.offsetMs - b.offsetMs);
  const queue = new ArrivalQueue();
  let seq = 0;
  for (let k = 0; ; k++) {
    let any = false;
    for (const vehicle of vehicles) {
      const slotMs = vehicle.offsetMs + k * s.periodMs;
      if (slotMs >= s.durationMs) continue;
      any = true;
      emitSlot(vehicle, slotMs, s, queue);
      // Every later delivery arrives at or after its own (rounded) slot, and slots only grow from here.
      for (const arrival of queue.popUntil(s.startMs + Math.round(slotMs))) yield { ...arrival, seq: seq++ };
    }
    if (!any) break;
  }
  for (const arrival of queue.popUntil(Number.POSITIVE_INFINITY)) yield { ...arrival, seq: seq++ };
}

/** A seeded permutation of each vehicle's in-order readings in which no reading arrives more than
 * `allowedLatenessMs` behind the newest event time of its vehicle already delivered: each arrives
 * at its event time plus a uniform delay in [0, allowedLatenessMs - 1 ms), so a reading that
 * arrives before it is at most that much newer. Items come back sorted by that arrival time. */
export function shuffleWithinLateness<T>(
  items: readonly T[],
  eventTsMs: (item: T) => number,
  allowedLatenessMs: number,
  random: SeededRandom,
): { item: T; arrivalMs: number }[] {
  const spread = Math.max(0, allowedLatenessMs - 1);
  return items
    .map((item) => ({ item, arrivalMs: eventTsMs(item) + random.range(0, spread) }))
    .sort((a, b) => a.arrivalMs - b.arrivalMs);
}

/** The message a device sends for an arrival: the malformed payload, or the reading in its wire format. */
export function encodeArrival(arrival: TelemetryArrival): string {
  return arrival.malformedPayload ?? JSON.stringify(readingObject(arrival.reading, arrival.wire));
}

export function formatTimestamp(ms: number, format: TimestampFormat, utcOffsetMin = 0): string | number {
  switch (format) {
    case 'epoch_ms':
      return ms;
    case 'epoch_s':
      return ms / 1000;
    case 'iso_z':
      return new Date(ms).toISOString();
    case 'iso_offset': {
      const local = new Date(ms + utcOffsetMin * 60_000).toISOString().slice(0, 23);
      const sign = utcOffsetMin < 0 ? '-' : '+';
      const abs = Math.abs(utcOffsetMin);
      return `${local}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Vehicles

const TANK_LITRES = 50;
const CITY_CENTERS = [
  { lat: 48.8566, lon: 2.3522 },
  { lat: 45.764, lon: 4.8357 },
  { lat: 53.5511, lon: 9.9937 },
  { lat: 45.4642, lon: 9.19 },
  { lat: 40.4168, lon: -3.7038 },
] as const;
const UTC_OFFSETS_MIN = [120, 60, -300, 330, 0, -180] as const;
const TIMESTAMP_FORMATS: readonly TimestampFormat[] = ['iso_z', 'iso_offset', 'epoch_ms', 'epoch_s'];
/** Half the devices send ISO with Z; the rest other offsets and epoch numbers. */
const DEVICE_TIMESTAMP_FORMATS: readonly TimestampFormat[] = [
  'iso_z',
  'iso_z',
  'iso_z',
  'iso_z',
  'iso_z',
  'iso_offset',
  'iso_offset',
  'epoch_ms',
  'epoch_ms',
  'epoch_s',
];
/** rpm per km/h, top gear first. */
const GEAR_RPM_PER_KMH = [22, 27, 34, 45, 68, 120] as const;

type Phase = 'parked' | 'driving' | 'stopping' | 'idling';

interface Vehicle {
  index: number;
  id: string;
  rng: SeededRandom;
  /** Sub-period phase of this device's clock: devices do not all report on the same millisecond. */
  offsetMs: number;
  // device traits
  wire: WireFormat;
  reportsRpm: boolean;
  reportsFuel: boolean;
  extra: Record<string, unknown>;
  overheatProne: boolean;
  ambientC: number;
  nominalTempC: number;
  accelKmhPerS: number;
  brakeKmhPerS: number;
  highwayShare: number;
  // driving state
  seq: number;
  lastTsMs: number | null;
  phase: Phase;
  phaseEndsMs: number;
  tripEndsMs: number;
  nextStopMs: number;
  stopThenPark: boolean;
  tripKind: 'city' | 'highway';
  targetKmh: number;
  speedKmh: number;
  headingDeg: number;
  lat: number;
  lon: number;
  tempC: number;
  overheatUntilMs: number;
  overheatTargetC: number;
  fuelPct: number;
  // delivery state
  silentUntilMs: number;
  offlineUntilMs: number;
  burst: { untilSeq: number; delayMs: number } | null;
}

function createVehicle(index: number, s: Settings, rng: SeededRandom): Vehicle {
  const center = rng.pick(CITY_CENTERS);
  const ambientC = rng.range(2, 30);
  const nominalTempC = rng.range(87, 92);
  const driving = rng.chance(0.5);
  const timestampFormat = rng.pick(DEVICE_TIMESTAMP_FORMATS);
  const utcOffsetMin = rng.pick(UTC_OFFSETS_MIN);
  const sendsEventId = rng.chance(s.eventIdShare);
  const reportsRpm = rng.chance(0.85);
  const reportsFuel = rng.chance(0.95);
  const firmware = rng.chance(0.3) ? `${rng.int(1, 3)}.${rng.int(0, 9)}.${rng.int(0, 20)}` : null;
  const vehicle: Vehicle = {
    index,
    id: s.vehicleId(index),
    rng,
    offsetMs: rng.range(0, s.periodMs),
    wire: { timestampFormat, utcOffsetMin, sendsEventId },
    reportsRpm,
    reportsFuel,
    extra: firmware === null ? {} : { firmware },
    overheatProne: rng.chance(0.2),
    ambientC,
    nominalTempC,
    accelKmhPerS: rng.range(6, 9),
    brakeKmhPerS: rng.range(9, 13),
    highwayShare: rng.range(0.1, 0.6),
    seq: 0,
    lastTsMs: null,
    phase: 'parked',
    phaseEndsMs: s.startMs + rng.range(0, 5 * 60_000),
    tripEndsMs: 0,
    nextStopMs: 0,
    stopThenPark: false,
    tripKind: 'city',
    targetKmh: 0,
    speedKmh: 0,
    headingDeg: rng.range(0, 360),
    lat: center.lat + rng.normal(0, 0.05),
    lon: center.lon + rng.normal(0, 0.07),
    tempC: ambientC + rng.next() * (nominalTempC - ambientC),
    overheatUntilMs: 0,
    overheatTargetC: 110,
    fuelPct: rng.range(25, 100),
    silentUntilMs: Number.NEGATIVE_INFINITY,
    offlineUntilMs: Number.NEGATIVE_INFINITY,
    burst: null,
  };
  if (driving) {
    startTrip(vehicle, s.startMs);
    vehicle.tripEndsMs = s.startMs + rng.range(1, 25) * 60_000;
    vehicle.speedKmh = vehicle.targetKmh * rng.range(0.5, 1);
    vehicle.tempC = nominalTempC;
  }
  return vehicle;
}

function startTrip(vehicle: Vehicle, tsMs: number): void {
  const { rng } = vehicle;
  vehicle.tripKind = rng.chance(vehicle.highwayShare) ? 'highway' : 'city';
  vehicle.phase = 'driving';
  vehicle.tripEndsMs = tsMs + rng.range(5, 40) * 60_000;
  vehicle.targetKmh = cruiseTarget(vehicle);
  vehicle.nextStopMs = tsMs + nextStopGapMs(vehicle);
}

function cruiseTarget(vehicle: Vehicle): number {
  return vehicle.tripKind === 'highway' ? vehicle.rng.range(95, 130) : vehicle.rng.range(28, 55);
}

function nextStopGapMs(vehicle: Vehicle): number {
  // City: traffic lights every minute or three. Highway: a slowdown to a halt now and then (jams, tolls).
  return vehicle.tripKind === 'city' ? vehicle.rng.range(45, 180) * 1000 : vehicle.rng.range(6, 20) * 60_000;
}

type SensorValues = Omit<TelemetryReading, 'event_id' | 'vehicle_id' | 'extra'>;

/** Advances one vehicle to `tsMs` and reads its sensors. */
function stepVehicle(vehicle: Vehicle, tsMs: number): SensorValues {
  const { rng } = vehicle;
  const dtS = vehicle.lastTsMs === null ? 0 : (tsMs - vehicle.lastTsMs) / 1000;
  vehicle.lastTsMs = tsMs;

  updatePhase(vehicle, tsMs);
  const engineOn = vehicle.phase !== 'parked';

  // Speed: exponential approach to the target (smooth cruise), capped by acceleration and braking limits.
  const before = vehicle.speedKmh;
  if (vehicle.phase === 'driving' && dtS > 0) {
    vehicle.targetKmh = clamp(
      vehicle.targetKmh + rng.normal(0, vehicle.tripKind === 'city' ? 1.2 : 0.8) * Math.sqrt(dtS),
      vehicle.tripKind === 'city' ? 20 : 80,
      vehicle.tripKind === 'city' ? 60 : 132,
    );
  }
  // Aiming a little below zero makes braking end in a stop instead of an endless creep.
  const target = vehicle.phase === 'driving' ? vehicle.targetKmh : -4;
  const wanted = (target - before) * (1 - Math.exp(-dtS / 4));
  const change = clamp(wanted, -vehicle.brakeKmhPerS * dtS, vehicle.accelKmhPerS * dtS);
  const after = Math.max(0, before + change);
  vehicle.speedKmh = after;

  // Position: the trapezoid of speed over the interval, along the heading, on the sphere.
  const distanceKm = ((before + after) / 2) * (dtS / 3600);
  if (distanceKm > 0) {
    const [lat, lon] = destination(vehicle.lat, vehicle.lon, vehicle.headingDeg, distanceKm);
    vehicle.lat = lat;
    vehicle.lon = lon;
    const wander = vehicle.tripKind === 'city' ? 4 : 0.6;
    vehicle.headingDeg = (vehicle.headingDeg + rng.normal(0, wander) * Math.sqrt(dtS) + 360) % 360;
  }

  updateEngineTemperature(vehicle, tsMs, dtS, engineOn);

  const litresPer100Km = vehicle.tripKind === 'city' ? 9 : 7;
  const burnedPct =
    ((distanceKm * litresPer100Km) / 100 / TANK_LITRES) * 100 + (engineOn ? (1.6 * dtS) / 3600 : 0);
  vehicle.fuelPct = Math.max(0, vehicle.fuelPct - burnedPct);

  vehicle.seq += 1;
  return {
    event_ts_ms: tsMs,
    speed_kmh: round(after, 1),
    engine_temp_c: round(clamp(vehicle.tempC + rng.normal(0, 0.15), -50, 200), 1),
    gps_lat: round(vehicle.lat, 6),
    gps_lon: round(vehicle.lon, 6),
    fuel_level_pct: vehicle.reportsFuel ? round(vehicle.fuelPct, 1) : null,
    rpm: vehicle.reportsRpm ? Math.round(engineRpm(vehicle, engineOn, after, after - before)) : null,
  };
}

function updatePhase(vehicle: Vehicle, tsMs: number): void {
  const { rng } = vehicle;
  switch (vehicle.phase) {
    case 'parked':
      if (tsMs >= vehicle.phaseEndsMs) startTrip(vehicle, tsMs);
      return;
    case 'driving':
      if (tsMs >= vehicle.tripEndsMs || tsMs >= vehicle.nextStopMs) {
        vehicle.phase = 'stopping';
        vehicle.stopThenPark = tsMs >= vehicle.tripEndsMs;
      }
      return;
    case 'stopping':
      if (vehicle.speedKmh > 0) return;
      if (vehicle.stopThenPark) {
        vehicle.phase = 'parked';
        vehicle.phaseEndsMs = tsMs + rng.range(1, 10) * 60_000;
        if (vehicle.fuelPct < 15) vehicle.fuelPct = rng.range(90, 100);
      } else {
        vehicle.phase = 'idling';
        vehicle.phaseEndsMs = tsMs + rng.range(10, 60) * 1000;
      }
      return;
    case 'idling':
      if (tsMs < vehicle.phaseEndsMs) return;
      vehicle.phase = 'driving';
      vehicle.targetKmh = cruiseTarget(vehicle);
      vehicle.nextStopMs = tsMs + nextStopGapMs(vehicle);
      if (vehicle.tripKind === 'city' && rng.chance(0.4)) {
        vehicle.headingDeg = (vehicle.headingDeg + rng.pick([90, 270])) % 360; // a turn at the lights
      }
      return;
  }
}

function updateEngineTemperature(vehicle: Vehicle, tsMs: number, dtS: number, engineOn: boolean): void {
  const { rng } = vehicle;
  const overheating = tsMs < vehicle.overheatUntilMs;
  if (
    !overheating &&
    vehicle.overheatProne &&
    tsMs > vehicle.overheatUntilMs + 10 * 60_000 &&
    vehicle.phase === 'driving' &&
    vehicle.tempC > vehicle.nominalTempC - 5 &&
    rng.chance(Math.min(1, dtS / (12 * 60)))
  ) {
    // An episode: coolant climbs past 105 °C within half a minute and stays there a minute or two.
    vehicle.overheatUntilMs = tsMs + rng.range(80, 150) * 1000;
    vehicle.overheatTargetC = rng.range(110, 116);
  }
  let targetC: number;
  let tauS: number;
  if (tsMs < vehicle.overheatUntilMs) {
    targetC = vehicle.overheatTargetC;
    tauS = 25;
  } else if (engineOn) {
    targetC = vehicle.nominalTempC + (vehicle.tripKind === 'highway' && vehicle.speedKmh > 80 ? 2 : 0);
    tauS = vehicle.tempC > targetC + 3 ? 40 : 180; // the fan pulls a hot engine back quickly
  } else {
    targetC = vehicle.ambientC;
    tauS = 1500;
  }
  vehicle.tempC = targetC + (vehicle.tempC - targetC) * Math.exp(-dtS / tauS);
}

function engineRpm(vehicle: Vehicle, engineOn: boolean, speedKmh: number, deltaKmh: number): number {
  if (!engineOn) return 0;
  if (speedKmh < 3) return 800 + vehicle.rng.normal(0, 15); // idle
  // The gear that brings revs closest to what the driver wants: more at speed, more when accelerating.
  const wanted = 1300 + 10 * speedKmh + (deltaKmh > 0.5 ? 400 : 0);
  let best = Number.POSITIVE_INFINITY;
  for (const perKmh of GEAR_RPM_PER_KMH) {
    const rpm = speedKmh * perKmh;
    if (Math.abs(rpm - wanted) < Math.abs(best - wanted)) best = rpm;
  }
  return Math.max(900, best) + vehicle.rng.normal(0, 20);
}

/** The point `distanceKm` away along the initial bearing, on the sphere: haversine back gives `distanceKm`. */
function destination(
  latDeg: number,
  lonDeg: number,
  bearingDeg: number,
  distanceKm: number,
): [number, number] {
  const toRad = Math.PI / 180;
  const phi1 = latDeg * toRad;
  const lambda1 = lonDeg * toRad;
  const theta = bearingDeg * toRad;
  const delta = distanceKm / EARTH_RADIUS_KM;
  const phi2 = Math.asin(
    Math.sin(phi1) * Math.cos(delta) + Math.cos(phi1) * Math.sin(delta) * Math.cos(theta),
  );
  const lambda2 =
    lambda1 +
    Math.atan2(
      Math.sin(theta) * Math.sin(delta) * Math.cos(phi1),
      Math.cos(delta) - Math.sin(phi1) * Math.sin(phi2),
    );
  return [phi2 / toRad, ((((lambda2 / toRad + 540) % 360) + 360) % 360) - 180];
}

// ---------------------------------------------------------------------------------------------
// Deliveries

type Pending = Omit<TelemetryArrival, 'seq'>;

/** One slot of one vehicle: step the model, then schedule what the device sends for it, if anything. */
function emitSlot(vehicle: Vehicle, slotMs: number, s: Settings, queue: ArrivalQueue): void {
  const { rng } = vehicle;
  const jitter = s.jitterMs > 0 ? rng.range(0, s.jitterMs) : 0;
  const tsMs = s.startMs + Math.round(slotMs + jitter);
  const values = stepVehicle(vehicle, tsMs);
  if (tsMs < vehicle.silentUntilMs) return;
  const offline = tsMs < vehicle.offlineUntilMs;
  if (!offline && s.pauseRate > 0 && rng.chance(s.pauseRate)) {
    vehicle.silentUntilMs = tsMs + rng.range(s.pauseS[0], s.pauseS[1]) * 1000;
    return;
  }
  const reading: TelemetryReading = {
    event_id: vehicle.wire.sendsEventId
      ? `${vehicle.id}:${vehicle.seq}`
      : deriveEventId(vehicle.id, values.event_ts_ms),
    vehicle_id: vehicle.id,
    ...values,
    extra: vehicle.extra,
  };
  const base = { vehicleIndex: vehicle.index, reading, wire: vehicle.wire, malformedPayload: null };
  const first = firstDelivery(vehicle, reading, offline, s);
  if (first.kind === 'malformed') {
    queue.push({ ...base, ...first, malformedPayload: malformedPayload(rng, reading) });
    return;
  }
  queue.push({ ...base, ...first });
  if (s.reSendRate > 0 && rng.chance(s.reSendRate)) {
    queue.push(
      reSend(vehicle, reading, first.arrivalMs + rng.range(s.reSendDelayMs[0], s.reSendDelayMs[1]), s),
    );
  }
}

function firstDelivery(
  vehicle: Vehicle,
  reading: TelemetryReading,
  offline: boolean,
  s: Settings,
): { kind: ArrivalKind; arrivalMs: number } {
  const { rng } = vehicle;
  const tsMs = reading.event_ts_ms;
  if (offline) return { kind: 'buffered', arrivalMs: Math.min(vehicle.offlineUntilMs, s.endMs) };
  if (s.offlineRate > 0 && rng.chance(s.offlineRate)) {
    // Uploaded on reconnection, in order (ties keep generation order), before anything live.
    vehicle.offlineUntilMs = tsMs + rng.range(s.offlineS[0], s.offlineS[1]) * 1000;
    return { kind: 'buffered', arrivalMs: Math.min(vehicle.offlineUntilMs, s.endMs) };
  }
  const latencyMs =
    s.latencyMs[1] > s.latencyMs[0] ? rng.range(s.latencyMs[0], s.latencyMs[1]) : s.latencyMs[0];
  // Held back by at most this much, so that it stays within the lateness whatever arrives before it.
  const maxHeldBackMs = Math.min(s.heldBackDelayMs[1], s.allowedLatenessMs - 1000 - s.latencyMs[1]);
  const heldBackDelay = () => logUniform(rng, Math.min(s.heldBackDelayMs[0], maxHeldBackMs), maxHeldBackMs);
  const disorderly = (delayMs: number) => delayMs > 1.1 * s.periodMs && tsMs + delayMs <= s.endMs;

  if (vehicle.burst !== null && vehicle.seq > vehicle.burst.untilSeq) vehicle.burst = null;
  if (vehicle.burst === null && s.heldBackBurstRate > 0 && rng.chance(s.heldBackBurstRate)) {
    vehicle.burst = { untilSeq: vehicle.seq + rng.int(5, 40), delayMs: heldBackDelay() };
  }
  const draw = rng.next();
  if (draw < s.malformedRate) return { kind: 'malformed', arrivalMs: tsMs + latencyMs };
  if (draw < s.malformedRate + s.beyondLatenessRate) {
    // Held in the device (a lost connection) and delivered after newer readings moved its vehicle on.
    const delayMs = s.allowedLatenessMs + rng.range(s.beyondLatenessDelayMs[0], s.beyondLatenessDelayMs[1]);
    if (tsMs + delayMs <= s.endMs) return { kind: 'beyond_lateness', arrivalMs: tsMs + delayMs };
  }
  // A stretch delayed together (a slow path): in order among themselves, behind the live ones.
  if (vehicle.burst !== null && disorderly(vehicle.burst.delayMs)) {
    return { kind: 'held_back', arrivalMs: tsMs + vehicle.burst.delayMs + latencyMs };
  }
  if (
    draw >= s.malformedRate + s.beyondLatenessRate &&
    draw < s.malformedRate + s.beyondLatenessRate + s.heldBackRate
  ) {
    const delayMs = heldBackDelay();
    if (disorderly(delayMs)) return { kind: 'held_back', arrivalMs: tsMs + delayMs };
  }
  return { kind: 'reading', arrivalMs: tsMs + latencyMs };
}

/** The reading sent again: exact, with other values (a conflict), in another format or under another id. */
function reSend(vehicle: Vehicle, reading: TelemetryReading, arrivalMs: number, s: Settings): Pending {
  const { rng } = vehicle;
  const conflict = s.conflictShare > 0 && rng.chance(s.conflictShare);
  const newId = s.newIdShare > 0 && rng.chance(s.newIdShare);
  const reformat = s.reformatShare > 0 && rng.chance(s.reformatShare);
  let again: TelemetryReading = reading;
  if (conflict) {
    again = rng.chance(0.5)
      ? { ...reading, speed_kmh: round(Math.min(400, reading.speed_kmh + rng.range(0.5, 20)), 1) }
      : { ...reading, engine_temp_c: round(Math.max(-50, reading.engine_temp_c - rng.range(0.5, 5)), 1) };
  }
  let wire = vehicle.wire;
  if (newId) {
    // Same vehicle and instant under another id: the derived one if the device sent its own, else an explicit one.
    const sendsEventId = !wire.sendsEventId;
    again = {
      ...again,
      event_id: sendsEventId
        ? `${vehicle.id}:${vehicle.seq}`
        : deriveEventId(vehicle.id, reading.event_ts_ms),
    };
    wire = { ...wire, sendsEventId };
  }
  if (reformat) {
    wire = {
      ...wire,
      timestampFormat: rng.pick(TIMESTAMP_FORMATS.filter((f) => f !== vehicle.wire.timestampFormat)),
      utcOffsetMin: rng.pick(UTC_OFFSETS_MIN),
    };
  }
  return {
    kind: conflict ? 'conflict' : 're_send',
    vehicleIndex: vehicle.index,
    arrivalMs,
    reading: again,
    wire,
    malformedPayload: null,
  };
}

function logUniform(rng: SeededRandom, min: number, max: number): number {
  if (!(min > 0) || max <= min) return Math.max(0, max);
  return min * (max / min) ** rng.next();
}

function readingObject(reading: TelemetryReading, wire: WireFormat): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (wire.sendsEventId) body.event_id = reading.event_id;
  body.vehicle_id = reading.vehicle_id;
  body.timestamp = formatTimestamp(reading.event_ts_ms, wire.timestampFormat, wire.utcOffsetMin);
  body.speed_kmh = reading.speed_kmh;
  body.engine_temp_c = reading.engine_temp_c;
  body.gps_lat = reading.gps_lat;
  body.gps_lon = reading.gps_lon;
  if (reading.fuel_level_pct !== null) body.fuel_level_pct = reading.fuel_level_pct;
  if (reading.rpm !== null) body.rpm = reading.rpm;
  return Object.assign(body, reading.extra);
}

const HOSTILE_VEHICLE_IDS = [
  (id: string) => `../${id}`,
  (id: string) => `${id}:admin`,
  (id: string) => `{${id}}`,
  (id: string) => `${id}\n`,
  (id: string) => id.replace('-', ' '),
  (id: string) => id.replace(/[a-z0-9-]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
  () => '',
  (id: string) => id.padEnd(65, 'x'),
  (id: string) => `${id}/../../etc/passwd`,
  (id: string) => `${id}*`,
];

function malformedPayload(rng: SeededRandom, reading: TelemetryReading): string {
  const body = readingObject(reading, { timestampFormat: 'iso_z', utcOffsetMin: 0, sendsEventId: true });
  const data = JSON.stringify(body);
  switch (rng.int(0, 6)) {
    case 0: // cut off in transit: an unclosed object is never valid JSON
      return data.slice(0, rng.int(1, data.length - 1));
    case 1: // a corrupted byte in the syntax
      return data.replace(':', rng.pick(['=', ';', ' ']));
    case 2: {
      const [field, value] = rng.pick([
        ['speed_kmh', rng.range(401, 999)],
        ['speed_kmh', -rng.range(1, 50)],
        ['engine_temp_c', rng.range(201, 900)],
        ['engine_temp_c', -rng.range(51, 300)],
        ['gps_lat', rng.range(90.5, 180)],
        ['gps_lon', -rng.range(180.5, 360)],
        ['fuel_level_pct', rng.range(100.5, 250)],
        ['rpm', rng.range(20_001, 90_000)],
      ] as const);
      body[field] = round(value, 1);
      return JSON.stringify(body);
    }
    case 3:
      body.vehicle_id = rng.pick(HOSTILE_VEHICLE_IDS)(reading.vehicle_id);
      return JSON.stringify(body);
    case 4: // a firmware that quotes its numbers
      body.speed_kmh = String(reading.speed_kmh);
      return JSON.stringify(body);
    case 5:
      delete body[rng.pick(['vehicle_id', 'timestamp', 'speed_kmh', 'engine_temp_c', 'gps_lat', 'gps_lon'])];
      return JSON.stringify(body);
    default:
      body.timestamp = rng.pick([
        new Date(reading.event_ts_ms).toISOString().slice(0, 19), // local time, no offset
        new Date(reading.event_ts_ms + 86_400_000).toISOString(), // a clock a day fast
        0, // a clock never set
      ]);
      return JSON.stringify(body);
  }
}

/** A binary heap of pending deliveries by (arrival time, generation order). */
class ArrivalQueue {
  private readonly heap: { pending: Pending; order: number }[] = [];
  private counter = 0;

  push(pending: Pending): void {
    const heap = this.heap;
    heap.push({ pending, order: this.counter++ });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  *popUntil(arrivalMs: number): Generator<Pending> {
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.pending.arrivalMs <= arrivalMs) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          const right = left + 1;
          let first = i;
          if (left < heap.length && earlier(heap[left]!, heap[first]!)) first = left;
          if (right < heap.length && earlier(heap[right]!, heap[first]!)) first = right;
          if (first === i) break;
          [heap[i], heap[first]] = [heap[first]!, heap[i]!];
          i = first;
        }
      }
      yield top.pending;
    }
  }
}

function earlier(a: { pending: Pending; order: number }, b: { pending: Pending; order: number }): boolean {
  return (
    a.pending.arrivalMs < b.pending.arrivalMs ||
    (a.pending.arrivalMs === b.pending.arrivalMs && a.order < b.order)
  );
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const pad2 = (value: number) => String(value).padStart(2, '0');
