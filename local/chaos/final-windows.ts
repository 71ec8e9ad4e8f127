// Scenario 1's window check: once every reading is in, each vehicle's latest vector in Redis must
// equal the offline recomputation (test/helpers/window-recomputation.ts, DuckDB, independent of the
// Redis script) at its newest event time, whatever order the emulator pushed the readings in.

import type { Redis } from 'ioredis';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import {
  DOCUMENTED_WINDOWS,
  latestColumns,
  recomputeWindows,
} from '../../test/helpers/window-recomputation.js';
import type { PublishedMessage } from './chaos-workload.js';

/** Statistics are float32 in Redis; the recomputation is float64. */
const tolerance = (expected: number) => 1e-3 + 1e-6 * Math.abs(expected);

export interface WindowCheck {
  vehicles: number;
  /** Columns compared (per vehicle, every window's count, speed/temp stats and distance). */
  compared: number;
  mismatches: string[];
}

export async function checkFinalWindows(args: {
  redis: Redis;
  published: readonly PublishedMessage[];
  allowedLatenessMs: number;
}): Promise<WindowCheck> {
  const arrivals = [...args.published]
    .sort((a, b) => a.publishedAtMs - b.publishedAtMs)
    .flatMap((m) =>
      m.items
        .filter((i) => i.kind !== 'malformed')
        .map((i) => ({ nowMs: m.publishedAtMs, reading: i.reading })),
    )
    .map((a, seq) => ({ seq, ...a }));
  const recomputed = await recomputeWindows(arrivals, DOCUMENTED_WINDOWS, args.allowedLatenessMs);
  const vehicles = [...recomputed.finals.keys()].sort();
  const store = new RedisWindowStore(args.redis, {
    allowedLatenessMs: args.allowedLatenessMs,
    vehicleIdleTtlS: 86_400,
  });
  const latest = await store.latest(vehicles);
  const mismatches: string[] = [];
  let compared = 0;
  for (const [i, vehicle] of vehicles.entries()) {
    const want = recomputed.finals.get(vehicle)!;
    const got = latest[i];
    if (!got) {
      mismatches.push(`${vehicle}: no latest vector`);
      continue;
    }
    if (got.reading.event_ts_ms !== want.eventTsMs)
      mismatches.push(`${vehicle}: newest ${got.reading.event_ts_ms}, recomputed ${want.eventTsMs}`);
    const columns = latestColumns(got);
    for (const [column, value] of Object.entries(want.columns)) {
      compared++;
      const actual = columns[column] ?? null;
      const equal =
        value === null || actual === null || column.startsWith('count_')
          ? actual === value
          : Math.abs(actual - value) <= tolerance(value);
      if (!equal) mismatches.push(`${vehicle} ${column}=${actual}, recomputed ${value}`);
    }
  }
  return { vehicles: vehicles.length, compared, mismatches };
}
