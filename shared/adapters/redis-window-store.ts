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

/** The script's outcome word, read without decoding it to a string (one per reading, hot path). */
function outcomeOf(reply: Buffer): ApplyOutcome | undefined {
  if (reply.length === 3 && reply[0] === 0x6e && reply[1] === 0x65 && reply[2] === 0x77) return 'new';
  return outcomeByReply[reply.toString('latin1')];
}

/**
 * Keys carry the vehicle id in a hash tag ({...}) so one vehicle's keys share a slot on Redis
 * Cluster, and the id is checked against the contract's pattern before it reaches a key.
 */
export function vehicleKey(vehicleId: string): string {
  return `fv:{${checkedVehicleId(vehicleId)}}`;
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
  const vehicle = vehicleKey(vehicleId);
  return { keys: [vehicle, `${vehicle}:seen:${generation}`, `${vehicle}:seen:${generation - 1}`], args };
}

const isConnectionList = (redis: Redis | readonly Redis[]): redis is readonly Redis[] => Array.isArray(redis);

/**
 * The window store on Redis. It may be given several connections to the same server: each
 * connection keeps one auto-pipeline in flight, so with one connection Redis and Node take turns
 * (Redis runs a batch while Node waits, then Node decodes it while Redis idles); with two, Redis
 * runs one batch while Node decodes the other. A vehicle's calls always take the same connection,
 * so its readings reach Redis in the order they were applied.
 */
export class RedisWindowStore implements WindowStore {
  private readonly connections: readonly Redis[];
  private readonly applyCommands: readonly ApplyCommand[];

  constructor(
    redis: Redis | readonly Redis[],
    private readonly options: RedisWindowStoreOptions,
  ) {
    this.connections = isConnectionList(redis) ? [...redis] : [redis];
    if (this.connections.length === 0)
      throw new FleetError('internal', 'RedisWindowStore needs a connection');
    this.applyCommands = this.connections.map((connection) => {
      connection.defineCommand('fleetApplyReadings', { numberOfKeys: 3, lua: APPLY_READINGS_LUA });
      const command = (connection as unknown as Record<string, ApplyCommand>).fleetApplyReadingsBuffer;
      if (command === undefined) throw new FleetError('internal', 'ioredis did not define the apply command');
      return command.bind(connection);
    });
  }

  /** FNV-1a of the vehicle id picks its connection. */
  private applyCommandFor(vehicleId: string): ApplyCommand {
    const commands = this.applyCommands;
    if (commands.length === 1) return commands[0]!;
    let hash = 0x811c9dc5;
    for (let i = 0; i < vehicleId.length; i++) hash = Math.imul(hash ^ vehicleId.charCodeAt(i), 0x01000193);
    return commands[(hash >>> 0) % commands.length]!;
  }

  async apply(vehicleId: string, inputs: readonly WindowInput[], nowMs: number): Promise<ApplyResult[]> {
    if (inputs.length === 0) return [];
    const { keys, args } = applyScriptCall(vehicleId, inputs, nowMs, this.options);
    let reply: Buffer[];
    try {
      reply = await this.applyCommandFor(vehicleId)(keys[0], keys[1], keys[2], ...args);
    } catch (cause) {
      throw new FleetError('transient_redis', 'applying readings to Redis windows failed', {
        cause,
        metadata: { vehicleId, readings: inputs.length },
      });
    }
    const results: ApplyResult[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const outcome = outcomeOf(reply[i]!);
      if (outcome === undefined) throw new FleetError('internal', `unexpected script reply ${reply[i]}`);
      results.push({ outcome, snapshot: decodeRecord(reply[i + 1]!) });
    }
    return results;
  }

  async latest(vehicleIds: readonly string[]): Promise<(LatestVector | null)[]> {
    if (vehicleIds.length === 0) return [];
    try {
      if (vehicleIds.length === 1) {
        // One vehicle, the online API's usual read: a plain command, auto-pipelined with the others.
        const value = await this.connections[0]!.hgetBuffer(vehicleKey(vehicleIds[0]!), 'l');
        return [value === null ? null : decodeLatest(value)];
      }
      const pipeline = this.connections[0]!.pipeline();
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
