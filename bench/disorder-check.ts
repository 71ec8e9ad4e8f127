import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import { RedisWindowStore, type RedisWindowStoreOptions } from '../shared/adapters/redis-window-store.js';
import { buildFeatureRow, type FeatureRow } from '../shared/rows/feature-row.js';
import { createEngineClient, type EngineRunOptions, type EngineRunResult, runEngine } from './engine-run.js';
import { type FleetReplay, shuffleFleetReplay } from './fleet-generator.js';

/**
 * Arrival order must not matter within the allowed lateness: the same readings are replayed twice
 * through the engine, in event order and shuffled within the lateness (shuffleFleetReplay), each
 * on an empty Redis, and every vehicle's final vector (latest(), as the online API serves it,
 * processed_ts aside) is compared. A vehicle whose vectors differ in any column is a mismatch.
 */
export interface DisorderResult {
  vehicles: number;
  readings: number;
  /** Deliveries of the shuffled replay that arrived after a newer reading of their vehicle. */
  outOfOrder: number;
  mismatches: number;
  /** Up to three mismatching vehicles with the columns that differ, for the report. */
  examples: string[];
  inOrder: EngineRunResult;
  shuffled: EngineRunResult;
}

type Vector = Omit<FeatureRow, 'processed_ts'> | null;

async function finalVectors(redisUrl: string, store: RedisWindowStoreOptions, ids: readonly string[]) {
  const redis = createEngineClient(redisUrl);
  try {
    await redis.connect();
    const windows = new RedisWindowStore(redis, store);
    const vectors: Vector[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const batch = ids.slice(i, i + 100);
      const latest = await windows.latest(batch);
      latest.forEach((vector, k) => {
        if (vector === null) {
          vectors.push(null);
          return;
        }
        const { processed_ts: _, ...row } = buildFeatureRow(
          { ...vector.reading, event_id: vector.eventId, vehicle_id: batch[k]! },
          vector.snapshot,
        );
        vectors.push(row);
      });
    }
    return vectors;
  } finally {
    redis.disconnect();
  }
}

export async function runDisorderCheck(
  admin: Redis,
  fleet: FleetReplay,
  options: Omit<EngineRunOptions, 'uploads' | 'onProgress'> & {
    seed: number;
    phase: <T>(
      name: string,
      total: number,
      body: (update: (done: number) => void) => Promise<T>,
    ) => Promise<T>;
  },
): Promise<DisorderResult> {
  const { seed, phase, ...engine } = options;
  const shuffledFleet = shuffleFleetReplay(fleet, engine.store.allowedLatenessMs, seed);

  await admin.flushall('SYNC');
  const inOrder = await phase('disorder: in order', fleet.length, (onProgress) =>
    runEngine(fleet, { ...engine, onProgress }),
  );
  const expected = await finalVectors(engine.redisUrl, engine.store, fleet.vehicleIds);
  await admin.flushall('SYNC');
  const shuffled = await phase('disorder: shuffled', shuffledFleet.length, (onProgress) =>
    runEngine(shuffledFleet, { ...engine, onProgress }),
  );
  const got = await finalVectors(engine.redisUrl, engine.store, fleet.vehicleIds);

  let mismatches = 0;
  const examples: string[] = [];
  fleet.vehicleIds.forEach((id, v) => {
    const a = expected[v] ?? null;
    const b = got[v] ?? null;
    if (a !== null && b !== null && isDeepStrictEqual(a, b)) return;
    mismatches++;
    if (examples.length < 3) {
      const columns =
        a === null || b === null
          ? [a === null ? 'no vector in order' : 'no vector shuffled']
          : Object.keys(a)
              .filter((k) => a[k as keyof typeof a] !== b[k as keyof typeof b])
              .map((k) => `${k} ${a[k as keyof typeof a]} vs ${b[k as keyof typeof b]}`);
      examples.push(`${id}: ${columns.slice(0, 4).join(', ')}`);
    }
  });
  return {
    vehicles: fleet.vehicleIds.length,
    readings: fleet.length,
    outOfOrder: shuffledFleet.heldBack,
    mismatches,
    examples,
    inOrder,
    shuffled,
  };
}
