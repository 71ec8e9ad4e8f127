// REDIS_CLUSTER=true: the functions talk to Memorystore for Redis Cluster through ioredis's Cluster
// client. Against a real redis-server in cluster mode (one node holding all 16,384 slots), which
// enforces what a sharded cluster does inside a script or command: every key in one slot
// (CROSSSLOT otherwise). The engine, the online read of many vehicles, the gateway's token bucket
// and read-after-write all run unchanged.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRedis, startRedis } from '../../local/servers/redis-server.js';
import { createRedisClient, type RedisClient } from '../../shared/adapters/redis-client.js';
import { RedisReadingStatus } from '../../shared/adapters/redis-reading-status.js';
import { RedisTokenBucket } from '../../shared/adapters/redis-token-bucket.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { loadConfig } from '../../shared/config.js';
import {
  encodeReadingArg,
  READING_ARG_BYTES,
  type ReadingValues,
} from '../../shared/windows/window-snapshot.js';
import { waitUntil } from '../helpers/wait-until.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
let server: RunningRedis;
let client: RedisClient;

const reading = (s: number, speed: number): ReadingValues => ({
  event_ts_ms: T0 + s * 1000,
  speed_kmh: speed,
  engine_temp_c: 90,
  gps_lat: 48,
  gps_lon: 11,
  fuel_level_pct: null,
  rpm: 1500,
});

beforeAll(async () => {
  server = await startRedis({ dir, cluster: true });
  const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await waitUntil(async () => /cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO'))), {
    timeoutMs: 15_000,
    what: 'cluster_state:ok',
  });
  await admin.quit();
  client = createRedisClient(loadConfig({ REDIS_URL: server.url, REDIS_CLUSTER: 'true' }), console);
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the functions on a Redis Cluster (REDIS_CLUSTER=true)', () => {
  it('connect with the Cluster client', () => {
    expect(loadConfig({ REDIS_CLUSTER: 'true' }).redisCluster).toBe(true);
    expect(loadConfig({}).redisCluster).toBe(false);
    expect(client).toBeInstanceOf(Cluster);
  });

  it('a node in cluster mode refuses a script over keys of two slots (what the hash tags avoid)', async () => {
    const plain = new Cluster([{ host: '127.0.0.1', port: server.port }]);
    try {
      await expect(plain.eval('return 1', 2, 'fv:{a}', 'fv:{b}')).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await plain.quit();
    }
  });

  it('apply readings, read them back for many vehicles at once, mark them durable', async () => {
    const store = new RedisWindowStore([client, client], {
      allowedLatenessMs: 600_000,
      vehicleIdleTtlS: 3600,
    });
    const vehicles = Array.from({ length: 20 }, (_, i) => `veh-cluster-${i}`);
    for (const [i, id] of vehicles.entries()) {
      const results = await store.apply(
        id,
        [
          { eventId: `${id}-2`, reading: reading(20, 40 + i) },
          { eventId: `${id}-1`, reading: reading(10, 30 + i) },
        ],
        T0 + 30_000,
      );
      expect(results.map((r) => r.outcome)).toEqual(['new', 'new']);
      await store.markDurable(id, [T0 + 10_000, T0 + 20_000]);
    }
    const latest = await store.latest([...vehicles, 'veh-cluster-none']);
    expect(latest.at(-1)).toBeNull();
    expect(latest.slice(0, -1).map((v) => v?.reading.event_ts_ms)).toEqual(vehicles.map(() => T0 + 20_000));
    const again = await store.apply(vehicles[0]!, [{ eventId: 'x', reading: reading(10, 30) }], T0 + 40_000);
    expect(again[0]?.outcome).toBe('duplicate');
  });

  it("run the gateway's token bucket and read-after-write script", async () => {
    const bucket = new RedisTokenBucket(client, { ratePerS: 1, burst: 3 });
    expect((await bucket.take('veh-cluster-1', 3)).allowed).toBe(true);
    expect((await bucket.take('veh-cluster-1', 1)).allowed).toBe(false);
    const status = new RedisReadingStatus(client);
    const fingerprint = encodeReadingArg(reading(10, 31)).readUInt32LE(READING_ARG_BYTES - 4);
    const states = await status.readingStates('veh-cluster-1', [{ eventTsMs: T0 + 10_000, fingerprint }]);
    expect(states).toEqual([{ state: 'applied' }]);
  });
});
