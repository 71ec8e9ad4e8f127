import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../local/servers/redis-server.js';
import { RedisWindowStore, type RedisWindowStoreOptions } from '../shared/adapters/redis-window-store.js';
import { loadConfig } from '../shared/config.js';
import { type BenchOptions, DEFAULT_BENCH_OPTIONS, QUICK_BENCH_OPTIONS } from './bench-options.js';
import { type BenchProgress, silentProgress } from './bench-progress.js';
import type { BenchResult } from './bench-report.js';
import { createEngineClient, type EngineRunResult, runEngine } from './engine-run.js';
import { type FleetReplay, generateFleetReplay } from './fleet-generator.js';
import { runNaive } from './naive-baseline.js';
import { runOnlineReads } from './online-reads.js';
import { runCeiling } from './redis-ceiling.js';
import { measureMemory, measureSteadyStateBytes, usedMemory } from './redis-memory.js';
import { runSinks } from './sink-phase.js';
import { groupUploads } from './upload-batches.js';

export interface RunBenchOptions extends Partial<BenchOptions> {
  /** Apply QUICK_BENCH_OPTIONS under the explicit options. */
  quick?: boolean;
}

/** 2026-03-01T00:00:00Z: event times are replayed, not read from the wall clock. */
const REPLAY_START_MS = Date.UTC(2026, 2, 1);

/**
 * The whole benchmark, in-process, against a private redis-server it starts on a free port (the
 * runs FLUSHALL and reset statistics, so never a shared server) and stops at the end, error or not.
 * Phases: warm-up, engine run, memory, online reads, Redis ceiling, naive baseline, sinks.
 */
export async function runBench(
  run: RunBenchOptions = {},
  progress: BenchProgress = silentProgress,
): Promise<BenchResult> {
  const { quick, ...explicit } = run;
  const options: BenchOptions = {
    ...DEFAULT_BENCH_OPTIONS,
    ...(quick ? QUICK_BENCH_OPTIONS : {}),
    ...definedOnly(explicit),
  };
  // The production defaults (allowed lateness, dedupe retention, idle ttl).
  const store: RedisWindowStoreOptions = loadConfig({}).engine;

  const started = performance.now();
  const fleet = generateFleetReplay({
    vehicles: options.vehicles,
    seconds: options.seconds,
    duplicateRate: options.duplicateRate,
    outOfOrderRate: options.outOfOrderRate,
    seed: options.seed,
    startMs: REPLAY_START_MS,
    idPrefix: 'veh-',
  });
  // Same shape, other vehicles: JIT and script cache warm before anything is timed.
  const warmup = generateFleetReplay({
    vehicles: Math.min(options.vehicles, 2_000),
    seconds: Math.min(options.seconds, 10),
    duplicateRate: options.duplicateRate,
    outOfOrderRate: options.outOfOrderRate,
    seed: options.seed + 1,
    startMs: REPLAY_START_MS,
    idPrefix: 'warm-',
  });
  progress.log(
    `generated ${fleet.length.toLocaleString('en-US')} deliveries for ${options.vehicles.toLocaleString('en-US')} vehicles ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const dir = await mkdtemp(join(tmpdir(), 'fleet-features-bench-'));
  const redisServer = await startRedis({ dir });
  const admin = new Redis(redisServer.url, { lazyConnect: true });
  try {
    await admin.connect();
    progress.log(`redis-server ${redisServer.url} (private, stopped at the end)`);
    const phase = async <T>(
      name: string,
      total: number,
      body: (update: (done: number) => void) => Promise<T>,
    ) => {
      const bar = progress.phase(name, total);
      try {
        const result = await body(bar.update);
        bar.update(total);
        return result;
      } finally {
        bar.stop();
      }
    };
    const flush = () => admin.flushall('SYNC');

    await phase('warm-up', warmup.length, (onProgress) =>
      runEngine(warmup, {
        redisUrl: redisServer.url,
        store,
        concurrency: options.concurrency,
        connections: options.connections,
        onProgress,
      }),
    );
    await flush();
    const usedBefore = await usedMemory(admin);
    const engine = await phase('engine', fleet.length, (onProgress) =>
      runEngine(fleet, {
        redisUrl: redisServer.url,
        store,
        concurrency: options.concurrency,
        connections: options.connections,
        onProgress,
      }),
    );
    const runMemory = await measureMemory(admin, fleet.vehicleIds, usedBefore);
    const memory = {
      ...runMemory,
      steadyStateBytesPerVehicle: await steadyStateBytes(redisServer.url, admin, store),
    };

    const online = await onlineReads(redisServer.url, fleet, options, store);

    let batched: EngineRunResult | undefined;
    if (options.uploadEveryS > 0) {
      const uploads = groupUploads(fleet, options.uploadEveryS);
      await flush();
      batched = await phase(`engine, ${options.uploadEveryS} s uploads`, uploads.length, (onProgress) =>
        runEngine(fleet, {
          redisUrl: redisServer.url,
          store,
          concurrency: options.concurrency,
          connections: options.connections,
          uploads,
          onProgress,
        }),
      );
    }

    await flush();
    const ceiling = await phase('redis ceiling', fleet.length, (onProgress) =>
      runCeiling(redisServer.url, fleet, { store, onProgress }),
    );

    await flush();
    await runNaive(redisServer.url, warmup, {
      count: Math.min(warmup.length, 20_000),
      concurrency: options.concurrency,
    });
    await flush();
    const naiveCount =
      options.naiveReadings > 0 ? Math.min(options.naiveReadings, fleet.length) : fleet.length;
    const naive = await phase('naive', naiveCount, (onProgress) =>
      runNaive(redisServer.url, fleet, { count: naiveCount, concurrency: options.concurrency, onProgress }),
    );

    const sinks = options.sinks ? await runSinks(dir, progress) : undefined;
    return {
      options,
      fleet: {
        vehicles: options.vehicles,
        deliveries: fleet.length,
        duplicates: fleet.duplicates,
        heldBack: fleet.heldBack,
      },
      engine,
      ...(batched ? { batched } : {}),
      naive,
      ceiling,
      memory,
      online,
      ...(sinks ? { sinks } : {}),
    };
  } finally {
    admin.disconnect();
    await redisServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function onlineReads(
  redisUrl: string,
  fleet: FleetReplay,
  options: BenchOptions,
  store: RedisWindowStoreOptions,
) {
  const redis = createEngineClient(redisUrl);
  try {
    await redis.connect();
    // Warm the read path, then measure.
    const warm = {
      reads: Math.min(2_000, options.onlineReads),
      concurrency: options.onlineConcurrency,
      store,
    };
    await runOnlineReads(redis, fleet.vehicleIds, { ...warm, seed: options.seed + 2 });
    return await runOnlineReads(redis, fleet.vehicleIds, {
      reads: options.onlineReads,
      concurrency: options.onlineConcurrency,
      store,
      seed: options.seed + 3,
    });
  } finally {
    redis.disconnect();
  }
}

async function steadyStateBytes(
  redisUrl: string,
  admin: Redis,
  store: RedisWindowStoreOptions,
): Promise<number> {
  const redis = createEngineClient(redisUrl);
  try {
    await redis.connect();
    return await measureSteadyStateBytes(admin, new RedisWindowStore(redis, store));
  } finally {
    redis.disconnect();
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
