// A seeded telemetry stream in arrival order, for replaying through the feature engine and
// recomputing offline: the shared telemetry generator (local/simulator/telemetry-generator.ts) at 1 Hz per
// vehicle, with the disorder a real fleet sends (re-sends, conflicting re-sends, readings held back
// by seconds to minutes alone or in bursts, readings beyond the allowed lateness, pauses without
// readings, vehicles uploading their offline buffer). Pure: the same options give the same arrivals.

import { type ArrivalKind, generateTelemetry } from '../../local/simulator/telemetry-generator.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';

/** What the generator meant an arrival to be. The recomputation classifies on its own. */
export type ArrivalIntent = Exclude<ArrivalKind, 'malformed'>;

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
  /** Default 0.03. */
  heldBackRate?: number;
  /** Per reading, the chance that the next 5-40 readings are all held back by the same delay. Default 1/1200. */
  heldBackBurstRate?: number;
  /** Default 0.01. */
  beyondLatenessRate?: number;
  /** Default 0.05. */
  reSendRate?: number;
  /** Share of re-sends that carry other values for the same instant. Default 0.4. */
  conflictShare?: number;
  /** Share of re-sends under another event_id for the same instant. Default 0. */
  newIdShare?: number;
  /** Per reading, the chance that a vehicle goes offline for 5 to 20 min and then uploads its buffer in order. Default 1/15000. */
  offlineRate?: number;
  /** Per reading, the chance that a vehicle stops sending for 15 s to 10 min (parked, engine off). Default 1/900. */
  pauseRate?: number;
}

export function generateReplayStream(options: ReplayStreamOptions): ReplayArrival[] {
  const arrivals: ReplayArrival[] = [];
  for (const arrival of generateTelemetry({
    vehicles: options.vehicles,
    durationS: options.durationS,
    startMs: options.startMs,
    seed: options.seed,
    vehicleId: (v) => `parity-v${String(v).padStart(2, '0')}`,
    // At least 800 ms apart: every reading of a vehicle has its own instant.
    timestampJitterMs: 200,
    latencyMs: [50, 400],
    allowedLatenessMs: options.allowedLatenessMs,
    disorder: {
      reSendRate: options.reSendRate ?? 0.05,
      reSendDelayMs: [200, 90_000],
      conflictShare: options.conflictShare ?? 0.4,
      newIdShare: options.newIdShare ?? 0,
      heldBackRate: options.heldBackRate ?? 0.03,
      // Seconds to several minutes: some within the 1m window, some beyond 1m and 5m, all within lateness.
      heldBackDelayMs: [1_500, options.allowedLatenessMs - 60_000],
      heldBackBurstRate: options.heldBackBurstRate ?? 1 / 1200,
      beyondLatenessRate: options.beyondLatenessRate ?? 0.01,
      beyondLatenessDelayMs: [60_000, 900_000],
      offlineRate: options.offlineRate ?? 1 / 15_000,
      offlineS: [300, 1_200],
      pauseRate: options.pauseRate ?? 1 / 900,
      pauseS: [15, 600],
    },
  })) {
    if (arrival.kind === 'malformed') continue;
    arrivals.push({
      seq: arrivals.length,
      arrivalMs: arrival.arrivalMs,
      reading: arrival.reading,
      intent: arrival.kind,
    });
  }
  return arrivals;
}
