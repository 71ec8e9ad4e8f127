// Feature rows for sink tests, built the way the pipeline builds them: buildFeatureRow from a
// reading and a hand-made window snapshot (one aggregate per window: 1m, 5m, 15m, 1h).

import { buildFeatureRow, type FeatureRow } from '../../shared/features/feature-row.js';
import type { WindowAggregate, WindowSnapshot } from '../../shared/windows/window-snapshot.js';

const BASE_EVENT_MS = Date.UTC(2026, 2, 14, 9, 58, 0);

function aggregate(count: number, speed: number, temp: number, distanceKm: number): WindowAggregate {
  return {
    count,
    speed: { mean: speed, min: speed - 4, max: speed + 6, std: 2.5 },
    temp: { mean: temp, min: temp - 1, max: temp + 2, std: 0.75 },
    distanceKm,
  };
}

/**
 * The i-th row of a run: distinct event_id (`<run>:<i>`), five vehicles, one reading per second
 * from 09:58 UTC, so a few hundred rows straddle the 09:00 / 10:00 hour partitions.
 */
export function featureRowFixture(run: string, i: number, overrides: Partial<FeatureRow> = {}): FeatureRow {
  const speed = 40 + (i % 50);
  const temp = 88 + (i % 20);
  const snapshot: WindowSnapshot = {
    status: i % 17 === 0 ? 'out_of_order' : 'in_order',
    fingerprint: i,
    processedTsMs: BASE_EVENT_MS + i * 1000 + 120,
    windows: [
      aggregate(6, speed, temp, 0.4),
      aggregate(30, speed - 1, temp - 0.5, 2.1),
      aggregate(90, speed - 2, temp - 1, 6.3),
      aggregate(360, speed - 3, temp - 2, 25.2),
    ],
  };
  const row = buildFeatureRow(
    {
      event_id: `${run}:${i}`,
      vehicle_id: `veh-${i % 5}`,
      event_ts_ms: BASE_EVENT_MS + i * 1000,
      speed_kmh: speed,
      engine_temp_c: temp,
      gps_lat: 52.52 + i * 1e-4,
      gps_lon: 13.405 - i * 1e-4,
      fuel_level_pct: i % 3 === 0 ? null : 60 - (i % 40),
      rpm: i % 4 === 0 ? null : 1500 + i,
    },
    snapshot,
  );
  return { ...row, ...overrides };
}

export function featureRowFixtures(run: string, count: number, from = 0): FeatureRow[] {
  return Array.from({ length: count }, (_, k) => featureRowFixture(run, from + k));
}
