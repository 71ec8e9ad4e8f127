import type { Redis } from 'ioredis';
import { createSeededRandom } from '../local/simulator/seeded-random.js';
import { RedisWindowStore, type RedisWindowStoreOptions } from '../shared/adapters/redis-window-store.js';
import { buildFeatureRow } from '../shared/rows/feature-row.js';
import { replayConcurrently, summarizeLatencies } from './concurrent-replay.js';

/**
 * The online API's read path without HTTP: one vehicle's latest vector from Redis, decoded and
 * assembled into its feature row, as GET /v1/vehicles/{id}/features does. Vehicles are picked at
 * random (seeded) from the fleet, many reads in flight.
 */
export interface OnlineReadsResult {
  reads: number;
  readsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Reads that found no vector (must be 0 right after the engine run). */
  misses: number;
}

export async function runOnlineReads(
  redis: Redis,
  vehicleIds: readonly string[],
  options: { reads: number; concurrency: number; store: RedisWindowStoreOptions; seed: number },
): Promise<OnlineReadsResult> {
  const store = new RedisWindowStore(redis, options.store);
  const random = createSeededRandom(options.seed);
  const ids = Array.from({ length: options.reads }, () => random.pick(vehicleIds));
  let misses = 0;
  const timing = await replayConcurrently(
    ids.length,
    async (i) => {
      const id = ids[i]!;
      const [vector] = await store.latest([id]);
      if (!vector) {
        misses++;
        return;
      }
      buildFeatureRow({ ...vector.reading, event_id: vector.eventId, vehicle_id: id }, vector.snapshot);
    },
    { concurrency: options.concurrency },
  );
  return {
    reads: ids.length,
    readsPerS: ids.length / (timing.elapsedMs / 1000),
    ...summarizeLatencies(timing.latenciesMs),
    misses,
  };
}
