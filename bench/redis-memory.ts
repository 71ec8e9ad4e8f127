import type { Redis } from 'ioredis';
import { type RedisWindowStore, vehicleKey } from '../shared/adapters/redis-window-store.js';
import { readInfo } from './redis-info.js';

/**
 * What the engine's state costs in Redis after a run. Two kinds of keys grow differently:
 *  - the vehicle hash (window tiles + latest vector): fixed size per vehicle, whatever the rate;
 *  - the dedupe hashes (one mark + stored snapshot per reading): grow with readings retained,
 *    about reading rate x dedupe retention (x2 generations at most) per vehicle.
 * The total per vehicle therefore depends on how long the run was; the split says what it
 * would be at any rate and retention.
 */
export interface RunMemory {
  /** used_memory after the run minus before (after FLUSHALL), per vehicle. */
  bytesPerVehicle: number;
  /** MEMORY USAGE of the vehicle hash after the run, mean over the sample. */
  stateBytesPerVehicle: number;
  /** MEMORY USAGE of the dedupe hashes divided by the marks they hold, over the sample. */
  dedupeBytesPerReading: number;
  /** Dedupe marks per vehicle in this run (the sample's mean). */
  dedupeMarksPerVehicle: number;
  sampledVehicles: number;
}

export interface MemoryResult extends RunMemory {
  /**
   * MEMORY USAGE of the vehicle hash once every window has rolled (see measureSteadyStateBytes):
   * a short run has not filled every ring yet, a running fleet always has.
   */
  steadyStateBytesPerVehicle: number;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await readInfo(redis, 'memory')).get('used_memory'));
}

export async function measureMemory(
  redis: Redis,
  vehicleIds: readonly string[],
  usedBefore: number,
  sample = 200,
): Promise<RunMemory> {
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

/**
 * The vehicle hash of a fleet that has been driving for longer than the longest window: `vehicles`
 * vehicles (ids `steady-<n>`) send a reading every 20 s for 65 minutes of event time, so every
 * window has moved to new tiles many times and every ring is stored. Mean MEMORY USAGE of their
 * vehicle hashes; their keys are deleted afterwards.
 */
export async function measureSteadyStateBytes(
  redis: Redis,
  store: RedisWindowStore,
  vehicles = 100,
): Promise<number> {
  const startMs = Date.UTC(2026, 2, 1, 12);
  const ids = Array.from({ length: vehicles }, (_, i) => `steady-${i}`);
  await Promise.all(
    ids.map(async (id, v) => {
      for (let s = 0; s <= 65 * 60; s += 20) {
        const reading = {
          event_ts_ms: startMs + s * 1000 + v,
          speed_kmh: 40 + ((s + v) % 60),
          engine_temp_c: 85 + ((s * 7 + v) % 15),
          gps_lat: 48.1 + s * 1e-5,
          gps_lon: 11.5 + v * 1e-4,
          fuel_level_pct: 50,
          rpm: 2000,
        };
        await store.apply(id, [{ eventId: `${id}:${s}`, reading }], reading.event_ts_ms + 500);
      }
    }),
  );
  let bytes = 0;
  for (const id of ids) bytes += Number(await redis.memory('USAGE', vehicleKey(id), 'SAMPLES', '0'));
  const keys = await redis.keys('fv:{steady-*');
  if (keys.length > 0) await redis.del(...keys);
  return bytes / vehicles;
}
