import { Redis } from 'ioredis';
import { RedisWindowStore, type RedisWindowStoreOptions } from '../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../shared/features/feature-engine.js';
import { replayConcurrently, summarizeLatencies } from './concurrent-replay.js';
import type { FleetReplay } from './fleet-generator.js';
import { commandStat, readInfo, redisCpuSeconds } from './redis-info.js';

export interface EngineRunResult {
  readings: number;
  elapsedMs: number;
  readingsPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  applied: number;
  duplicates: number;
  conflicts: number;
  late: number;
  outOfOrderRows: number;
  /** Engine calls (messages); equals readings when each message carries one reading. */
  calls: number;
  /** Redis time inside the script per call (INFO commandstats, eval + evalsha). */
  scriptUsecPerCall: number;
  /** Redis process CPU per reading (script + networking + parsing), from INFO cpu. */
  redisCpuUsPerReading: number;
  /** This Node process's CPU per reading (engine, ioredis, the replay loop). */
  nodeCpuUsPerReading: number;
}

export interface EngineRunOptions {
  redisUrl: string;
  store: RedisWindowStoreOptions;
  concurrency: number;
  /** Redis connections the store spreads vehicles over (see RedisWindowStore). */
  connections: number;
  /**
   * Upload groups (see upload-batches.ts): each group is one message, one engine call. Absent:
   * one message per reading.
   */
  uploads?: readonly (readonly number[])[];
  onProgress?: (done: number) => void;
}

export function createEngineClient(redisUrl: string): Redis {
  // Auto-pipelining: the many engine calls in flight share few round trips, as they would on a
  // function instance serving concurrent messages.
  return new Redis(redisUrl, { enableAutoPipelining: true, lazyConnect: true });
}

/**
 * The engine as the feature function runs it: one message = one reading = one
 * `computeFeatureRows` call, many in flight. Redis statistics are reset first, so commandstats
 * and CPU cover exactly this run.
 */
export async function runEngine(fleet: FleetReplay, options: EngineRunOptions): Promise<EngineRunResult> {
  const connections = Array.from({ length: options.connections }, () => createEngineClient(options.redisUrl));
  const admin = new Redis(options.redisUrl, { lazyConnect: true });
  try {
    await Promise.all([...connections.map((c) => c.connect()), admin.connect()]);
    const store = new RedisWindowStore(connections, options.store);
    const counts = { applied: 0, duplicates: 0, conflicts: 0, late: 0, outOfOrderRows: 0 };
    await admin.config('RESETSTAT');
    const redisCpuBefore = await redisCpuSeconds(admin);
    const nodeCpuBefore = process.cpuUsage();
    const uploads = options.uploads;
    const timing = await replayConcurrently(
      uploads?.length ?? fleet.length,
      async (i) => {
        const deliveries = uploads?.[i] ?? [i];
        const readings = deliveries.map((d) => fleet.reading(d));
        const result = await computeFeatureRows(store, readings, fleet.nowMs(deliveries.at(-1)!));
        counts.applied += result.applied;
        counts.duplicates += result.duplicates;
        counts.conflicts += result.conflicts;
        counts.late += result.lateCount;
        for (const row of result.rows) if (row.late) counts.outOfOrderRows++;
      },
      { concurrency: options.concurrency, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
    );
    const nodeCpu = process.cpuUsage(nodeCpuBefore);
    const redisCpu = (await redisCpuSeconds(admin)) - redisCpuBefore;
    const stats = await readInfo(admin, 'commandstats');
    const scripts = [commandStat(stats, 'evalsha'), commandStat(stats, 'eval')].filter(
      (s) => s !== undefined,
    );
    const calls = scripts.reduce((sum, s) => sum + s.calls, 0);
    const usec = scripts.reduce((sum, s) => sum + s.usec, 0);
    return {
      readings: fleet.length,
      calls: uploads?.length ?? fleet.length,
      elapsedMs: timing.elapsedMs,
      readingsPerS: fleet.length / (timing.elapsedMs / 1000),
      ...summarizeLatencies(timing.latenciesMs),
      ...counts,
      scriptUsecPerCall: calls > 0 ? usec / calls : Number.NaN,
      redisCpuUsPerReading: (redisCpu * 1e6) / fleet.length,
      nodeCpuUsPerReading: (nodeCpu.user + nodeCpu.system) / fleet.length,
    };
  } finally {
    for (const connection of connections) connection.disconnect();
    admin.disconnect();
  }
}
