import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '../local/servers/redis-server.js';
import type { RedisWindowStoreOptions } from '../shared/adapters/redis-window-store.js';
import { loadConfig } from '../shared/config.js';
import { type BenchOptions, DEFAULT_BENCH_OPTIONS, QUICK_BENCH_OPTIONS } from './bench-options.js';
import { type BenchProgress, silentProgress } from './bench-progress.js';
import type { BenchResult } from './bench-report.js';
import { runDisorderCheck } from './disorder-check.js';
import type { FlushOptions } from './durable-flush.js';
import { createEngineClient, type EngineRunResult, runEngine } from './engine-run.js';
import { type FleetOptions, type FleetReplay, generateFleetReplay } from './fleet-generator.js';
import { prefillNaiveHistory, runNaive } from './naive-baseline.js';
import { buildFunctions, type OnlineHttpResult, runOnlineHttp } from './online-http.js';
import { runOnlineReads } from './online-reads.js';
import { runCeiling } from './redis-ceiling.js';
import { measureVehicleMemory, usedMemory } from './redis-memory.js';
import { runScoringCost } from './scoring-cost.js';
import { runSinks } from './sink-phase.js';
import { groupUploads } from './upload-batches.js';

export interface RunBenchOptions extends Partial<BenchOptions> {
  /** Apply QUICK_BENCH_OPTIONS under the explicit options. */
  quick?: boolean;
}

/** 2026-03-01T00:00:00Z: event times are replayed, not read from the wall clock. */
const REPLAY_START_MS = Date.UTC(2026, 2, 1);
const HOUR_S = 3600;
const HTTP_CONNECTIONS = [1, 8] as const;
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

type Phase = <T>(
  name: string,
  total: number,
  body: (update: (done: number) => void) => Promise<T>,
) => Promise<T>;

/**
 * The whole benchmark, in-process, against a private redis-server it starts on a free port (the
 * runs FLUSHALL and reset statistics, so never a shared server) and stops at the end, error or not.
 * Phases: warm-up, engine run, online reads (in-process and over HTTP), engine with uploads, Redis
 * ceiling, disorder check, memory at steady state, naive baseline, sinks.
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
  // The production defaults: allowed lateness, idle ttl, flush size and delay.
  const config = loadConfig({});
  const store: RedisWindowStoreOptions = config.engine;
  const flush: FlushOptions = { maxRows: config.sink.flushMaxRows, maxMs: config.sink.flushMaxMs };
  const fleetOf = (o: Omit<FleetOptions, 'startMs' | 'allowedLatenessMs'>) =>
    generateFleetReplay({ ...o, startMs: REPLAY_START_MS, allowedLatenessMs: store.allowedLatenessMs });
  const realistic: FleetOptions['disorder'] = {
    reSendRate: options.duplicateRate,
    conflictShare: 0.1,
    newIdShare: 0.1,
    heldBackRate: options.outOfOrderRate,
    heldBackDelayMs: [1_000, 5_000],
  };

  // The function build for the HTTP phase runs while the fleets are generated, before any timing.
  let buildRoot: string | null = null;
  let build: Promise<void> | null = null;
  if (options.httpSeconds > 0) {
    await mkdir(join(REPO_ROOT, '.local'), { recursive: true });
    buildRoot = await mkdtemp(join(REPO_ROOT, '.local', 'bench-build-'));
    build = buildFunctions(REPO_ROOT, buildRoot);
    build.catch(() => {});
  }
  const dir = await mkdtemp(join(tmpdir(), 'fleet-features-bench-'));
  try {
    const started = performance.now();
    const fleet = fleetOf({
      vehicles: options.vehicles,
      seconds: options.seconds,
      seed: options.seed,
      idPrefix: 'veh-',
      disorder: realistic,
    });
    // Same shape, other vehicles: JIT and script cache warm before anything is timed.
    const warmup = fleetOf({
      vehicles: Math.min(options.vehicles, 2_000),
      seconds: Math.min(options.seconds, 10),
      seed: options.seed + 1,
      idPrefix: 'warm-',
      disorder: realistic,
    });
    progress.log(
      `generated ${fleet.length.toLocaleString('en-US')} deliveries for ${options.vehicles.toLocaleString('en-US')} vehicles ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    if (build) {
      await build;
      progress.log(
        `built the functions for the HTTP phase in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }

    const redisServer = await startRedis({ dir });
    const admin = new Redis(redisServer.url, { lazyConnect: true });
    try {
      await admin.connect();
      progress.log(`redis-server ${redisServer.url} (private, stopped at the end)`);
      const phase: Phase = async (name, total, body) => {
        const bar = progress.phase(name, total);
        try {
          const result = await body(bar.update);
          bar.update(total);
          return result;
        } finally {
          bar.stop();
        }
      };
      const flushAll = () => admin.flushall('SYNC');
      const engineOptions = {
        redisUrl: redisServer.url,
        store,
        flush,
        concurrency: options.concurrency,
        connections: options.connections,
      };

      await phase('warm-up', warmup.length, (onProgress) =>
        runEngine(warmup, { ...engineOptions, onProgress }),
      );
      await flushAll();
      const engine = await phase('engine', fleet.length, (onProgress) =>
        runEngine(fleet, { ...engineOptions, onProgress }),
      );
      const online = await onlineReads(redisServer.url, fleet, options, store);
      let http: OnlineHttpResult | undefined;
      if (buildRoot !== null) {
        const root = buildRoot;
        const levels = await phase('online http', HTTP_CONNECTIONS.length, (onProgress) =>
          runOnlineHttp({
            buildRoot: root,
            logDir: dir,
            redisUrl: redisServer.url,
            vehicleIds: fleet.vehicleIds,
            seconds: options.httpSeconds,
            connections: HTTP_CONNECTIONS,
            seed: options.seed + 4,
            onProgress,
          }),
        );
        http = { levels };
      }

      let batched: EngineRunResult | undefined;
      if (options.uploadEveryS > 0) {
        const uploads = groupUploads(fleet, options.uploadEveryS);
        await flushAll();
        batched = await phase(`engine, ${options.uploadEveryS} s uploads`, uploads.length, (onProgress) =>
          runEngine(fleet, { ...engineOptions, uploads, onProgress }),
        );
      }

      await flushAll();
      const ceiling = await phase('redis ceiling', fleet.length, (onProgress) =>
        runCeiling(redisServer.url, fleet, { store, onProgress }),
      );

      const disorder = await runDisorderCheck(
        admin,
        fleetOf({
          vehicles: options.disorderVehicles,
          seconds: options.disorderSeconds,
          seed: options.seed + 5,
          idPrefix: 'order-',
        }),
        { ...engineOptions, seed: options.seed + 6, phase },
      );

      await flushAll();
      const memoryFleet = fleetOf({
        vehicles: options.memoryVehicles,
        seconds: options.memoryMinutes * 60,
        seed: options.seed + 7,
        idPrefix: 'steady-',
        disorder: realistic,
      });
      const usedBefore = await usedMemory(admin);
      const memoryRun = await phase(
        `memory (${options.memoryMinutes} min)`,
        memoryFleet.length,
        (onProgress) => runEngine(memoryFleet, { ...engineOptions, onProgress }),
      );
      const memory = await measureVehicleMemory(admin, {
        vehicles: options.memoryVehicles,
        eventMinutes: options.memoryMinutes,
        readings: memoryFleet.length,
        usedBefore,
      });

      await flushAll();
      const naive = await naiveRun(redisServer.url, admin, warmup, options, fleetOf, phase);

      const sinks = options.sinks ? await runSinks(dir, progress) : undefined;
      progress.log('scoring: a champion of every default feature over generated rows');
      const scoring = await runScoringCost(quick ? 20_000 : 200_000);
      return {
        options,
        fleet: {
          vehicles: options.vehicles,
          deliveries: fleet.length,
          distinctReadings: fleet.distinctReadings,
          reSends: fleet.reSends,
          conflicts: fleet.conflicts,
          heldBack: fleet.heldBack,
        },
        engine,
        ...(batched ? { batched } : {}),
        naive,
        ceiling,
        memory,
        memoryRun,
        disorder,
        online,
        ...(http ? { http } : {}),
        ...(sinks ? { sinks } : {}),
        scoring,
      };
    } finally {
      admin.disconnect();
      await redisServer.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (buildRoot !== null) {
      await build?.catch(() => {});
      await rm(buildRoot, { recursive: true, force: true });
    }
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

/** The naive baseline: warmed on the warm-up fleet, then timed over an hour of prefilled history. */
async function naiveRun(
  redisUrl: string,
  admin: Redis,
  warmup: FleetReplay,
  options: BenchOptions,
  fleetOf: (o: Omit<FleetOptions, 'startMs' | 'allowedLatenessMs'>) => FleetReplay,
  phase: Phase,
) {
  await runNaive(redisUrl, warmup, {
    from: 0,
    count: Math.min(warmup.length, 2_000),
    concurrency: options.concurrency,
  });
  await admin.flushall('SYNC');
  // In event order, no disorder: the first hour is history, the rest is replayed.
  const naiveFleet = fleetOf({
    vehicles: options.naiveVehicles,
    seconds: HOUR_S + options.naiveSeconds,
    seed: options.seed + 8,
    idPrefix: 'naive-',
  });
  const historyEndMs = REPLAY_START_MS + HOUR_S * 1000;
  let history = 0;
  while (history < naiveFleet.length && naiveFleet.reading(history).event_ts_ms < historyEndMs) history++;
  await phase('naive: 1 h history', history, (onProgress) =>
    prefillNaiveHistory(redisUrl, naiveFleet, history, onProgress),
  );
  const result = await phase('naive', naiveFleet.length - history, (onProgress) =>
    runNaive(redisUrl, naiveFleet, {
      from: history,
      count: naiveFleet.length - history,
      concurrency: options.concurrency,
      onProgress,
    }),
  );
  return { ...result, historyReadingsPerVehicle: history / options.naiveVehicles };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
