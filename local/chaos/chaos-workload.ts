// The suite's telemetry: the shared generator's fleet with the scenario's disorder, as devices upload
// it: each vehicle sends its readings in arrival order, `batch` per {"readings": [...]} message (the
// emulator pushes a few messages at a time, so one reading per message would measure the emulator);
// a malformed payload goes alone, as sent. Messages are published at a wall-clock rate profile. Every
// published message is remembered with its Pub/Sub message id and what it was meant to be, for the
// reconciliation afterwards. Event times all lie in the past (the fleet's span ends at the start of
// publishing), so no reading is refused for a fast clock.

import type { PubSub } from '@google-cloud/pubsub';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import {
  type ArrivalKind,
  type DisorderOptions,
  encodeArrival,
  generateTelemetry,
  vehicleIdFor,
} from '../simulator/telemetry-generator.js';

export interface WorkloadItem {
  kind: ArrivalKind;
  /** The reading (for a malformed payload, the one it replaced). */
  reading: TelemetryReading;
}

export interface WorkloadMessage {
  items: WorkloadItem[];
  /** The payload as published. */
  data: string;
}

export interface PublishedMessage extends WorkloadMessage {
  messageId: string;
  publishedAtMs: number;
}

/** Readings a run must turn into exactly one row each: first sends within the lateness. */
export const VALID_KINDS: ReadonlySet<ArrivalKind> = new Set(['reading', 'held_back', 'buffered']);

export function identityOf(vehicleId: string, eventTsMs: number): string {
  return `${vehicleId}@${eventTsMs}`;
}

export function generateWorkload(options: {
  vehicles: number;
  readings: number;
  seed: number;
  allowedLatenessMs: number;
  disorder: DisorderOptions;
  /** Readings per message. */
  batch: number;
  nowMs?: number;
}): WorkloadMessage[] {
  const durationS = Math.max(1, Math.ceil(options.readings / options.vehicles));
  const nowMs = options.nowMs ?? Date.now();
  const messages: WorkloadMessage[] = [];
  const buffers = new Map<string, { items: WorkloadItem[]; payloads: unknown[] }>();
  const flush = (vehicleId: string) => {
    const buffer = buffers.get(vehicleId);
    buffers.delete(vehicleId);
    if (!buffer) return;
    const data =
      buffer.payloads.length === 1
        ? JSON.stringify(buffer.payloads[0])
        : JSON.stringify({ readings: buffer.payloads });
    messages.push({ items: buffer.items, data });
  };
  for (const arrival of generateTelemetry({
    vehicles: options.vehicles,
    durationS,
    startMs: Math.floor(nowMs / 1000) * 1000 - durationS * 1000 - 60_000,
    seed: options.seed,
    vehicleId: (i) => `chaos-${vehicleIdFor(i)}`,
    eventIdShare: 0.4,
    allowedLatenessMs: options.allowedLatenessMs,
    disorder: options.disorder,
  })) {
    const item = { kind: arrival.kind, reading: arrival.reading };
    const data = encodeArrival(arrival);
    if (arrival.kind === 'malformed') {
      messages.push({ items: [item], data });
      continue;
    }
    const vehicleId = arrival.reading.vehicle_id;
    const buffer = buffers.get(vehicleId) ?? { items: [], payloads: [] };
    buffer.items.push(item);
    buffer.payloads.push(JSON.parse(data));
    buffers.set(vehicleId, buffer);
    if (buffer.items.length >= options.batch) flush(vehicleId);
  }
  for (const vehicleId of [...buffers.keys()]) flush(vehicleId);
  return messages;
}

/** Readings per second as a function of the time since publishing started. */
export type RateProfile = (elapsedMs: number) => number;

export interface PublishProgress {
  published: PublishedMessage[];
  /** Set once the last message is published. */
  finishedAtMs: number | undefined;
}

/**
 * Publishes `messages` in order, paced by `rate`; `onSecond` runs about once a second (faults are
 * injected from there). Resolves when every publish is confirmed.
 */
export async function publishPaced(args: {
  pubsub: PubSub;
  topic: string;
  messages: readonly WorkloadMessage[];
  rate: RateProfile;
  progress: PublishProgress;
  onSecond?: (elapsedMs: number) => void | Promise<void>;
}): Promise<void> {
  const topic = args.pubsub.topic(args.topic, { batching: { maxMessages: 500, maxMilliseconds: 10 } });
  const started = Date.now();
  let allowance = 0;
  let lastTick = started;
  let nextSecond = started + 1000;
  const pending = new Set<Promise<void>>();
  let index = 0;
  while (index < args.messages.length) {
    const now = Date.now();
    allowance += ((now - lastTick) / 1000) * args.rate(now - started);
    lastTick = now;
    if (now >= nextSecond) {
      nextSecond += 1000;
      await args.onSecond?.(now - started);
    }
    while (index < args.messages.length && allowance >= args.messages[index]!.items.length) {
      const message = args.messages[index++]!;
      allowance -= message.items.length;
      const sent = topic.publishMessage({ data: Buffer.from(message.data) }).then((messageId) => {
        args.progress.published.push({ ...message, messageId, publishedAtMs: Date.now() });
      });
      pending.add(sent);
      void sent.finally(() => pending.delete(sent));
      if (pending.size >= 5000) await Promise.race(pending);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  args.progress.finishedAtMs = Date.now();
  await topic.flush();
}
