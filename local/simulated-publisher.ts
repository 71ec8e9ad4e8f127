// Publishes the device simulator's messages to the telemetry topic, paced on the wall clock.
// Event time runs `speedup` times faster than the wall and ends at the moment the run started, so
// no reading is stamped in the future and a short run still spans several windows.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Topic } from '@google-cloud/pubsub';
import type { DevOptions } from './dev-options.js';
import { type SimulatedMessageKind, simulateFleet } from './device-simulator.js';

export type PublishedByKind = Record<SimulatedMessageKind, number>;

export interface PublishedFleet {
  byKind: PublishedByKind;
  total: number;
  /** Distinct readings that must become feature rows: first sends, in order or not, not late. */
  expectedRows: number;
}

const MAX_IN_FLIGHT = 2000;

export async function publishSimulatedFleet(args: {
  topic: Topic;
  options: DevOptions;
  onPublished: (kind: SimulatedMessageKind) => void;
  shouldStop: () => boolean;
}): Promise<PublishedFleet> {
  const { options } = args;
  const wallStart = Date.now();
  const simSpanMs = options.durationMs * options.speedup;
  const simStart = wallStart - simSpanMs;
  const byKind: PublishedByKind = { valid: 0, duplicate: 0, out_of_order: 0, late: 0, malformed: 0 };
  const inFlight = new Set<Promise<unknown>>();
  args.topic.setPublishOptions({ batching: { maxMessages: 500, maxMilliseconds: 20 } });

  for (const message of simulateFleet({
    vehicles: options.vehicles,
    ratePerVehicleHz: options.rateHz,
    durationS: simSpanMs / 1000,
    startMs: simStart,
    seed: options.seed,
    allowedLatenessMs: options.allowedLatenessS * 1000,
  })) {
    if (args.shouldStop()) break;
    const dueWall = wallStart + (message.sendMs - simStart) / options.speedup;
    const wait = dueWall - Date.now();
    if (wait > 5) await sleep(wait);
    const sent = args.topic.publishMessage({ data: Buffer.from(message.data) }).then(() => {
      byKind[message.kind]++;
      args.onPublished(message.kind);
    });
    inFlight.add(sent);
    const settle = () => inFlight.delete(sent);
    void sent.then(settle, settle);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { byKind, total, expectedRows: byKind.valid + byKind.out_of_order };
}
