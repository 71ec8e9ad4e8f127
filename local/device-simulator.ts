import { createSeededRandom, deriveSeed, type SeededRandom } from './seeded-random.js';

/**
 * A fleet of simulated devices, pure and seeded: no clock, no I/O, the same options give the same
 * messages. Vehicles alternate trips (city or highway: acceleration, cruise, braking, traffic
 * lights) and stops; engines warm up from ambient to ~90 °C and some overheat now and then; GPS
 * follows speed and heading on the sphere, so the haversine distance between two consecutive
 * readings equals the trapezoid of their speeds over the interval. The stream also carries what
 * a real fleet sends: duplicates, out-of-order and late readings, malformed messages.
 */

export type SimulatedMessageKind = 'valid' | 'duplicate' | 'out_of_order' | 'late' | 'malformed';

export interface SimulatedMessage {
  kind: SimulatedMessageKind;
  /** The vehicle that sent it (a malformed message may carry another, hostile, vehicle_id). */
  vehicleId: string;
  /** The JSON payload as sent. */
  data: string;
  /** The instant the reading describes; null for a malformed message. */
  eventTsMs: number | null;
  /** When the device sends it: messages are yielded in this order. */
  sendMs: number;
}

export interface SimulateFleetOptions {
  vehicles: number;
  ratePerVehicleHz: number;
  durationS: number;
  startMs: number;
  seed?: number;
  /** Share of readings sent a second time a little later (same instant, sometimes another timestamp format). Default 0.01. */
  duplicateRate?: number;
  /** Share of readings held back behind later ones, by 1.5 to 4 reading intervals. Default 0.02. */
  outOfOrderRate?: number;
  /** Share of readings replaced by an invalid message (broken JSON, out of range, hostile id...). Default 0.005. */
  malformedRate?: number;
  /**
   * Share of readings sent more than `allowedLatenessMs` after newer readings of the same vehicle.
   * Only readings at least that far from the end of the run can become late. Default 0.002.
   */
  lateRate?: number;
  /** The pipeline's allowed lateness; late readings arrive 1 to 15 minutes beyond it. Default 15 minutes. */
  allowedLatenessMs?: number;
}

export class InvalidSimulatorOptionsError extends Error {
  readonly code = 'invalid_simulator_options';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSimulatorOptionsError';
  }
}

export const DEFAULT_ALLOWED_LATENESS_MS = 15 * 60_000;
const EARTH_RADIUS_KM = 6371.0088;
const TANK_LITRES = 50;
const CITY_CENTERS = [
  { lat: 48.8566, lon: 2.3522 },
  { lat: 45.764, lon: 4.8357 },
  { lat: 53.5511, lon: 9.9937 },
  { lat: 45.4642, lon: 9.19 },
  { lat: 40.4168, lon: -3.7038 },
] as const;
const UTC_OFFSETS_MIN = [120, 60, -300, 330, 0, -180] as const;
/** rpm per km/h, top gear first. */
const GEAR_RPM_PER_KMH = [22, 27, 34, 45, 68, 120] as const;

export function vehicleIdFor(index: number): string {
  return `veh-${String(index + 1).padStart(5, '0')}`;
}

type TimestampFormat = 'iso_z' | 'iso_offset' | 'epoch_ms' | 'epoch_s';
type Phase = 'parked' | 'driving' | 'stopping' | 'idling';

interface Vehicle {
  id: string;
  rng: SeededRandom;
  offsetMs: number;
  // device traits
  timestampFormat: TimestampFormat;
  utcOffsetMin: number;
  sendsEventId: boolean;
  reportsRpm: boolean;
  reportsFuel: boolean;
  firmware: string | null;
  overheatProne: boolean;
  ambientC: number;
  nominalTempC: number;
  accelKmhPerS: number;
  brakeKmhPerS: number;
  highwayShare: number;
  // state
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
}

interface Reading {
  vehicle_id: string;
  event_ts_ms: number;
  event_id: string | null;
  speed_kmh: number;
  engine_temp_c: number;
  gps_lat: number;
  gps_lon: number;
  fuel_level_pct: number | null;
  rpm: number | null;
  firmware: string | null;
}

interface Queued {
  message: SimulatedMessage;
  seq: number;
}

export function* simulateFleet(options: SimulateFleetOptions): Generator<SimulatedMessage> {
  const settings = checkOptions(options);
  const { startMs, durationMs, periodMs } = settings;
  const endMs = startMs + durationMs;
  const seed = options.seed ?? 1;

  const vehicles = Array.from({ length: options.vehicles }, (_, index) =>
    createVehicle(index, createSeededRandom(deriveSeed(seed, index)), startMs, periodMs),
  ).sort((a, b) => a.offsetMs - b.offsetMs);

  const queue = new SendQueue();
  for (let k = 0; ; k++) {
    let any = false;
    for (const vehicle of vehicles) {
      const relative = vehicle.offsetMs + k * periodMs;
      if (relative >= durationMs) continue;
      any = true;
      const tsMs = startMs + Math.round(relative);
      const reading = stepVehicle(vehicle, tsMs);
      for (const message of messagesFor(vehicle, reading, settings, endMs)) queue.push(message);
      yield* queue.popUntil(tsMs);
    }
    if (!any) break;
  }
  yield* queue.popUntil(Number.POSITIVE_INFINITY);
}

interface Settings {
  startMs: number;
  durationMs: number;
  periodMs: number;
  duplicateRate: number;
  outOfOrderRate: number;
  malformedRate: number;
  lateRate: number;
  allowedLatenessMs: number;
}

function checkOptions(options: SimulateFleetOptions): Settings {
  const fail = (message: string): never => {
    throw new InvalidSimulatorOptionsError(message);
  };
  const { vehicles, ratePerVehicleHz, durationS, startMs } = options;
  if (!Number.isInteger(vehicles) || vehicles < 0) fail(`vehicles must be an integer >= 0, got ${vehicles}`);
  // Above 100 Hz two readings of one vehicle could round to the same millisecond, i.e. the same identity.
  if (!(ratePerVehicleHz > 0 && ratePerVehicleHz <= 100))
    fail(`ratePerVehicleHz must be in (0, 100], got ${ratePerVehicleHz}`);
  if (!(Number.isFinite(durationS) && durationS >= 0))
    fail(`durationS must be a finite number >= 0, got ${durationS}`);
  if (!Number.isSafeInteger(startMs)) fail(`startMs must be integer epoch ms, got ${startMs}`);
  const rate = (name: string, value: number | undefined, fallback: number): number => {
    const chosen = value ?? fallback;
    if (!(chosen >= 0 && chosen <= 1)) fail(`${name} must be in [0, 1], got ${chosen}`);
    return chosen;
  };
  const settings: Settings = {
    startMs,
    durationMs: durationS * 1000,
    periodMs: 1000 / ratePerVehicleHz,
    duplicateRate: rate('duplicateRate', options.duplicateRate, 0.01),
    outOfOrderRate: rate('outOfOrderRate', options.outOfOrderRate, 0.02),
    malformedRate: rate('malformedRate', options.malformedRate, 0.005),
    lateRate: rate('lateRate', options.lateRate, 0.002),
    allowedLatenessMs: options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS,
  };
  if (settings.malformedRate + settings.lateRate + settings.outOfOrderRate > 1) {
    fail('malformedRate + lateRate + outOfOrderRate must not exceed 1');
  }
  if (!(settings.allowedLatenessMs >= 0))
    fail(`allowedLatenessMs must be >= 0, got ${settings.allowedLatenessMs}`);
  return settings;
}

function createVehicle(index: number, rng: SeededRandom, startMs: number, periodMs: number): Vehicle {
  const center = rng.pick(CITY_CENTERS);
  const ambientC = rng.range(2, 30);
  const nominalTempC = rng.range(87, 92);
  const driving = rng.chance(0.5);
  const vehicle: Vehicle = {
    id: vehicleIdFor(index),
    rng,
    offsetMs: rng.range(0, periodMs),
    timestampFormat: rng.pick([
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
    ]),
    utcOffsetMin: rng.pick(UTC_OFFSETS_MIN),
    sendsEventId: rng.chance(0.4),
    reportsRpm: rng.chance(0.85),
    reportsFuel: rng.chance(0.95),
    firmware: rng.chance(0.3) ? `${rng.int(1, 3)}.${rng.int(0, 9)}.${rng.int(0, 20)}` : null,
    overheatProne: rng.chance(0.2),
    ambientC,
    nominalTempC,
    accelKmhPerS: rng.range(6, 9),
    brakeKmhPerS: rng.range(9, 13),
    highwayShare: rng.range(0.1, 0.6),
    seq: 0,
    lastTsMs: null,
    phase: 'parked',
    phaseEndsMs: startMs + rng.range(0, 5 * 60_000),
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
  };
  if (driving) {
    startTrip(vehicle, startMs);
    vehicle.tripEndsMs = startMs + rng.range(1, 25) * 60_000;
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

/** Advances one vehicle to `tsMs` and reads its sensors. */
function stepVehicle(vehicle: Vehicle, tsMs: number): Reading {
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
    vehicle_id: vehicle.id,
    event_ts_ms: tsMs,
    event_id: vehicle.sendsEventId ? `${vehicle.id}:${vehicle.seq}` : null,
    speed_kmh: round(after, 1),
    engine_temp_c: round(clamp(vehicle.tempC + rng.normal(0, 0.15), -50, 200), 1),
    gps_lat: round(vehicle.lat, 6),
    gps_lon: round(vehicle.lon, 6),
    fuel_level_pct: vehicle.reportsFuel ? round(vehicle.fuelPct, 1) : null,
    rpm: vehicle.reportsRpm ? Math.round(engineRpm(vehicle, engineOn, after, after - before)) : null,
    firmware: vehicle.firmware,
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

/** The messages one reading turns into, each with its send time. */
function messagesFor(
  vehicle: Vehicle,
  reading: Reading,
  settings: Settings,
  endMs: number,
): SimulatedMessage[] {
  const { rng } = vehicle;
  const tsMs = reading.event_ts_ms;
  const base = { vehicleId: vehicle.id, eventTsMs: tsMs };
  const data = encodeReading(reading, vehicle.timestampFormat, vehicle.utcOffsetMin);
  const draw = rng.next();
  let first: SimulatedMessage;
  if (draw < settings.malformedRate) {
    return [
      {
        kind: 'malformed',
        vehicleId: vehicle.id,
        data: malformedPayload(rng, reading, data),
        eventTsMs: null,
        sendMs: tsMs,
      },
    ];
  }
  const lateDelay = settings.allowedLatenessMs + rng.range(60_000, 15 * 60_000);
  const disorderDelay = Math.min(settings.periodMs * rng.range(1.5, 4), settings.allowedLatenessMs / 2);
  if (draw < settings.malformedRate + settings.lateRate && tsMs + lateDelay <= endMs) {
    // Held back in the device (a lost connection) and delivered after newer readings moved its vehicle on.
    first = { ...base, kind: 'late', data, sendMs: tsMs + Math.round(lateDelay) };
  } else if (
    draw >= settings.malformedRate + settings.lateRate &&
    draw < settings.malformedRate + settings.lateRate + settings.outOfOrderRate &&
    disorderDelay > settings.periodMs * 1.1 &&
    tsMs + disorderDelay <= endMs
  ) {
    first = { ...base, kind: 'out_of_order', data, sendMs: tsMs + Math.round(disorderDelay) };
  } else {
    first = { ...base, kind: 'valid', data, sendMs: tsMs };
  }
  if (first.kind === 'late' || !rng.chance(settings.duplicateRate)) return [first];
  // A retry after a lost acknowledgement: the same reading, half the time in another timestamp format.
  const duplicateData = rng.chance(0.5)
    ? encodeReading(
        reading,
        rng.pick(['iso_z', 'iso_offset', 'epoch_ms', 'epoch_s']),
        rng.pick(UTC_OFFSETS_MIN),
      )
    : data;
  return [
    first,
    { ...base, kind: 'duplicate', data: duplicateData, sendMs: first.sendMs + rng.int(200, 30_000) },
  ];
}

function encodeReading(reading: Reading, format: TimestampFormat, utcOffsetMin: number): string {
  return JSON.stringify(readingObject(reading, format, utcOffsetMin));
}

function readingObject(
  reading: Reading,
  format: TimestampFormat,
  utcOffsetMin: number,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (reading.event_id !== null) body.event_id = reading.event_id;
  body.vehicle_id = reading.vehicle_id;
  body.timestamp = formatTimestamp(reading.event_ts_ms, format, utcOffsetMin);
  body.speed_kmh = reading.speed_kmh;
  body.engine_temp_c = reading.engine_temp_c;
  body.gps_lat = reading.gps_lat;
  body.gps_lon = reading.gps_lon;
  if (reading.fuel_level_pct !== null) body.fuel_level_pct = reading.fuel_level_pct;
  if (reading.rpm !== null) body.rpm = reading.rpm;
  if (reading.firmware !== null) body.firmware = reading.firmware;
  return body;
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

function malformedPayload(rng: SeededRandom, reading: Reading, data: string): string {
  const body = readingObject(reading, 'iso_z', 0);
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

class SendQueue {
  private readonly heap: Queued[] = [];
  private counter = 0;

  push(message: SimulatedMessage): void {
    const heap = this.heap;
    heap.push({ message, seq: this.counter++ });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  *popUntil(sendMs: number): Generator<SimulatedMessage> {
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.message.sendMs <= sendMs) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          const right = left + 1;
          let smallest = i;
          if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
          if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
          if (smallest === i) break;
          [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
          i = smallest;
        }
      }
      yield top.message;
    }
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.message.sendMs < b.message.sendMs || (a.message.sendMs === b.message.sendMs && a.seq < b.seq);
}

/** The point `distanceKm` away along the initial bearing, on a sphere: haversine back gives `distanceKm`. */
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

/** Great-circle distance in km, the measure the GPS trace is consistent with. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const toRad = Math.PI / 180;
  const dPhi = (lat2 - lat1) * toRad;
  const dLambda = (lon2 - lon1) * toRad;
  const a =
    Math.sin(dPhi / 2) ** 2 + Math.cos(lat1 * toRad) * Math.cos(lat2 * toRad) * Math.sin(dLambda / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const pad2 = (value: number) => String(value).padStart(2, '0');
