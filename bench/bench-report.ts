import type { BenchOptions } from './bench-options.js';
import type { EngineRunResult } from './engine-run.js';
import type { NaiveRunResult } from './naive-baseline.js';
import type { OnlineReadsResult } from './online-reads.js';
import type { CeilingResult } from './redis-ceiling.js';
import type { MemoryResult } from './redis-memory.js';

/** One sink measurement: rows per second for one flush size against one stand-in. */
export type SinkBenchRow = Record<string, string | number>;

export interface BenchResult {
  options: BenchOptions;
  fleet: { vehicles: number; deliveries: number; duplicates: number; heldBack: number };
  engine: EngineRunResult;
  /** The engine with per-vehicle uploads (several readings per message and script call). */
  batched?: EngineRunResult;
  naive: NaiveRunResult;
  ceiling: CeilingResult;
  memory: MemoryResult;
  online: OnlineReadsResult;
  /** Absent when the sink benchmark was not run. */
  sinks?: SinkBenchRow[];
}

/** The targets for this 2-core machine; ratios are within one run. */
export const TARGETS = {
  readingsPerS: 50_000,
  speedupVsNaive: 5,
  ceilingRatio: 0.5,
  p99Ms: 2,
  bytesPerVehicle: 4096,
  onlineReadP99Ms: 2,
} as const;

const r1 = (v: number) => Math.round(v * 10) / 10;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The machine-readable summary: the `BENCH {json}` line. */
export function benchJson(result: BenchResult): Record<string, unknown> {
  const { engine, naive, ceiling, memory, online, fleet, options } = result;
  return {
    readings_per_s: Math.round(engine.readingsPerS),
    p50_ms: r3(engine.p50Ms),
    p99_ms: r3(engine.p99Ms),
    naive_readings_per_s: Math.round(naive.readingsPerS),
    redis_ceiling_readings_per_s: Math.round(ceiling.readingsPerS),
    redis_bytes_per_vehicle: Math.round(memory.bytesPerVehicle),
    online_read_p99_ms: r3(online.p99Ms),
    speedup_vs_naive: r3(engine.readingsPerS / naive.readingsPerS),
    ceiling_ratio: r3(engine.readingsPerS / ceiling.readingsPerS),
    max_ms: r3(engine.maxMs),
    naive_p99_ms: r3(naive.p99Ms),
    online_read_p50_ms: r3(online.p50Ms),
    online_reads_per_s: Math.round(online.readsPerS),
    redis_state_bytes_per_vehicle: Math.round(memory.steadyStateBytesPerVehicle),
    redis_state_bytes_per_vehicle_after_run: Math.round(memory.stateBytesPerVehicle),
    redis_dedupe_bytes_per_reading: Math.round(memory.dedupeBytesPerReading),
    redis_dedupe_marks_per_vehicle: r1(memory.dedupeMarksPerVehicle),
    redis_script_usec_per_call: r3(engine.scriptUsecPerCall),
    redis_cpu_us_per_reading: r3(engine.redisCpuUsPerReading),
    node_cpu_us_per_reading: r3(engine.nodeCpuUsPerReading),
    vehicles: fleet.vehicles,
    seconds: options.seconds,
    readings: fleet.deliveries,
    duplicates: fleet.duplicates,
    out_of_order: fleet.heldBack,
    concurrency: options.concurrency,
    connections: options.connections,
    applied: engine.applied,
    duplicate_outcomes: engine.duplicates,
    out_of_order_rows: engine.outOfOrderRows,
    late_outcomes: engine.late,
    targets_met: targetChecks(result).every((c) => c.met),
    ...(result.batched
      ? {
          batched_upload_every_s: options.uploadEveryS,
          batched_readings_per_call: r1(result.batched.readings / result.batched.calls),
          batched_readings_per_s: Math.round(result.batched.readingsPerS),
          batched_p50_ms: r3(result.batched.p50Ms),
          batched_p99_ms: r3(result.batched.p99Ms),
          batched_speedup_vs_naive: r3(result.batched.readingsPerS / naive.readingsPerS),
          batched_ceiling_ratio: r3(result.batched.readingsPerS / ceiling.readingsPerS),
          batched_redis_cpu_us_per_reading: r3(result.batched.redisCpuUsPerReading),
          batched_node_cpu_us_per_reading: r3(result.batched.nodeCpuUsPerReading),
        }
      : {}),
    ...(result.sinks ? { sinks: result.sinks } : {}),
  };
}

interface TargetCheck {
  name: string;
  value: string;
  target: string;
  met: boolean;
}

export function targetChecks(result: BenchResult): TargetCheck[] {
  const { engine, naive, ceiling, memory, online } = result;
  const speedup = engine.readingsPerS / naive.readingsPerS;
  const ratio = engine.readingsPerS / ceiling.readingsPerS;
  return [
    {
      name: 'readings/s',
      value: fmt(engine.readingsPerS),
      target: `>= ${fmt(TARGETS.readingsPerS)}`,
      met: engine.readingsPerS >= TARGETS.readingsPerS,
    },
    {
      name: 'x naive',
      value: speedup.toFixed(2),
      target: `>= ${TARGETS.speedupVsNaive}`,
      met: speedup >= TARGETS.speedupVsNaive,
    },
    {
      name: 'of redis ceiling',
      value: ratio.toFixed(2),
      target: `>= ${TARGETS.ceilingRatio}`,
      met: ratio >= TARGETS.ceilingRatio,
    },
    {
      name: 'p99 ms',
      value: engine.p99Ms.toFixed(3),
      target: `<= ${TARGETS.p99Ms}`,
      met: engine.p99Ms <= TARGETS.p99Ms,
    },
    {
      name: 'redis bytes/vehicle',
      value: fmt(memory.bytesPerVehicle),
      target: `<= ${TARGETS.bytesPerVehicle}`,
      met: memory.bytesPerVehicle <= TARGETS.bytesPerVehicle,
    },
    {
      name: 'online read p99 ms',
      value: online.p99Ms.toFixed(3),
      target: `<= ${TARGETS.onlineReadP99Ms}`,
      met: online.p99Ms <= TARGETS.onlineReadP99Ms,
    },
  ];
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The human-readable report (stdout). */
export function formatReport(result: BenchResult): string {
  const { engine, naive, ceiling, memory, online, fleet, options } = result;
  const sections = [
    `fleet: ${fmt(fleet.vehicles)} vehicles x ${options.seconds} s = ${fmt(fleet.deliveries)} deliveries ` +
      `(${fmt(fleet.duplicates)} duplicates, ${fmt(fleet.heldBack)} out of order), ` +
      `concurrency ${options.concurrency}, ${options.connections} Redis connections`,
    table(
      ['run', 'readings', 'readings/s', 'p50 ms', 'p99 ms', 'max ms'],
      [
        [
          'engine (computeFeatureRows)',
          fmt(engine.readings),
          fmt(engine.readingsPerS),
          engine.p50Ms.toFixed(3),
          engine.p99Ms.toFixed(3),
          engine.maxMs.toFixed(1),
        ],
        ...(result.batched
          ? [
              [
                `engine, ${options.uploadEveryS} s uploads (${(result.batched.readings / result.batched.calls).toFixed(1)}/call; ms per message)`,
                fmt(result.batched.readings),
                fmt(result.batched.readingsPerS),
                result.batched.p50Ms.toFixed(3),
                result.batched.p99Ms.toFixed(3),
                result.batched.maxMs.toFixed(1),
              ],
            ]
          : []),
        [
          'naive sorted set',
          fmt(naive.readings),
          fmt(naive.readingsPerS),
          naive.p50Ms.toFixed(3),
          naive.p99Ms.toFixed(3),
          '-',
        ],
        ['redis ceiling (raw EVALSHA)', fmt(ceiling.readings), fmt(ceiling.readingsPerS), '-', '-', '-'],
        [
          'online read (latest + row)',
          fmt(online.reads),
          fmt(online.readsPerS),
          online.p50Ms.toFixed(3),
          online.p99Ms.toFixed(3),
          '-',
        ],
      ],
    ),
    table(
      ['where the time goes', 'per reading'],
      [
        ['redis: inside the script (commandstats)', `${engine.scriptUsecPerCall.toFixed(1)} us`],
        ['redis: process CPU (script + I/O)', `${engine.redisCpuUsPerReading.toFixed(1)} us`],
        ['node: process CPU (engine + ioredis)', `${engine.nodeCpuUsPerReading.toFixed(1)} us`],
        ...(result.batched
          ? [
              ['redis: process CPU, uploads', `${result.batched.redisCpuUsPerReading.toFixed(1)} us`],
              ['node: process CPU, uploads', `${result.batched.nodeCpuUsPerReading.toFixed(1)} us`],
            ]
          : []),
      ],
    ),
    table(
      ['redis memory', 'bytes'],
      [
        ['per vehicle, total (used_memory delta)', fmt(memory.bytesPerVehicle)],
        ['per vehicle, window state + latest (every ring filled)', fmt(memory.steadyStateBytesPerVehicle)],
        ['per vehicle, window state + latest (after this run)', fmt(memory.stateBytesPerVehicle)],
        [
          `per reading, dedupe mark + snapshot (${memory.dedupeMarksPerVehicle.toFixed(1)}/vehicle)`,
          fmt(memory.dedupeBytesPerReading),
        ],
      ],
    ),
    table(
      ['target', 'value', 'target', 'met'],
      targetChecks(result).map((c) => [c.name, c.value, c.target, c.met ? 'yes' : 'NO']),
    ),
  ];
  if (result.sinks && result.sinks.length > 0) {
    const headers = Object.keys(result.sinks[0]!);
    sections.push(
      table(
        headers,
        result.sinks.map((row) => headers.map((h) => String(row[h] ?? ''))),
      ),
    );
  }
  return `${sections.join('\n\n')}\n`;
}

export function benchLine(result: BenchResult): string {
  return `BENCH ${JSON.stringify(benchJson(result))}`;
}
