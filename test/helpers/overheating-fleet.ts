// Feature rows of a simulated fleet with overheating episodes, made the way the pipeline makes
// them: the shared telemetry generator (some engines are prone to overheat: coolant climbs past
// 105 °C for a minute or two, now and then while driving) feeds the real window engine on Redis in
// arrival order, and rows are assembled by buildFeatureRow. Vehicle ids carry a prefix so several
// fleets share one Redis without sharing state.

import { Redis } from 'ioredis';
import { generateTelemetry } from '../../local/simulator/telemetry-generator.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';

export interface OverheatingFleetOptions {
  redisUrl: string;
  vehiclePrefix: string;
  vehicles: number;
  startMs: number;
  durationS: number;
  ratePerVehicleHz: number;
  seed: number;
  /** Share of readings held back 15-60 s, within the allowed lateness (they become `late` rows). */
  heldBackRate?: number;
}

const LATENESS_MS = 600_000;
/** Arrivals go to the engine in batches of this much arrival time, as pushes would deliver them. */
const BATCH_MS = 60_000;

export async function overheatingFleetRows(options: OverheatingFleetOptions): Promise<FeatureRow[]> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const store = new RedisWindowStore(redis, { allowedLatenessMs: LATENESS_MS, vehicleIdleTtlS: 86_400 });
    const rows: FeatureRow[] = [];
    let batch: TelemetryReading[] = [];
    let batchEndMs = Number.NEGATIVE_INFINITY;
    const flush = async (nowMs: number) => {
      if (batch.length === 0) return;
      const result = await computeFeatureRows(store, batch, nowMs);
      rows.push(...result.rows);
      batch = [];
    };
    for (const arrival of generateTelemetry({
      vehicles: options.vehicles,
      startMs: options.startMs,
      durationS: options.durationS,
      ratePerVehicleHz: options.ratePerVehicleHz,
      seed: options.seed,
      vehicleId: (i) => `${options.vehiclePrefix}-${String(i + 1).padStart(3, '0')}`,
      allowedLatenessMs: LATENESS_MS,
      disorder: { heldBackRate: options.heldBackRate ?? 0, heldBackDelayMs: [15_000, 60_000] },
    })) {
      if (arrival.kind === 'malformed') continue;
      if (arrival.arrivalMs >= batchEndMs) {
        await flush(Math.ceil(batchEndMs));
        batchEndMs = arrival.arrivalMs + BATCH_MS;
      }
      batch.push(arrival.reading);
    }
    await flush(Math.ceil(batchEndMs));
    return rows;
  } finally {
    await redis.quit();
  }
}
