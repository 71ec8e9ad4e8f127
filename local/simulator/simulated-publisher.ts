// Publishes the device simulator's readings to the telemetry topic, paced on the wall clock, the
// way telematics units upload: each vehicle buffers its readings and sends one
// {"readings": [...]} message every `uploadEveryS` seconds of event time (1 = one message per
// reading). Malformed messages go out alone, as sent. Event time runs `speedup` times faster than
// the wall, so a short run still spans several windows, and catches up with the wall at the end of
// the run: no reading is ever stamped ahead of the wall, and with speedup 1 event time is the wall
// clock, so event-time freshness is real (above 1 it holds the fast clocks' lag, at most
// duration × (speedup − 1), shrinking to 0 by the end).

import { setTimeout as sleep } from 'node:timers/promises';
import type { Topic } from '@google-cloud/pubsub';
import { formatTraceparent, startTrace, TRACEPARENT } from '../../shared/tracing/trace-context.js';
import type { DevOptions } from '../dev/dev-options.js';
import { type SimulatedMessage, type SimulatedMessageKind, simulateFleet } from './device-simulator.js';

export type PublishedByKind = Record<SimulatedMessageKind, number>;

export interface PublishedFleet {
  /** Readings (or malformed payloads) by kind. */
  byKind: PublishedByKind;
  readings: number;
  messages: number;
  /** Distinct readings that must become feature rows: first sends, in order or not, not late. */
  expectedRows: number;
}

interface VehicleBuffer {
  firstSendMs: number;
  items: SimulatedMessage[];
}

const MAX_IN_FLIGHT = 2000;
const TRACE_SAMPLE_EVERY = 10;
/** First sends, in order or not, within the allowed lateness: each becomes a row. */
const EXPECTED_ROW_KINDS = new Set<SimulatedMessageKind>(['valid', 'out_of_order']);

export async function publishSimulatedFleet(args: {
  topic: Topic;
  options: DevOptions;
  /** After each message: its readings, and how many of them are to become rows. */
  onPublished: (readings: number, expectedRows: number) => void;
  shouldStop: () => boolean;
}): Promise<PublishedFleet> {
  const { options } = args;
  const wallStart = Date.now();
  const simSpanMs = options.durationMs * options.speedup;
  const simStart = wallStart + options.durationMs - simSpanMs;
  const uploadEveryMs = options.uploadEveryS * 1000;
  const byKind: PublishedByKind = { valid: 0, duplicate: 0, out_of_order: 0, late: 0, malformed: 0 };
  let messages = 0;
  const inFlight = new Set<Promise<unknown>>();
  const buffers = new Map<string, VehicleBuffer>();
  args.topic.setPublishOptions({ batching: { maxMessages: 500, maxMilliseconds: 20 } });

  const send = async (items: SimulatedMessage[], data: string) => {
    // Every message starts a trace, as an instrumented device would; one in TRACE_SAMPLE_EVERY is
    // sampled, so the feature function logs it at INFO (README "Follow one reading").
    const trace = startTrace(messages % TRACE_SAMPLE_EVERY === 0);
    const attributes = { [TRACEPARENT]: formatTraceparent(trace) };
    const sent = args.topic.publishMessage({ data: Buffer.from(data), attributes }).then(() => {
      for (const item of items) byKind[item.kind]++;
      messages++;
      args.onPublished(items.length, items.filter((item) => EXPECTED_ROW_KINDS.has(item.kind)).length);
    });
    inFlight.add(sent);
    const settle = () => inFlight.delete(sent);
    void sent.then(settle, settle);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  };
  const flush = (vehicleId: string) => {
    const buffer = buffers.get(vehicleId);
    buffers.delete(vehicleId);
    if (!buffer) return;
    const readings = buffer.items.map((item) => JSON.parse(item.data) as unknown);
    return send(buffer.items, readings.length === 1 ? buffer.items[0]!.data : JSON.stringify({ readings }));
  };

  for (const message of simulateFleet({
    vehicles: options.vehicles,
    ratePerVehicleHz: options.rateHz,
    durationS: simSpanMs / 1000,
    startMs: simStart,
    seed: options.seed,
    allowedLatenessMs: options.allowedLatenessS * 1000,
    // More late readings than the simulator's default, so a short run shows the late path.
    lateRate: 0.01,
  })) {
    if (args.shouldStop()) break;
    const dueWall = wallStart + (message.sendMs - simStart) / options.speedup;
    const wait = dueWall - Date.now();
    if (wait > 5) await sleep(wait);
    if (message.kind === 'malformed' || !isJsonObject(message.data)) {
      await send([message], message.data);
      continue;
    }
    const buffer = buffers.get(message.vehicleId);
    if (buffer && message.sendMs - buffer.firstSendMs >= uploadEveryMs) await flush(message.vehicleId);
    const current = buffers.get(message.vehicleId) ?? { firstSendMs: message.sendMs, items: [] };
    current.items.push(message);
    buffers.set(message.vehicleId, current);
  }
  for (const vehicleId of [...buffers.keys()]) await flush(vehicleId);
  await Promise.all(inFlight);
  const readings = Object.values(byKind).reduce((a, b) => a + b, 0);
  const expectedRows = [...EXPECTED_ROW_KINDS].reduce((sum, kind) => sum + byKind[kind], 0);
  return { byKind, readings, messages, expectedRows };
}

function isJsonObject(data: string): boolean {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
