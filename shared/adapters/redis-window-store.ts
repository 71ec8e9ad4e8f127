import { FleetError } from '../errors.js';
import type { ApplyResult, WindowInput, WindowStore } from '../ports/window-store.js';
import { VEHICLE_ID_PATTERN } from '../telemetry/telemetry-reading.js';
import { APPLY_READINGS_LUA } from '../windows/apply-readings-script.js';
import {
  decodeRecord,
  decodeStoredReading,
  decodeVehicleState,
  encodeReadingArg,
  type LatestVector,
} from '../windows/window-snapshot.js';
import type { RedisClient } from './redis-client.js';

export interface RedisWindowStoreOptions {
  allowedLatenessMs: number;
  vehicleIdleTtlS: number;
}

type ApplyCommand = (k1: string, k2: string, ...args: (string | number | Buffer)[]) => Promise<Buffer[]>;

/** The script's outcome word, read without decoding it to a string (one per reading, hot path). */
function resultOf(word: Buffer, blob: Buffer): ApplyResult {
  if (word.length === 3 && word[0] === 0x6e) return { outcome: 'new', snapshot: decodeRecord(blob) };
  switch (word.toString('latin1')) {
    case 'dup':
      return { outcome: 'duplicate', pending: blob.length === 0 ? null : decodeStoredReading(blob) };
    case 'conflict':
      return { outcome: 'conflict' };
    case 'late':
      return { outcome: 'late' };
    default:
      throw new FleetError('internal', `unexpected script reply ${word.toString('latin1')}`);
  }
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

/** A model version stored with rows: at most 255 bytes of printable ASCII ('' for none). */
function checkedModelVersion(version: string | null): string {
  if (version === null) return '';
  if (!/^[\x21-\x7e]{1,255}$/.test(version)) {
    throw new FleetError('invalid_identifier', 'model version is not 1-255 printable ASCII characters');
  }
  return version;
}

/** The field of a reading's stored row in the vehicle hash (the script writes the same name). */
export function pendingField(eventTsMs: number): string {
  return `p${eventTsMs.toFixed(0)}`;
}

export interface ApplyScriptCall {
  keys: [vehicle: string, tiles: string];
  args: (string | number | Buffer)[];
}

/** The keys and arguments of one apply-script call (see apply-readings.lua); the bench replays them raw. */
export function applyScriptCall(
  vehicleId: string,
  inputs: readonly WindowInput[],
  nowMs: number,
  options: RedisWindowStoreOptions,
  modelVersion: string | null = null,
): ApplyScriptCall {
  const args: (string | number | Buffer)[] = [
    nowMs,
    options.allowedLatenessMs,
    options.vehicleIdleTtlS,
    checkedModelVersion(modelVersion),
  ];
  for (const input of inputs) args.push(input.eventId, encodeReadingArg(input.reading));
  const vehicle = vehicleKey(vehicleId);
  return { keys: [vehicle, `${vehicle}:t`], args };
}

const isConnectionList = (redis: RedisClient | readonly RedisClient[]): redis is readonly RedisClient[] =>
  Array.isArray(redis);

/**
 * The window store on Redis. It may be given several connections to the same server: each
 * connection keeps one auto-pipeline in flight, so with one connection Redis and Node take turns
 * (Redis runs a batch while Node waits, then Node decodes it while Redis idles); with two, Redis
 * runs one batch while Node decodes the other. A vehicle's calls always take the same connection,
 * so its readings reach Redis in the order they were applied.
 */
export class RedisWindowStore implements WindowStore {
  private readonly connections: readonly RedisClient[];
  private readonly applyCommands: readonly ApplyCommand[];

  constructor(
    redis: RedisClient | readonly RedisClient[],
    private readonly options: RedisWindowStoreOptions,
  ) {
    this.connections = isConnectionList(redis) ? [...redis] : [redis];
    if (this.connections.length === 0)
      throw new FleetError('internal', 'RedisWindowStore needs a connection');
    this.applyCommands = this.connections.map((connection) => {
      connection.defineCommand('fleetApplyReadings', { numberOfKeys: 2, lua: APPLY_READINGS_LUA });
      const command = (connection as unknown as Record<string, ApplyCommand>).fleetApplyReadingsBuffer;
      if (command === undefined) throw new FleetError('internal', 'ioredis did not define the apply command');
      return command.bind(connection);
    });
  }

  /** FNV-1a of the vehicle id picks its connection. */
  private connectionIndex(vehicleId: string): number {
    if (this.connections.length === 1) return 0;
    let hash = 0x811c9dc5;
    for (let i = 0; i < vehicleId.length; i++) hash = Math.imul(hash ^ vehicleId.charCodeAt(i), 0x01000193);
    return (hash >>> 0) % this.connections.length;
  }

  async apply(
    vehicleId: string,
    inputs: readonly WindowInput[],
    nowMs: number,
    modelVersion: string | null = null,
  ): Promise<ApplyResult[]> {
    if (inputs.length === 0) return [];
    const { keys, args } = applyScriptCall(vehicleId, inputs, nowMs, this.options, modelVersion);
    let reply: Buffer[];
    try {
      reply = await this.applyCommands[this.connectionIndex(vehicleId)]!(keys[0], keys[1], ...args);
    } catch (cause) {
      throw new FleetError('transient_redis', 'applying readings to Redis windows failed', {
        cause,
        metadata: { vehicleId, readings: inputs.length },
      });
    }
    const results: ApplyResult[] = [];
    for (let i = 0; i < reply.length; i += 2) results.push(resultOf(reply[i]!, reply[i + 1]!));
    return results;
  }

  async markDurable(vehicleId: string, eventTsMs: readonly number[]): Promise<void> {
    if (eventTsMs.length === 0) return;
    const key = vehicleKey(vehicleId);
    try {
      await this.connections[this.connectionIndex(vehicleId)]!.hdel(key, ...eventTsMs.map(pendingField));
    } catch (cause) {
      throw new FleetError('transient_redis', 'dropping durable rows from Redis failed', {
        cause,
        metadata: { vehicleId, readings: eventTsMs.length },
      });
    }
  }

  async latest(vehicleIds: readonly string[]): Promise<(LatestVector | null)[]> {
    if (vehicleIds.length === 0) return [];
    try {
      // Plain commands, auto-pipelined into one round trip per connection (per node on a Redis
      // Cluster, where an explicit pipeline could not span the vehicles' slots).
      const keys = vehicleIds.map(vehicleKey); // every id checked before anything is sent
      const connection = this.connections[0]!;
      const values = await Promise.all(keys.map((key) => connection.hgetBuffer(key, 's')));
      return values.map((value) => (value === null ? null : decodeVehicleState(value)));
    } catch (cause) {
      if (cause instanceof FleetError) throw cause;
      throw new FleetError('transient_redis', 'reading latest vectors from Redis failed', { cause });
    }
  }
}
