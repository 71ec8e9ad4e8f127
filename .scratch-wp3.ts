import { Redis } from 'ioredis';
import { RedisWindowStore } from './shared/adapters/redis-window-store.js';
import { computeFeatureRows } from './shared/features/feature-engine.js';
import { generateReplayStream } from './test/helpers/replay-stream.js';
const arrivals = generateReplayStream({ seed: 20260301, vehicles: 12, durationS: 7500, startMs: Date.UTC(2026,2,1,6), allowedLatenessMs: 600000 });
const redis = new Redis('redis://127.0.0.1:46379');
await redis.flushall();
const store = new RedisWindowStore(redis, { allowedLatenessMs: 600000, dedupeRetentionS: 900, vehicleIdleTtlS: 7200 });
const nowOf = (a: any) => (Math.floor(a.arrivalMs / 10000) + 1) * 10000;
let t0 = performance.now(); let rows = 0;
const info0 = await redis.info('commandstats');
for (let start = 0; start < arrivals.length; ) {
  const nowMs = nowOf(arrivals[start]!); let end = start;
  while (end < arrivals.length && nowOf(arrivals[end]!) === nowMs) end++;
  const batch = arrivals.slice(start, end).map((a) => a.reading); start = end;
  const r = await computeFeatureRows(store, batch, nowMs); rows += r.rows.length;
}
console.log('replay ms', Math.round(performance.now() - t0), rows);
const info = await redis.info('commandstats');
console.log(info.split('\n').filter(l => /evalsha|eval:/.test(l)).join('\n'));
await redis.quit();
console.log('cpu', process.cpuUsage());
