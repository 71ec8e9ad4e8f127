// What a Pub/Sub Cloud Storage subscription does in Google Cloud, for the emulator, which has none:
// pulls a subscription and writes its messages to the bucket (the GCS stand-in, through the
// official client) as objects named and cut by the same settings the infra uses
// (shared/archive-subscriptions.ts). At least once, never loss: a message is acknowledged only
// after the object holding it is written; a failed write nacks its messages, so Pub/Sub
// redelivers them into a later object.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import {
  type ArchiveSubscriptions,
  type CloudStorageSubscriptionSettings,
  objectName,
  type ParsedDatetimeFormat,
  parseFilenameDatetimeFormat,
  validateCloudStorageSubscription,
} from '../../shared/archive-subscriptions.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { type BatchLimits, TextObjectBatch } from './cloud-storage-subscription-batch.js';

export interface CloudStorageSubscriptionWriterOptions {
  pubsub: PubSub;
  /** The bucket the subscription writes to. */
  store: ObjectStore;
  settings: CloudStorageSubscriptionSettings;
  /** Wall clock for max duration and object names; tests pass a fake one to cross a minute at once. */
  clock?: () => number;
  /** How often an open object is checked against max duration. */
  tickMs?: number;
  newUuid?: () => string;
  /** A write that failed (its messages are redelivered). */
  onError?: (error: unknown) => void;
}

export interface WriterStats {
  /** Deliveries, redeliveries included. */
  received: number;
  objects: number;
  /** Messages in written objects, per object, in write order. */
  messagesPerObject: number[];
  messages: number;
  bytes: number;
  failedWrites: number;
  /** Received, not yet in a written object. */
  pendingMessages: number;
}

export class CloudStorageSubscriptionWriter {
  readonly settings: CloudStorageSubscriptionSettings;
  readonly #options: CloudStorageSubscriptionWriterOptions;
  readonly #format: ParsedDatetimeFormat;
  readonly #limits: BatchLimits;
  readonly #clock: () => number;
  readonly #newUuid: () => string;
  #subscription: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #open: TextObjectBatch<Message> | undefined;
  readonly #writes = new Set<Promise<void>>();
  #stopping = false;
  #lastMessageAtMs = 0;
  readonly #stats: WriterStats = {
    received: 0,
    objects: 0,
    messagesPerObject: [],
    messages: 0,
    bytes: 0,
    failedWrites: 0,
    pendingMessages: 0,
  };

  /** Throws a config_invalid FleetError naming every setting Pub/Sub would refuse. */
  constructor(options: CloudStorageSubscriptionWriterOptions) {
    this.settings = validateCloudStorageSubscription(options.settings);
    const parsed = parseFilenameDatetimeFormat(this.settings.filenameDatetimeFormat);
    if (!parsed.ok) throw new Error('unreachable: the format was validated');
    this.#format = parsed.value;
    this.#options = options;
    this.#limits = {
      maxBytes: this.settings.maxBytes,
      maxMessages: this.settings.maxMessages,
      maxDurationMs: this.settings.maxDurationS * 1000,
    };
    this.#clock = options.clock ?? Date.now;
    this.#newUuid = options.newUuid ?? randomUUID;
  }

  start(): void {
    if (this.#subscription !== undefined) return;
    const { maxBytes, maxMessages } = this.settings;
    // Room for a full object being written plus the next one filling: flow control must never
    // hold back the message that would complete an object.
    const subscription = this.#options.pubsub.subscription(this.settings.subscription, {
      flowControl: { maxMessages: 2 * maxMessages, maxBytes: 2 * maxBytes, allowExcessMessages: false },
    });
    subscription.on('message', (message: Message) => this.#receive(message));
    subscription.on('error', (error) => this.#options.onError?.(error));
    this.#subscription = subscription;
    this.#timer = setInterval(() => this.#finalizeIfExpired(), this.#options.tickMs ?? 1000);
  }

  stats(): WriterStats {
    return { ...this.#stats, messagesPerObject: [...this.#stats.messagesPerObject] };
  }

  /** Writes the open object now (whatever its age and size) and waits for every write under way. */
  async flush(): Promise<void> {
    if (this.#open !== undefined) this.#finalize(this.#open);
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Resolves once no message has arrived for `quietMs` (or after `timeoutMs`): the backlog is in. */
  async waitForQuiet(quietMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const idleMs = Date.now() - this.#lastMessageAtMs;
      if (idleMs >= quietMs) return true;
      await sleep(Math.min(quietMs - idleMs, Math.max(0, deadline - Date.now())) + 5);
    }
    return false;
  }

  /**
   * Writes what it holds and stops. Messages arriving meanwhile are nacked (redelivered to the
   * next writer), as is anything held when the subscription closes.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
    const subscription = this.#subscription;
    this.#subscription = undefined;
    subscription?.removeAllListeners('message');
    // Sends the acks still queued in the client before the stream goes.
    await subscription?.close();
  }

  #receive(message: Message): void {
    this.#lastMessageAtMs = Date.now();
    this.#stats.received++;
    if (this.#stopping) {
      message.nack();
      return;
    }
    const size = message.data.length;
    if (this.#open !== undefined && !this.#open.accepts(size)) this.#finalize(this.#open);
    this.#open ??= new TextObjectBatch(this.#clock(), this.#limits);
    this.#open.add(message.data, message);
    this.#stats.pendingMessages++;
    if (this.#open.full) this.#finalize(this.#open);
  }

  #finalizeIfExpired(): void {
    if (this.#open?.expired(this.#clock())) this.#finalize(this.#open);
  }

  #finalize(batch: TextObjectBatch<Message>): void {
    if (this.#open === batch) this.#open = undefined;
    // Named for the time the object was opened, as Pub/Sub names it for when it starts writing.
    const name = objectName(this.settings, this.#format, new Date(batch.openedAtMs), this.#newUuid());
    const write = this.#options.store
      .putIfAbsent(name, batch.body(), { contentType: 'text/plain' })
      .then(
        () => {
          for (const message of batch.handles) message.ack();
          this.#stats.objects++;
          this.#stats.messagesPerObject.push(batch.messages);
          this.#stats.messages += batch.messages;
          this.#stats.bytes += batch.bytes;
        },
        (error: unknown) => {
          for (const message of batch.handles) message.nack();
          this.#stats.failedWrites++;
          this.#options.onError?.(error);
        },
      )
      .finally(() => {
        this.#stats.pendingMessages -= batch.messages;
        this.#writes.delete(write);
      });
    this.#writes.add(write);
  }
}

export interface ArchiveWriters {
  features: CloudStorageSubscriptionWriter;
  raw: CloudStorageSubscriptionWriter;
  /** Waits until both have been quiet for `quietMs` (bounded), then writes their open objects. */
  flush(options?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  /** The same, then stops both. */
  stop(options?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
}

/** Writers for both archives, started; their pull subscriptions must exist (pipeline-resources). */
export function startArchiveWriters(options: {
  pubsub: PubSub;
  store: ObjectStore;
  subscriptions: ArchiveSubscriptions;
  onError?: (error: unknown) => void;
}): ArchiveWriters {
  const make = (settings: CloudStorageSubscriptionSettings) =>
    new CloudStorageSubscriptionWriter({
      pubsub: options.pubsub,
      store: options.store,
      settings,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    });
  const features = make(options.subscriptions.features);
  const raw = make(options.subscriptions.raw);
  features.start();
  raw.start();
  const both = [features, raw];
  const quiet = async ({ quietMs = 1500, timeoutMs = 30_000 } = {}) => {
    await Promise.all(both.map((w) => w.waitForQuiet(quietMs, timeoutMs)));
  };
  return {
    features,
    raw,
    flush: async (opts) => {
      await quiet(opts);
      await Promise.all(both.map((w) => w.flush()));
    },
    stop: async (opts) => {
      await quiet(opts);
      await Promise.all(both.map((w) => w.stop()));
    },
  };
}
