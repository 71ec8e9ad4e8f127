import type { Redis } from 'ioredis';
import { readInfo } from './redis-info.js';

/**
 * What the engine's state costs in Redis per vehicle, measured on a private server that holds
 * nothing else: every key is attributed to the vehicle in its hash tag ({vehicle id}), and
 * MEMORY USAGE ... SAMPLES 0 (every element counted) of all of a vehicle's keys is summed: window
 * state, rings, dedupe marks, latest vector and stored rows alike, whatever the engine's layout.
 * used_memory's growth over the run, per vehicle, is the cross-check (it also counts the
 * keyspace's own tables).
 */
export interface MemoryResult {
  vehicles: number;
  /** Event time the fleet had been sending for when measured. */
  eventMinutes: number;
  readings: number;
  /** Mean over vehicles of the summed MEMORY USAGE of their keys. */
  bytesPerVehicle: number;
  maxBytesPerVehicle: number;
  /** (used_memory after - before) / vehicles. */
  usedMemoryPerVehicle: number;
  keysPerVehicle: number;
  /** Keys without a hash tag (must be 0: nothing else lives on this server). */
  untaggedKeys: number;
  /** Where the bytes go: key kinds, and for hashes their field kinds (digits written as #). */
  breakdown: { part: string; bytesPerVehicle: number }[];
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await readInfo(redis, 'memory')).get('used_memory'));
}

async function allKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

const tagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
const kindOf = (name: string) => name.replace(/\{[^}]*\}/, '{v}').replace(/\d+/g, '#');

export async function measureVehicleMemory(
  redis: Redis,
  options: {
    vehicles: number;
    eventMinutes: number;
    readings: number;
    usedBefore: number;
    sampleHashes?: number;
  },
): Promise<MemoryResult> {
  const usedAfter = await usedMemory(redis);
  const keys = await allKeys(redis);
  const byVehicle = new Map<string, number>();
  const byKind = new Map<string, number>();
  let untaggedKeys = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach((key, k) => {
      const [error, value] = replies[k] ?? [new Error('no reply'), null];
      if (error) throw error;
      const bytes = Number(value);
      const tag = tagOf(key);
      if (tag === undefined) untaggedKeys++;
      else byVehicle.set(tag, (byVehicle.get(tag) ?? 0) + bytes);
      byKind.set(kindOf(key), (byKind.get(kindOf(key)) ?? 0) + bytes);
    });
  }
  const vehicles = Math.max(1, byVehicle.size);
  const breakdown: MemoryResult['breakdown'] = [...byKind].map(([part, bytes]) => ({
    part: `key ${part}`,
    bytesPerVehicle: bytes / vehicles,
  }));
  breakdown.push(...(await hashFieldBreakdown(redis, keys, options.sampleHashes ?? 20)));
  const totals = [...byVehicle.values()];
  return {
    vehicles: byVehicle.size,
    eventMinutes: options.eventMinutes,
    readings: options.readings,
    bytesPerVehicle: totals.reduce((a, b) => a + b, 0) / vehicles,
    maxBytesPerVehicle: Math.max(0, ...totals),
    usedMemoryPerVehicle: (usedAfter - options.usedBefore) / options.vehicles,
    keysPerVehicle: (keys.length - untaggedKeys) / vehicles,
    untaggedKeys,
    breakdown,
  };
}

/** Payload bytes (field name + value) by field kind, over the hash keys of a sample of vehicles, per vehicle. */
async function hashFieldBreakdown(
  redis: Redis,
  keys: readonly string[],
  sample: number,
): Promise<MemoryResult['breakdown']> {
  const keysByVehicle = new Map<string, string[]>();
  for (const key of keys) {
    const tag = tagOf(key);
    if (tag === undefined) continue;
    const list = keysByVehicle.get(tag);
    if (list) list.push(key);
    else keysByVehicle.set(tag, [key]);
  }
  const vehicles = [...keysByVehicle.values()];
  const step = Math.max(1, Math.floor(vehicles.length / sample));
  const sampled = vehicles.filter((_, i) => i % step === 0).slice(0, sample);
  const byField = new Map<string, number>();
  for (const vehicleKeys of sampled) {
    for (const key of vehicleKeys) {
      if ((await redis.type(key)) !== 'hash') continue;
      const fields = await redis.hgetallBuffer(key);
      for (const [field, value] of Object.entries(fields)) {
        const kind = `  ${kindOf(key)} field ${kindOf(field)}`;
        byField.set(kind, (byField.get(kind) ?? 0) + Buffer.byteLength(field) + value.length);
      }
    }
  }
  const n = Math.max(1, sampled.length);
  return [...byField]
    .map(([part, bytes]) => ({ part: `${part} (payload)`, bytesPerVehicle: bytes / n }))
    .sort((a, b) => b.bytesPerVehicle - a.bytesPerVehicle);
}
