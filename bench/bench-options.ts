import { parseArgs } from 'node:util';

export interface BenchOptions {
  vehicles: number;
  /** Seconds of event time replayed: each vehicle sends one reading per second. */
  seconds: number;
  /** Engine calls (= messages) in flight; also used by the naive baseline. */
  concurrency: number;
  /** Redis connections of the engine's window store. */
  connections: number;
  duplicateRate: number;
  outOfOrderRate: number;
  seed: number;
  /** Deliveries the naive baseline replays (a prefix of the same stream); 0 = all of them. */
  naiveReadings: number;
  onlineReads: number;
  onlineConcurrency: number;
  /**
   * A second engine run where each vehicle uploads its readings every this many seconds in one
   * message (one script call); 0 skips it.
   */
  uploadEveryS: number;
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
  naiveReadings: 0,
  onlineReads: 20_000,
  onlineConcurrency: 16,
  uploadEveryS: 5,
  sinks: true,
  progress: true,
};

/** A smoke run of a few seconds: every phase, tiny sizes (used by the bench smoke test). */
export const QUICK_BENCH_OPTIONS: Partial<BenchOptions> = {
  vehicles: 300,
  seconds: 10,
  naiveReadings: 1_000,
  onlineReads: 1_000,
  sinks: false,
};

export const BENCH_USAGE = `Usage: npm run bench -- [options]
  --vehicles N            fleet size (default ${DEFAULT_BENCH_OPTIONS.vehicles})
  --seconds N             seconds of event time, one reading per vehicle per second (default ${DEFAULT_BENCH_OPTIONS.seconds})
  --concurrency N         engine calls in flight (default ${DEFAULT_BENCH_OPTIONS.concurrency})
  --connections N         Redis connections of the window store (default ${DEFAULT_BENCH_OPTIONS.connections})
  --duplicates R          share of readings delivered twice (default ${DEFAULT_BENCH_OPTIONS.duplicateRate})
  --out-of-order R        share of readings delivered after a newer one (default ${DEFAULT_BENCH_OPTIONS.outOfOrderRate})
  --seed N                fleet seed (default ${DEFAULT_BENCH_OPTIONS.seed})
  --naive-readings N      deliveries replayed by the naive baseline, 0 = all (default all)
  --online-reads N        single-vehicle online reads (default ${DEFAULT_BENCH_OPTIONS.onlineReads})
  --online-concurrency N  online reads in flight (default ${DEFAULT_BENCH_OPTIONS.onlineConcurrency})
  --upload-every N        also run the engine with N-second per-vehicle uploads, one message each, 0 = skip (default ${DEFAULT_BENCH_OPTIONS.uploadEveryS})
  --no-sinks              skip the sink write benchmark
  --no-progress           no progress bars on stderr
  --quick                 smoke run of a few seconds (small fleet, no sinks)
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
      naiveReadings: count('naive-readings', v['naive-readings'], base.naiveReadings, 0),
      onlineReads: count('online-reads', v['online-reads'], base.onlineReads, 1),
      onlineConcurrency: count('online-concurrency', v['online-concurrency'], base.onlineConcurrency, 1),
      uploadEveryS: count('upload-every', v['upload-every'], base.uploadEveryS, 0),
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
      'naive-readings': { type: 'string' },
      'online-reads': { type: 'string' },
      'online-concurrency': { type: 'string' },
      'upload-every': { type: 'string' },
      sinks: { type: 'boolean' },
      progress: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
