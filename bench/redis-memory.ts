import type { Redis } from 'ioredis';
import { vehicleKey } from '../shared/adapters/redis-window-store.js';
import { readInfo } from './redis-info.js';

/**
 * What the engine's state costs in Redis after a run. Two kinds of keys grow differently:
 *  - the vehicle hash (window tiles + latest vector): fixed size per vehicle, whatever the rate;
 *  - the dedupe hashes (one mark + stored snapshot per reading): grow with readings retained,
 *    about reading rate x dedupe retention (x2 generations at most) per vehicle.
 * The total per vehicle therefore depends on how long the run was; the split says what it
 * would be at any rate and retention.
 */
export interface MemoryResult {
  /** used_memory after the run minus before (after FLUSHALL), per vehicle. */
  bytesPerVehicle: number;
  /** MEMORY USAGE of the vehicle hash, mean over the sample. */
  stateBytesPerVehicle: number;
  /** MEMORY USAGE of the dedupe hashes divided by the marks they hold, over the sample. */
  dedupeBytesPerReading: number;
  /** Dedupe marks per vehicle in this run (the sample's mean). */
  dedupeMarksPerVehicle: number;
  sampledVehicles: number;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await readInfo(redis, 'memory')).get('used_memory'));
}

export async function measureMemory(
  redis: Redis,
  vehicleIds: readonly string[],
  usedBefore: number,
  sample = 200,
): Promise<MemoryResult> {
  const usedAfter = await usedMemory(redis);
  const step = Math.max(1, Math.floor(vehicleIds.length / sample));
  const sampled = vehicleIds.filter((_, i) => i % step === 0).slice(0, sample);
  let stateBytes = 0;
  let dedupeBytes = 0;
  let marks = 0;
  for (const id of sampled) {
    const key = vehicleKey(id);
    stateBytes += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
    // Dedupe generations of this vehicle: `<vehicle key>:seen:<generation>`.
    for (const dedupeKey of await redis.keys(`${key.replace(/[{}[\]*?\\]/g, '\\$&')}:seen:*`)) {
      dedupeBytes += Number(await redis.memory('USAGE', dedupeKey, 'SAMPLES', '0'));
      marks += await redis.hlen(dedupeKey);
    }
  }
  return {
    bytesPerVehicle: (usedAfter - usedBefore) / vehicleIds.length,
    stateBytesPerVehicle: stateBytes / sampled.length,
    dedupeBytesPerReading: marks > 0 ? dedupeBytes / marks : 0,
    dedupeMarksPerVehicle: marks / sampled.length,
    sampledVehicles: sampled.length,
  };
}
