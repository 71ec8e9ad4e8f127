// TEMP profiling harness (not part of the bench; deleted before hand-off)
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../local/servers/redis-server.js';
import { loadConfig } from '../shared/config.js';
import { runEngine } from './engine-run.js';
import { generateFleetReplay } from './fleet-generator.js';

const vehicles = Number(process.argv[2] ?? 10000);
const seconds = Number(process.argv[3] ?? 10);
const concurrency = Number(process.argv[4] ?? 64);
const store = loadConfig({}).engine;
const fleet = generateFleetReplay({ vehicles, seconds, duplicateRate: 0.05, outOfOrderRate: 0.02, seed: 1, startMs: Date.UTC(2026, 2, 1), idPrefix: 'v' });
const warm = generateFleetReplay({ vehicles: 2000, seconds: 10, duplicateRate: 0.05, outOfOrderRate: 0.02, seed: 2, startMs: Date.UTC(2026, 2, 1), idPrefix: 'w' });
const dir = await mkdtemp(join(tmpdir(), 'prof-'));
const server = await startRedis({ dir });
const admin = new Redis(server.url);
try {
  await runEngine(warm.items, { redisUrl: server.url, store, concurrency });
  await admin.flushall('SYNC');
  for (let i = 0; i < Number(process.env.REPEAT ?? 1); i++) {
    await admin.flushall('SYNC');
    const r = await runEngine(fleet.items, { redisUrl: server.url, store, concurrency });
    console.log(JSON.stringify({ rps: Math.round(r.readingsPerS), p50: r.p50Ms.toFixed(3), p99: r.p99Ms.toFixed(3), script: r.scriptUsecPerCall.toFixed(1), redisCpu: r.redisCpuUsPerReading.toFixed(1), nodeCpu: r.nodeCpuUsPerReading.toFixed(1) }));
  }
} finally {
  admin.disconnect();
  await server.stop();
}
