import type { Redis } from 'ioredis';
import { FleetError } from '../errors.js';
import type { ApplyOutcome, ApplyResult, WindowInput, WindowStore } from '../ports/window-store.js';
import { VEHICLE_ID_PATTERN } from '../telemetry/telemetry-reading.js';
import {
  decodeLatest,
  decodeRecord,
  encodeReadingArg,
  type LatestVector,
} from '../windows/window-snapshot.js';
import { APPLY_READINGS_LUA } from './window-script.js';

export interface RedisWindowStoreOptions {
  allowedLatenessMs: number;
  dedupeRetentionS: number;
  vehicleIdleTtlS: number;
}

type ApplyCommand = (
  k1: string,
  k2: string,
  k3: string,
  ...args: (string | number | Buffer)[]
) => Promise<Buffer[]>;

const outcomeByReply: Record<string, ApplyOutcome> = {
  new: 'new',
  dup: 'duplicate',
  conflict: 'conflict',
  late: 'late',
};

/**
 * Keys carry the vehicle id in a hash tag ({...}) so one vehicle's keys share a slot on Redis
 * Cluster, and the id is checked against the contract's pattern before it reaches a key.
 */
export function vehicleKey(vehicleId: string): string {
  return `fv:{${checkedVehicleId(vehicleId)}}`;
}

function dedupeKey(vehicleId: string, generation: number): string {
  return `fv:{${checkedVehicleId(vehicleId)}}:seen:${generation}`;
}

function checkedVehicleId(vehicleId: string): string {
  if (!VEHICLE_ID_PATTERN.test(vehicleId)) {
    throw new FleetError('invalid_identifier', 'vehicle_id does not match the contract pattern', {
      metadata: { vehicleIdLength: vehicleId.length },
    });
  }
  return vehicleId;
}

export interface ApplyScriptCall {
  keys: [vehicle: string, dedupe: string, previousDedupe: string];
  args: (string | number | Buffer)[];
}

/** The keys and arguments of one apply-script call (see window-script.ts); the bench replays them raw. */
export function applyScriptCall(
  vehicleId: string,
  inputs: readonly WindowInput[],
  nowMs: number,
  options: RedisWindowStoreOptions,
): ApplyScriptCall {
  // Dedupe marks live in generations of `dedupeRetentionS`; checking the current and previous
  // generation keeps every mark for at least one full retention period.
  const generation = Math.floor(nowMs / 1000 / options.dedupeRetentionS);
  const args: (string | number | Buffer)[] = [
    nowMs,
    options.allowedLatenessMs,
    options.dedupeRetentionS * 2,
    options.vehicleIdleTtlS,
  ];
  for (const input of inputs) args.push(input.eventId, encodeReadingArg(input.reading));
  return {
    keys: [vehicleKey(vehicleId), dedupeKey(vehicleId, generation), dedupeKey(vehicleId, generation - 1)],
    args,
  };
}

export class RedisWindowStore implements WindowStore {
  private readonly applyCommand: ApplyCommand;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisWindowStoreOptions,
  ) {
    redis.defineCommand('fleetApplyReadings', { numberOfKeys: 3, lua: APPLY_READINGS_LUA });
    const command = (redis as unknown as Record<string, ApplyCommand>).fleetApplyReadingsBuffer;
    if (command === undefined) throw new FleetError('internal', 'ioredis did not define the apply command');
    this.applyCommand = command.bind(redis);
  }

  async apply(vehicleId: string, inputs: readonly WindowInput[], nowMs: number): Promise<ApplyResult[]> {
    if (inputs.length === 0) return [];
    const { keys, args } = applyScriptCall(vehicleId, inputs, nowMs, this.options);
    let reply: Buffer[];
    try {
      reply = await this.applyCommand(keys[0], keys[1], keys[2], ...args);
    } catch (cause) {
      throw new FleetError('transient_redis', 'applying readings to Redis windows failed', {
        cause,
        metadata: { vehicleId, readings: inputs.length },
      });
    }
    const results: ApplyResult[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const outcome = outcomeByReply[reply[i]!.toString()];
      if (outcome === undefined) throw new FleetError('internal', `unexpected script reply ${reply[i]}`);
      results.push({ outcome, snapshot: decodeRecord(reply[i + 1]!) });
    }
    return results;
  }

  async latest(vehicleIds: readonly string[]): Promise<(LatestVector | null)[]> {
    if (vehicleIds.length === 0) return [];
    try {
      const pipeline = this.redis.pipeline();
      for (const id of vehicleIds) pipeline.hgetBuffer(vehicleKey(id), 'l');
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([error, value]) => {
        if (error) throw error;
        return value instanceof Buffer ? decodeLatest(value) : null;
      });
    } catch (cause) {
      if (cause instanceof FleetError) throw cause;
      throw new FleetError('transient_redis', 'reading latest vectors from Redis failed', { cause });
    }
  }
}
