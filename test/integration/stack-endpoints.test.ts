// A tool pointed at a running `npm run dev` stack needs only `<data-dir>/stack.json`: the stack is
// started the way local/dev/dev.ts starts it (without the simulator), and every endpoint the file names
// answers, with the official clients where there is one.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack } from '../../local/dev/dev-stack.js';
import type { StackEndpoints } from '../../local/dev/stack-endpoints.js';
import { readStackFile, stackFilePath } from '../../local/dev/stack-file.js';
import { FUNCTIONS } from '../../local/servers/function-servers.js';
import { createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { loadConfig } from '../../shared/config.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<unknown>)[] = [];
let dataDir = '';
let endpoints: StackEndpoints;

function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveConnect) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fleet-features-stack-'));
  await startDevStack({ dataDir, repoRoot, allowedLatenessS: 600, log: () => {}, cleanups });
  endpoints = await readStackFile(dataDir);
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('stack.json of a running dev stack', () => {
  it('lies in the data directory and names every function, with its log', () => {
    expect(stackFilePath(dataDir)).toBe(join(dataDir, 'stack.json'));
    expect(Object.keys(endpoints.functions).sort()).toEqual(FUNCTIONS.map((f) => f.target).sort());
    for (const f of Object.values(endpoints.functions)) expect(existsSync(f.logPath)).toBe(true);
    expect(endpoints.allowedLatenessS).toBe(loadConfig({}).engine.allowedLatenessMs / 1000);
  });

  it('every function URL accepts connections; the HTTP ones answer', async () => {
    for (const [target, f] of Object.entries(endpoints.functions)) {
      if (f.signature === 'cloudevent') {
        // Events arrive as pushes from the emulator; a bare request would be a failed invocation.
        expect(await accepts(f.url), target).toBe(true);
      } else {
        const response = await fetch(`${f.url}/`);
        expect(response.status, target).toBeLessThan(500);
      }
    }
  });

  it('the features API answers for a vehicle; the gateway refuses an unsigned post', async () => {
    const features = await fetch(endpoints.featuresApi.vehicleFeaturesUrl);
    expect([200, 404]).toContain(features.status);
    expect(features.headers.get('content-type')).toMatch(/json/);
    const unsigned = await fetch(endpoints.gateway.telemetryUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    expect(endpoints.gateway.fleetSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('the Pub/Sub emulator holds every topic and subscription named', async () => {
    expect(await (await fetch(`${endpoints.pubsub.url}/`)).text()).toMatch(/Ok/);
    const pubsub = createPubSubClient({
      projectId: endpoints.projectId,
      pubsubEmulatorHost: endpoints.pubsub.emulatorHost,
    });
    try {
      for (const topic of Object.values(endpoints.pubsub.topics)) {
        expect((await pubsub.topic(topic).exists())[0], topic).toBe(true);
      }
      for (const subscription of Object.values(endpoints.pubsub.subscriptions)) {
        expect((await pubsub.subscription(subscription).exists())[0], subscription).toBe(true);
      }
    } finally {
      await pubsub.close();
    }
  });

  it('the GCS stand-in holds the bucket, in the object store folder', async () => {
    const storage = createStorageClient({
      projectId: endpoints.projectId,
      storageEmulatorHost: endpoints.gcs.url,
    });
    expect((await storage.bucket(endpoints.gcs.bucket).exists())[0]).toBe(true);
    expect(endpoints.gcs.url).toContain(endpoints.gcs.host);
    expect(existsSync(endpoints.gcs.objectStoreRoot)).toBe(true);
  });

  it('the BigQuery stand-in holds the features table, in the warehouse file', async () => {
    const config = loadConfig(endpoints.env);
    expect(config.bigquery.apiEndpoint).toBe(endpoints.bigquery.url);
    const bigquery = createBigQueryClient(config);
    const table = bigquery.dataset(endpoints.bigquery.dataset).table(endpoints.bigquery.featuresTable);
    expect((await table.exists())[0]).toBe(true);
    expect(existsSync(endpoints.bigquery.warehousePath)).toBe(true);
  });

  it('the dashboard serves its page, the fleet and the pipeline health', async () => {
    const page = await fetch(endpoints.dashboard.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module"');
    const fleet = await fetch(endpoints.dashboard.fleetUrl);
    expect(fleet.status).toBe(200);
    expect(await fleet.json()).toMatchObject({ vehicles: [], truncated: false });
    const health = await fetch(endpoints.dashboard.healthUrl);
    expect(health.status).toBe(200);
    expect(await health.json()).toHaveProperty('history');
  });

  it('Redis answers at its URL', async () => {
    const redis = new Redis(endpoints.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});
