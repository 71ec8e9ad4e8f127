// `npm run bench` in its --quick mode, in-process: every phase runs against its own private
// redis-server and the BENCH line carries every figure the issue asks for. No timing assertions:
// the numbers depend on the machine; the bench itself reports them against the targets.
import { describe, expect, it } from 'vitest';
import { benchJson, benchLine, formatReport } from '../../bench/bench-report.js';
import { runBench } from '../../bench/run-bench.js';

const REQUIRED_FIGURES = [
  'readings_per_s',
  'p50_ms',
  'p99_ms',
  'naive_readings_per_s',
  'redis_ceiling_readings_per_s',
  'redis_bytes_per_vehicle',
  'online_read_p99_ms',
  'redis_state_bytes_per_vehicle',
  'redis_dedupe_bytes_per_reading',
  'redis_script_usec_per_call',
] as const;

describe('npm run bench --quick', () => {
  it('measures every phase and prints one parseable BENCH line with all figures', {
    timeout: 180_000,
  }, async () => {
    const result = await runBench({ quick: true });

    const line = benchLine(result);
    expect(line.startsWith('BENCH {')).toBe(true);
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line.slice('BENCH '.length)) as Record<string, unknown>;
    expect(parsed).toEqual(JSON.parse(JSON.stringify(benchJson(result))));
    for (const key of REQUIRED_FIGURES) {
      expect(parsed[key], key).toBeTypeOf('number');
      expect(parsed[key] as number, key).toBeGreaterThan(0);
    }

    // The replay is what the issue describes: duplicates and out-of-order deliveries, all applied.
    expect(result.fleet.duplicates).toBeGreaterThan(0);
    expect(result.fleet.heldBack).toBeGreaterThan(0);
    expect(result.engine.applied).toBe(result.options.vehicles * result.options.seconds);
    expect(result.engine.duplicates).toBe(result.fleet.duplicates);
    expect(result.engine.outOfOrderRows).toBeGreaterThan(0);
    expect(result.engine.late + result.engine.conflicts).toBe(0);
    expect(result.online.misses).toBe(0);

    const report = formatReport(result);
    for (const label of ['engine (computeFeatureRows)', 'naive sorted set', 'redis ceiling', 'online read']) {
      expect(report).toContain(label);
    }
  });
});
