// Feature rows for sink tests, built the way the pipeline builds them: buildFeatureRow from a
// reading of the shared telemetry generator and a hand-made window snapshot (one aggregate per
// window: 1m, 5m, 15m, 1h).

import { generateTelemetry } from '../../local/simulator/telemetry-generator.js';
import { buildFeatureRow, type FeatureRow } from '../../shared/rows/feature-row.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import type { WindowAggregate, WindowSnapshot } from '../../shared/windows/window-snapshot.js';

const BASE_EVENT_MS = Date.UTC(2026, 2, 14, 9, 58, 0);
const VEHICLES = 5;

/** The generator's readings of five vehicles, one every 5 s each, in event order; grown on demand. */
let pool: TelemetryReading[] = [];

function poolReading(i: number): TelemetryReading {
  if (i >= pool.length) {
    const count = Math.max(2 * pool.length, i + 1, 1000);
    pool = [];
    // Each vehicle's stream is prefix-stable: a longer run starts with the same readings.
    for (const arrival of generateTelemetry({
      vehicles: VEHICLES,
      ratePerVehicleHz: 0.2,
      durationS: Math.ceil(count / VEHICLES) * 5 + 5,
      startMs: BASE_EVENT_MS,
      seed: 14,
    })) {
      pool.push(arrival.reading);
    }
  }
  return pool[i]!;
}

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
  const reading = poolReading(i);
  const speed = reading.speed_kmh;
  const temp = reading.engine_temp_c;
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
      ...reading,
      event_id: `${run}:${i}`,
      // One reading per second whatever the devices' phases: the hour boundary falls at row 120.
      event_ts_ms: BASE_EVENT_MS + i * 1000,
      // Nullable columns always get nulls, whichever sensors these five devices have.
      fuel_level_pct: i % 3 === 0 ? null : reading.fuel_level_pct,
      rpm: i % 4 === 0 ? null : reading.rpm,
    },
    snapshot,
  );
  return { ...row, ...overrides };
}

export function featureRowFixtures(run: string, count: number, from = 0): FeatureRow[] {
  return Array.from({ length: count }, (_, k) => featureRowFixture(run, from + k));
}
