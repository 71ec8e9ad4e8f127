import { createSeededRandom } from '../local/simulator/seeded-random.js';
import {
  type ArrivalKind,
  type DisorderOptions,
  generateTelemetry,
  shuffleWithinLateness,
} from '../local/simulator/telemetry-generator.js';
import { deriveEventId } from '../shared/telemetry/telemetry-event-id.js';
import type { TelemetryReading } from '../shared/telemetry/telemetry-reading.js';

/**
 * The bench's fleets, from the shared telemetry generator (local/simulator/telemetry-generator.ts): every
 * vehicle sends readings at 1 Hz of event time, delivered in arrival order with the disorder asked
 * for. Deterministic for a seed, so two runs replay the very same stream.
 *
 * The replay is stored column-wise in typed arrays: 600k readings as objects would put a few
 * hundred MB on the heap and the bench would measure its own garbage collection. `reading(i)`
 * builds the delivery's reading object when it is sent, as parsing a message would.
 */
export interface FleetOptions {
  vehicles: number;
  seconds: number;
  seed: number;
  /** Event time of the first second. */
  startMs: number;
  /** Vehicle ids are `${idPrefix}${n}` (each phase uses its own prefix). */
  idPrefix: string;
  allowedLatenessMs: number;
  /** Malformed messages never reach the engine: the generator's malformedRate is ignored. */
  disorder?: Omit<DisorderOptions, 'malformedRate'>;
}

export interface FleetReplay {
  /** Deliveries, in arrival order. */
  length: number;
  reading(delivery: number): TelemetryReading;
  /** The receiving clock when this delivery is processed (the replay's simulated now). */
  nowMs(delivery: number): number;
  vehicleIds: string[];
  /** Distinct readings (vehicle and instant). */
  distinctReadings: number;
  /** Deliveries of an instant already sent with the same values (under the same or another event_id). */
  reSends: number;
  /** Deliveries of an instant already sent with other values. */
  conflicts: number;
  /** Deliveries held back behind newer readings of their vehicle, within the allowed lateness. */
  heldBack: number;
}

const VALUE_COLUMNS = 7;

/** Deliveries column-wise; null optional values are NaN. */
class DeliveryColumns {
  vehicle: Uint32Array;
  /** The reading's number in its vehicle's stream: event_id `${vehicleId}:${seq}`, or 0 for a derived id. */
  seq: Uint32Array;
  values: Float64Array[];
  arrivalMs: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.vehicle = new Uint32Array(capacity);
    this.seq = new Uint32Array(capacity);
    this.values = Array.from({ length: VALUE_COLUMNS }, () => new Float64Array(capacity));
    this.arrivalMs = new Float64Array(capacity);
  }

  push(vehicle: number, seq: number, reading: TelemetryReading, arrivalMs: number): void {
    if (this.length === this.vehicle.length) this.grow();
    const i = this.length++;
    this.vehicle[i] = vehicle;
    this.seq[i] = seq;
    const v = this.values as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    v[0][i] = reading.event_ts_ms;
    v[1][i] = reading.speed_kmh;
    v[2][i] = reading.engine_temp_c;
    v[3][i] = reading.gps_lat;
    v[4][i] = reading.gps_lon;
    v[5][i] = reading.fuel_level_pct ?? Number.NaN;
    v[6][i] = reading.rpm ?? Number.NaN;
    this.arrivalMs[i] = arrivalMs;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.vehicle.length * 2);
    const grown = <T extends Uint32Array | Float64Array>(column: T): T => {
      const next = new (column.constructor as new (n: number) => T)(capacity);
      next.set(column);
      return next;
    };
    this.vehicle = grown(this.vehicle);
    this.seq = grown(this.seq);
    this.values = this.values.map(grown);
    this.arrivalMs = grown(this.arrivalMs);
  }
}

const orNull = (value: number) => (Number.isNaN(value) ? null : value);

function replayOf(
  columns: DeliveryColumns,
  vehicleIds: string[],
  order: Uint32Array | null,
  arrivalMs: Float64Array,
  counts: Pick<FleetReplay, 'distinctReadings' | 'reSends' | 'conflicts' | 'heldBack'>,
): FleetReplay {
  const [ts, speed, temp, lat, lon, fuel, rpm] = columns.values as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  return {
    length: columns.length,
    reading(delivery) {
      const i = order === null ? delivery : order[delivery]!;
      const vehicleId = vehicleIds[columns.vehicle[i]!]!;
      const seq = columns.seq[i]!;
      return {
        event_id: seq === 0 ? deriveEventId(vehicleId, ts[i]!) : `${vehicleId}:${seq}`,
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
    // Processed the moment it arrives (the replay's receiving clock, whole ms).
    nowMs: (delivery) => Math.ceil(arrivalMs[delivery]!),
    vehicleIds,
    ...counts,
  };
}

export function generateFleetReplay(options: FleetOptions): FleetReplay {
  const vehicleIds = Array.from({ length: options.vehicles }, (_, i) => `${options.idPrefix}${i}`);
  const columns = new DeliveryColumns(Math.ceil(options.vehicles * options.seconds * 1.1));
  const counts = { distinctReadings: 0, reSends: 0, conflicts: 0, heldBack: 0 };
  const kinds: Record<ArrivalKind, number> = {
    reading: 0,
    held_back: 0,
    buffered: 0,
    beyond_lateness: 0,
    re_send: 0,
    conflict: 0,
    malformed: 0,
  };
  for (const arrival of generateTelemetry({
    vehicles: options.vehicles,
    durationS: options.seconds,
    startMs: options.startMs,
    seed: options.seed,
    vehicleId: (i) => vehicleIds[i]!,
    allowedLatenessMs: options.allowedLatenessMs,
    disorder: { ...options.disorder, malformedRate: 0 },
  })) {
    kinds[arrival.kind]++;
    const { reading } = arrival;
    const prefix = vehicleIds[arrival.vehicleIndex]!;
    // Device ids are `<vehicle>:<seq>` (seq >= 1); anything else is the derived id, rebuilt on send.
    const seq = reading.event_id.startsWith(`${prefix}:`)
      ? Number(reading.event_id.slice(prefix.length + 1))
      : 0;
    columns.push(arrival.vehicleIndex, seq, reading, arrival.arrivalMs);
  }
  counts.reSends = kinds.re_send;
  counts.conflicts = kinds.conflict;
  counts.heldBack = kinds.held_back;
  counts.distinctReadings = columns.length - kinds.re_send - kinds.conflict;
  return replayOf(columns, vehicleIds, null, columns.arrivalMs, counts);
}

/**
 * The same readings in another arrival order: each vehicle's readings shuffled within the allowed
 * lateness (shuffleWithinLateness), vehicles interleaved by arrival time.
 */
export function shuffleFleetReplay(fleet: FleetReplay, allowedLatenessMs: number, seed: number): FleetReplay {
  const vehicleIndex = new Map(fleet.vehicleIds.map((id, i) => [id, i]));
  const columns = new DeliveryColumns(fleet.length);
  for (let d = 0; d < fleet.length; d++) {
    const reading = fleet.reading(d);
    const prefix = `${reading.vehicle_id}:`;
    const seq = reading.event_id.startsWith(prefix) ? Number(reading.event_id.slice(prefix.length)) : 0;
    columns.push(vehicleIndex.get(reading.vehicle_id)!, seq, reading, fleet.nowMs(d));
  }
  const ts = columns.values[0]!;
  const shuffled = shuffleWithinLateness(
    Array.from({ length: columns.length }, (_, i) => i),
    (i) => ts[i]!,
    allowedLatenessMs,
    createSeededRandom(seed),
  );
  const order = Uint32Array.from(shuffled, (s) => s.item);
  const arrivalMs = Float64Array.from(shuffled, (s) => s.arrivalMs);
  // Deliveries that arrive after a newer reading of their vehicle.
  const newest = new Float64Array(fleet.vehicleIds.length).fill(Number.NEGATIVE_INFINITY);
  let heldBack = 0;
  for (const i of order) {
    const vehicle = columns.vehicle[i]!;
    if (ts[i]! < newest[vehicle]!) heldBack++;
    else newest[vehicle] = ts[i]!;
  }
  return replayOf(columns, fleet.vehicleIds, order, arrivalMs, {
    distinctReadings: fleet.distinctReadings,
    reSends: fleet.reSends,
    conflicts: fleet.conflicts,
    heldBack,
  });
}
