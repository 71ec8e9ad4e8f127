import {
  type ArrivalKind,
  encodeArrival,
  generateTelemetry,
  InvalidGeneratorOptionsError,
  type TelemetryArrival,
  vehicleIdFor,
} from './telemetry-generator.js';

/**
 * The devices of `npm run dev`: the shared telemetry generator (telemetry-generator.ts) with the
 * mix a real fleet sends by default (duplicates, some in another timestamp format; out-of-order and
 * late readings; malformed messages), as JSON payloads in send order. Pure and seeded.
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

/** Options are the caller's code: a bad one throws this (the generator's error, code `invalid_generator_options`). */
export { InvalidGeneratorOptionsError as InvalidSimulatorOptionsError, vehicleIdFor };

export const DEFAULT_ALLOWED_LATENESS_MS = 15 * 60_000;

const KIND: Record<ArrivalKind, SimulatedMessageKind> = {
  reading: 'valid',
  buffered: 'valid',
  held_back: 'out_of_order',
  beyond_lateness: 'late',
  re_send: 'duplicate',
  conflict: 'duplicate',
  malformed: 'malformed',
};

export function* simulateFleet(options: SimulateFleetOptions): Generator<SimulatedMessage> {
  const periodMs = 1000 / options.ratePerVehicleHz;
  const allowedLatenessMs = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  const maxHeldBackMs = Math.min(4 * periodMs, allowedLatenessMs / 2);
  const arrivals = generateTelemetry({
    vehicles: options.vehicles,
    ratePerVehicleHz: options.ratePerVehicleHz,
    durationS: options.durationS,
    startMs: options.startMs,
    seed: options.seed ?? 1,
    vehicleId: vehicleIdFor,
    // Most devices leave event_id to the pipeline.
    eventIdShare: 0.4,
    allowedLatenessMs,
    disorder: {
      reSendRate: options.duplicateRate ?? 0.01,
      reSendDelayMs: [200, 30_000],
      // A retry after a lost acknowledgement: half the time in another timestamp format.
      reformatShare: 0.5,
      heldBackRate: options.outOfOrderRate ?? 0.02,
      heldBackDelayMs: [Math.min(1.5 * periodMs, maxHeldBackMs), maxHeldBackMs],
      beyondLatenessRate: options.lateRate ?? 0.002,
      beyondLatenessDelayMs: [60_000, 15 * 60_000],
      malformedRate: options.malformedRate ?? 0.005,
    },
  });
  for (const arrival of arrivals) yield toMessage(arrival);
}

function toMessage(arrival: TelemetryArrival): SimulatedMessage {
  const malformed = arrival.kind === 'malformed';
  return {
    kind: KIND[arrival.kind],
    vehicleId: arrival.reading.vehicle_id,
    data: encodeArrival(arrival),
    eventTsMs: malformed ? null : arrival.reading.event_ts_ms,
    sendMs: arrival.arrivalMs,
  };
}
