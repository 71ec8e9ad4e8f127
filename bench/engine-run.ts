import { Redis } from 'ioredis';
import { RedisWindowStore, type RedisWindowStoreOptions } from '../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../shared/features/feature-engine.js';
import { replayConcurrently, summarizeLatencies } from './concurrent-replay.js';
import { type FlushOptions, SimulatedDurableFlushes } from './durable-flush.js';
import type { FleetReplay } from './fleet-generator.js';
import { commandStats, readInfo, redisCpuSeconds } from './redis-info.js';

/**
 * One Redis command's share of a run (INFO commandstats). Commands a script runs are counted under
 * their own name and again inside the script's time, so these do not add up.
 */
export interface RedisCommandCost {
  command: string;
  calls: number;
  usecPerCall: number;
  usecPerReading: number;
}

export interface EngineRunResult {
  readings: number;
  /** From the first call to the last markDurable. */
  elapsedMs: number;
  readingsPerS: number;
  /** Latency of one engine call (computeFeatureRows: apply + rows), many in flight. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  applied: number;
  duplicates: number;
  conflicts: number;
  late: number;
  rows: number;
  outOfOrderRows: number;
  /** Engine calls (messages); equals readings when each message carries one reading. */
  calls: number;
  flushes: number;
  markDurableCalls: number;
  /** Redis time inside the apply script per call (INFO commandstats: evalsha, eval, fcall). */
  scriptUsecPerCall: number;
  /** Redis process CPU per reading (commands + networking + parsing), from INFO cpu. */
  redisCpuUsPerReading: number;
  /** This Node process's CPU per reading (engine, ioredis, the replay loop). */
  nodeCpuUsPerReading: number;
  redisCommands: RedisCommandCost[];
}

export interface EngineRunOptions {
  redisUrl: string;
  store: RedisWindowStoreOptions;
  concurrency: number;
  /** Redis connections of the window store (see RedisWindowStore). */
  connections: number;
  flush: FlushOptions;
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

const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'fcall', 'evalsha_ro', 'eval_ro', 'fcall_ro']);
/** The bench's own commands on its admin connection, not the engine's. */
const ADMIN_COMMANDS = new Set(['info', 'config|resetstat', 'config', 'ping']);

/**
 * The engine as the feature function runs it: one message = one `computeFeatureRows` call, many in
 * flight, then the group commit's markDurable once the simulated flush is durable. Redis
 * statistics are reset first, so commandstats and CPU cover exactly this run.
 */
export async function runEngine(fleet: FleetReplay, options: EngineRunOptions): Promise<EngineRunResult> {
  const connections = Array.from({ length: options.connections }, () => createEngineClient(options.redisUrl));
  const admin = new Redis(options.redisUrl, { lazyConnect: true });
  try {
    await Promise.all([...connections.map((c) => c.connect()), admin.connect()]);
    const store = new RedisWindowStore(connections, options.store);
    const flushes = new SimulatedDurableFlushes(store, options.flush);
    const counts = { applied: 0, duplicates: 0, conflicts: 0, late: 0, rows: 0, outOfOrderRows: 0 };
    await admin.config('RESETSTAT');
    const redisCpuBefore = await redisCpuSeconds(admin);
    const nodeCpuBefore = process.cpuUsage();
    const uploads = options.uploads;
    const calls = uploads?.length ?? fleet.length;
    const started = process.hrtime.bigint();
    const timing = await replayConcurrently(
      calls,
      async (i) => {
        const deliveries = uploads?.[i] ?? [i];
        const readings = deliveries.map((d) => fleet.reading(d));
        const result = await computeFeatureRows(store, readings, fleet.nowMs(deliveries.at(-1)!));
        counts.applied += result.applied;
        counts.duplicates += result.duplicates;
        counts.conflicts += result.conflicts;
        counts.late += result.lateCount;
        counts.rows += result.rows.length;
        for (const row of result.rows) if (row.late) counts.outOfOrderRows++;
        flushes.add(result.rows);
      },
      { concurrency: options.concurrency, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
    );
    await flushes.drain();
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const nodeCpu = process.cpuUsage(nodeCpuBefore);
    const redisCpu = (await redisCpuSeconds(admin)) - redisCpuBefore;
    const stats = commandStats(await readInfo(admin, 'commandstats'));
    const readings = fleet.length;
    const redisCommands: RedisCommandCost[] = [...stats]
      .filter(([command]) => !ADMIN_COMMANDS.has(command))
      .map(([command, s]) => ({
        command,
        calls: s.calls,
        usecPerCall: s.usecPerCall,
        usecPerReading: s.usec / readings,
      }))
      .sort((a, b) => b.usecPerReading - a.usecPerReading);
    const scripts = redisCommands.filter((c) => SCRIPT_COMMANDS.has(c.command));
    const scriptCalls = scripts.reduce((sum, c) => sum + c.calls, 0);
    const scriptUsec = scripts.reduce((sum, c) => sum + c.usecPerReading * readings, 0);
    return {
      readings,
      calls,
      elapsedMs,
      readingsPerS: readings / (elapsedMs / 1000),
      ...summarizeLatencies(timing.latenciesMs),
      ...counts,
      flushes: flushes.flushes,
      markDurableCalls: flushes.markDurableCalls,
      scriptUsecPerCall: scriptCalls > 0 ? scriptUsec / scriptCalls : Number.NaN,
      redisCpuUsPerReading: (redisCpu * 1e6) / readings,
      nodeCpuUsPerReading: (nodeCpu.user + nodeCpu.system) / readings,
      redisCommands,
    };
  } finally {
    for (const connection of connections) connection.disconnect();
    admin.disconnect();
  }
}
