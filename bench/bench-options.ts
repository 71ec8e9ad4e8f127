import { parseArgs } from 'node:util';

export interface BenchOptions {
  vehicles: number;
  /** Seconds of event time replayed: each vehicle sends one reading per second. */
  seconds: number;
  /** Engine calls (= messages) in flight; also used by the naive baseline. */
  concurrency: number;
  /** Redis connections of the engine's window store. */
  connections: number;
  /** Share of readings sent again (a tenth of them with other values, a tenth under another event_id). */
  duplicateRate: number;
  /** Share of readings delivered 1-5 s late, after a newer reading of their vehicle. */
  outOfOrderRate: number;
  seed: number;
  onlineReads: number;
  onlineConcurrency: number;
  /** Seconds of HTTP load per level (1 and 8 connections) on featuresApi; 0 skips the HTTP phase. */
  httpSeconds: number;
  /**
   * A second engine run where each vehicle uploads its readings every this many seconds in one
   * message (one script call); 0 skips it.
   */
  uploadEveryS: number;
  /** The memory phase: this many vehicles send at 1 Hz for memoryMinutes of event time. */
  memoryVehicles: number;
  memoryMinutes: number;
  /** The disorder phase: this many vehicles x seconds replayed in order and shuffled. */
  disorderVehicles: number;
  disorderSeconds: number;
  /** The naive baseline: this many vehicles with an hour of history, then naiveSeconds of readings. */
  naiveVehicles: number;
  naiveSeconds: number;
  /** Sink writes against the GCS and BigQuery stand-ins, measured apart from the engine. */
  sinks: boolean;
  /** Progress bars on stderr. */
  progress: boolean;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  vehicles: 10_000,
  seconds: 60,
  concurrency: 64,
  connections: 2,
  duplicateRate: 0.05,
  outOfOrderRate: 0.02,
  seed: 20_260_301,
  onlineReads: 20_000,
  onlineConcurrency: 16,
  httpSeconds: 5,
  uploadEveryS: 5,
  memoryVehicles: 200,
  memoryMinutes: 76,
  disorderVehicles: 200,
  disorderSeconds: 1_200,
  naiveVehicles: 100,
  naiveSeconds: 30,
  sinks: true,
  progress: true,
};

/**
 * A smoke run of some seconds: every phase, small sizes (used by the bench smoke test). The memory
 * phase keeps its 76 minutes of event time (state is full only then) on a handful of vehicles.
 */
export const QUICK_BENCH_OPTIONS: Partial<BenchOptions> = {
  vehicles: 300,
  seconds: 10,
  onlineReads: 1_000,
  httpSeconds: 1,
  memoryVehicles: 5,
  disorderVehicles: 10,
  disorderSeconds: 900,
  naiveVehicles: 10,
  naiveSeconds: 10,
  sinks: false,
};

export const BENCH_USAGE = `Usage: npm run bench -- [options]
  --vehicles N            fleet size (default ${DEFAULT_BENCH_OPTIONS.vehicles})
  --seconds N             seconds of event time, one reading per vehicle per second (default ${DEFAULT_BENCH_OPTIONS.seconds})
  --concurrency N         engine calls in flight (default ${DEFAULT_BENCH_OPTIONS.concurrency})
  --connections N         Redis connections of the window store (default ${DEFAULT_BENCH_OPTIONS.connections})
  --duplicates R          share of readings sent again (default ${DEFAULT_BENCH_OPTIONS.duplicateRate})
  --out-of-order R        share of readings delivered after a newer one (default ${DEFAULT_BENCH_OPTIONS.outOfOrderRate})
  --seed N                fleet seed (default ${DEFAULT_BENCH_OPTIONS.seed})
  --online-reads N        single-vehicle online reads in-process (default ${DEFAULT_BENCH_OPTIONS.onlineReads})
  --online-concurrency N  online reads in flight (default ${DEFAULT_BENCH_OPTIONS.onlineConcurrency})
  --http-seconds N        seconds of HTTP load per level on featuresApi, 0 = skip (default ${DEFAULT_BENCH_OPTIONS.httpSeconds})
  --upload-every N        also run the engine with N-second per-vehicle uploads, one message each, 0 = skip (default ${DEFAULT_BENCH_OPTIONS.uploadEveryS})
  --memory-vehicles N     vehicles of the memory phase (default ${DEFAULT_BENCH_OPTIONS.memoryVehicles})
  --memory-minutes N      minutes of event time before memory is measured, >= 75 (default ${DEFAULT_BENCH_OPTIONS.memoryMinutes})
  --disorder-vehicles N   vehicles of the disorder phase (default ${DEFAULT_BENCH_OPTIONS.disorderVehicles})
  --disorder-seconds N    seconds of event time of the disorder phase (default ${DEFAULT_BENCH_OPTIONS.disorderSeconds})
  --naive-vehicles N      vehicles of the naive baseline, each with an hour of history (default ${DEFAULT_BENCH_OPTIONS.naiveVehicles})
  --naive-seconds N       seconds of readings the naive baseline replays after that hour (default ${DEFAULT_BENCH_OPTIONS.naiveSeconds})
  --no-sinks              skip the sink write benchmark
  --no-progress           no progress bars on stderr
  --quick                 smoke run of some seconds (small fleets, no sinks)
  --help`;

export class BenchUsageError extends Error {
  readonly code = 'bench_usage';
}

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new BenchUsageError(`--${name} must be an integer >= ${min}`);
  return n;
}

function rate(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new BenchUsageError(`--${name} must be a number in [0, 1)`);
  return n;
}

/** Parses the command line; `help` means print BENCH_USAGE and stop. */
export function parseBenchArgs(
  argv: readonly string[],
): { help: true } | { help: false; options: BenchOptions } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  const base = { ...DEFAULT_BENCH_OPTIONS, ...(v.quick ? QUICK_BENCH_OPTIONS : {}) };
  return {
    help: false,
    options: {
      vehicles: count('vehicles', v.vehicles, base.vehicles, 1),
      seconds: count('seconds', v.seconds, base.seconds, 2),
      concurrency: count('concurrency', v.concurrency, base.concurrency, 1),
      connections: count('connections', v.connections, base.connections, 1),
      duplicateRate: rate('duplicates', v.duplicates, base.duplicateRate),
      outOfOrderRate: rate('out-of-order', v['out-of-order'], base.outOfOrderRate),
      seed: count('seed', v.seed, base.seed, 0),
      onlineReads: count('online-reads', v['online-reads'], base.onlineReads, 1),
      onlineConcurrency: count('online-concurrency', v['online-concurrency'], base.onlineConcurrency, 1),
      httpSeconds: count('http-seconds', v['http-seconds'], base.httpSeconds, 0),
      uploadEveryS: count('upload-every', v['upload-every'], base.uploadEveryS, 0),
      memoryVehicles: count('memory-vehicles', v['memory-vehicles'], base.memoryVehicles, 1),
      memoryMinutes: count('memory-minutes', v['memory-minutes'], base.memoryMinutes, 75),
      disorderVehicles: count('disorder-vehicles', v['disorder-vehicles'], base.disorderVehicles, 1),
      disorderSeconds: count('disorder-seconds', v['disorder-seconds'], base.disorderSeconds, 2),
      naiveVehicles: count('naive-vehicles', v['naive-vehicles'], base.naiveVehicles, 1),
      naiveSeconds: count('naive-seconds', v['naive-seconds'], base.naiveSeconds, 1),
      sinks: v.sinks ?? base.sinks,
      progress: v.progress ?? base.progress,
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowNegative: true,
    options: {
      vehicles: { type: 'string' },
      seconds: { type: 'string' },
      concurrency: { type: 'string' },
      connections: { type: 'string' },
      duplicates: { type: 'string' },
      'out-of-order': { type: 'string' },
      seed: { type: 'string' },
      'online-reads': { type: 'string' },
      'online-concurrency': { type: 'string' },
      'http-seconds': { type: 'string' },
      'upload-every': { type: 'string' },
      'memory-vehicles': { type: 'string' },
      'memory-minutes': { type: 'string' },
      'disorder-vehicles': { type: 'string' },
      'disorder-seconds': { type: 'string' },
      'naive-vehicles': { type: 'string' },
      'naive-seconds': { type: 'string' },
      sinks: { type: 'boolean' },
      progress: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
