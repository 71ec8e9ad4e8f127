// The local Cloud Storage subscription against the real Pub/Sub emulator and the GCS stand-in:
// objects cut by bytes, by message count and by duration (a fake clock crosses the one-minute
// minimum at once), named per the settings, written before their messages are acknowledged, and
// flushed on stop.

import { randomBytes } from 'node:crypto';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudStorageSubscriptionWriter } from '../../local/servers/cloud-storage-subscription-writer.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import type { CloudStorageSubscriptionSettings } from '../../shared/archive-subscriptions.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { localServers } from '../helpers/local-servers.js';
import { waitUntil } from '../helpers/wait-until.js';

const run = randomBytes(4).toString('hex');
const BUCKET = `cs-writer-${run}`;
const START_MS = Date.UTC(2026, 2, 14, 9, 58, 0);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

let pubsub: PubSub;
let storage: Storage;
let store: GcsObjectStore;
const writers: CloudStorageSubscriptionWriter[] = [];

beforeAll(async () => {
  const local = localServers();
  pubsub = createPubSubClient({ projectId: local.projectId, pubsubEmulatorHost: local.pubsubEmulatorHost });
  storage = createStorageClient({ projectId: local.projectId, storageEmulatorHost: local.gcsStandinUrl });
  await storage.createBucket(BUCKET);
  store = new GcsObjectStore(storage, BUCKET);
});

afterAll(async () => {
  await Promise.allSettled(writers.map((w) => w.stop()));
  await pubsub?.close();
});

class FakeClock {
  constructor(public nowMs: number) {}
  readonly now = () => this.nowMs;
}

/** A topic with a pull subscription named as the settings say, for one test. */
async function archiveTopic(
  name: string,
  overrides: Partial<CloudStorageSubscriptionSettings> = {},
): Promise<{ topic: Topic; settings: CloudStorageSubscriptionSettings }> {
  const [topic] = await pubsub.createTopic(`${name}-${run}`);
  const settings: CloudStorageSubscriptionSettings = {
    subscription: `${name}-${run}-archive`,
    topic: topic.name,
    filenamePrefix: `${name}/`,
    filenameSuffix: '.txt',
    filenameDatetimeFormat: 'YYYY-MM-DD/hh_mm_ssZ',
    maxDurationS: 600,
    maxBytes: 1000,
    maxMessages: 1000,
    ackDeadlineS: 600,
    outputFormat: 'text',
    ...overrides,
  };
  // The pull subscription's own deadline is short so that an unacknowledged message comes back soon.
  await topic.createSubscription(settings.subscription, { ackDeadlineSeconds: 10 });
  return { topic, settings };
}

function startWriter(
  settings: CloudStorageSubscriptionSettings,
  options: { clock?: FakeClock; store?: ObjectStore; onError?: (e: unknown) => void } = {},
): CloudStorageSubscriptionWriter {
  const writer = new CloudStorageSubscriptionWriter({
    pubsub,
    store: options.store ?? store,
    settings,
    tickMs: 20,
    ...(options.clock === undefined ? {} : { clock: options.clock.now }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  writers.push(writer);
  writer.start();
  return writer;
}

async function publishAll(topic: Topic, payloads: readonly string[]): Promise<void> {
  await Promise.all(payloads.map((p) => topic.publishMessage({ data: Buffer.from(p) })));
}

/** The objects under a prefix with their messages (the text format's lines). */
async function objects(prefix: string): Promise<{ name: string; lines: string[] }[]> {
  const names = await store.list(prefix);
  return Promise.all(
    names.map(async (name) => ({ name, lines: (await store.get(name))!.toString().split('\n') })),
  );
}

/** `m-<i>` padded to `size` bytes. */
const payload = (i: number, size: number) => `m-${i}-`.padEnd(size, 'x');

describe('CloudStorageSubscriptionWriter', () => {
  it('cuts objects at max bytes, names them <prefix><datetime>_<uuid><suffix> and flushes the rest on stop', async () => {
    const { topic, settings } = await archiveTopic('bytes');
    const clock = new FakeClock(START_MS);
    const writer = startWriter(settings, { clock });
    const sent = Array.from({ length: 25 }, (_, i) => payload(i, 95));

    await publishAll(topic, sent);
    // 95-byte messages with a newline between them: 10 fill 959 of the 1000 bytes, an 11th would not fit.
    await waitUntil(
      async () => (await objects('bytes/')).length === 2 && writer.stats().pendingMessages === 5,
      {
        what: 'two full objects and five messages held',
      },
    );
    await writer.stop();

    const written = await objects('bytes/');
    expect(written.map((o) => o.lines.length).sort()).toEqual([10, 10, 5]);
    for (const object of written) {
      expect(object.name).toMatch(new RegExp(`^bytes/2026-03-14/09_58_00Z_${UUID}\\.txt$`));
      expect(Buffer.byteLength(object.lines.join('\n'))).toBeLessThanOrEqual(settings.maxBytes);
    }
    expect(written.flatMap((o) => o.lines).sort()).toEqual([...sent].sort());
    expect(writer.stats()).toMatchObject({ objects: 3, messages: 25, pendingMessages: 0, failedWrites: 0 });
  });

  it('cuts an object max duration after it was opened, by the clock it is given', async () => {
    const { topic, settings } = await archiveTopic('duration', { maxDurationS: 60, maxBytes: 1_000_000 });
    const clock = new FakeClock(START_MS);
    const writer = startWriter(settings, { clock });

    await publishAll(topic, ['a', 'b', 'c']);
    await waitUntil(() => writer.stats().pendingMessages === 3, { what: 'three messages held' });
    clock.nowMs = START_MS + 59_000;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await objects('duration/')).toEqual([]);

    clock.nowMs = START_MS + 60_000;
    await waitUntil(async () => (await objects('duration/')).length === 1, { what: 'the first object' });
    await publishAll(topic, ['d', 'e']);
    await waitUntil(() => writer.stats().pendingMessages === 2, { what: 'two messages in a new object' });
    clock.nowMs = START_MS + 120_000;
    await waitUntil(async () => (await objects('duration/')).length === 2, { what: 'the second object' });

    const written = await objects('duration/');
    const [first, second] = [...written].sort((x, y) => x.name.localeCompare(y.name));
    expect(first!.name).toMatch(/^duration\/2026-03-14\/09_58_00Z_/);
    expect(first!.lines.sort()).toEqual(['a', 'b', 'c']);
    // Named for when it was opened: its first message came at 09:59:00 by the fake clock.
    expect(second!.name).toMatch(/^duration\/2026-03-14\/09_59_00Z_/);
    expect(second!.lines.sort()).toEqual(['d', 'e']);
  });

  it('cuts objects at max messages', async () => {
    const { topic, settings } = await archiveTopic('count', { maxBytes: 10_000_000, maxMessages: 1000 });
    const writer = startWriter(settings);
    const sent = Array.from({ length: 2100 }, (_, i) => String(i));

    await publishAll(topic, sent);
    await waitUntil(() => writer.stats().received === 2100, { what: 'every message received' });
    await waitUntil(async () => (await objects('count/')).length === 2, { what: 'two objects of 1000' });
    expect(writer.stats().pendingMessages).toBe(100);
    await writer.stop();

    const written = await objects('count/');
    expect(written.map((o) => o.lines.length).sort((a, b) => a - b)).toEqual([100, 1000, 1000]);
    expect(new Set(written.flatMap((o) => o.lines)).size).toBe(2100);
  });

  it('acknowledges only after the write: a failed write loses nothing, its messages land in a later object', async () => {
    const { topic, settings } = await archiveTopic('failing');
    let failures = 1;
    const failingStore: ObjectStore = {
      bucket: BUCKET,
      putIfAbsent: async (name, body, options) => {
        if (failures-- > 0) throw new Error('injected: the bucket is unreachable');
        return store.putIfAbsent(name, body, options);
      },
      get: (name) => store.get(name),
      list: (prefix) => store.list(prefix),
    };
    const errors: unknown[] = [];
    const writer = startWriter(settings, { store: failingStore, onError: (e) => errors.push(e) });
    const sent = Array.from({ length: 10 }, (_, i) => payload(i, 95));

    await publishAll(topic, sent);
    await waitUntil(() => writer.stats().pendingMessages === 10, { what: 'ten messages held' });
    await writer.flush();
    expect(writer.stats().failedWrites).toBe(1);
    await waitUntil(() => writer.stats().pendingMessages === 10, { what: 'the ten messages redelivered' });
    await writer.stop();

    const written = await objects('failing/');
    expect(written.flatMap((o) => o.lines).sort()).toEqual([...sent].sort());
    expect(errors).toHaveLength(1);
    expect(writer.stats()).toMatchObject({ failedWrites: 1, messages: 10, pendingMessages: 0 });
  });

  it('refuses settings Pub/Sub would refuse, naming them', async () => {
    const { settings } = await archiveTopic('invalid');

    expect(
      () =>
        new CloudStorageSubscriptionWriter({
          pubsub,
          store,
          settings: { ...settings, maxDurationS: 30, filenameDatetimeFormat: 'YYYY-MM-DD' },
        }),
    ).toThrow(/maxDurationS 30 is outside 60\.\.600.*the hour matcher is missing/);
  });
});
