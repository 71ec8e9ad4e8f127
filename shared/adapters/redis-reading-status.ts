import { FleetError } from '../errors.js';
import type { ReadingRef, ReadingState, ReadingStatusReader } from '../ports/reading-status.js';
import { READING_STATUS_LUA } from '../windows/reading-status-script.js';
import { decodeStoredReading } from '../windows/window-snapshot.js';
import type { RedisClient } from './redis-client.js';
import { pendingField, vehicleKey } from './redis-window-store.js';

type StatusCommand = (k1: string, k2: string, ...args: (string | number)[]) => Promise<Buffer[]>;

export interface RedisReadingStatusOptions {
  /** Bound on one call, reconnects included (default 1000 ms). */
  timeoutMs?: number;
}

/**
 * Reads the window store's dedupe state for some readings of one vehicle (reading-status.lua):
 * one script call, read only, on the keys the feature function's apply script writes. The vehicle
 * id is checked against the contract's pattern by `vehicleKey` before it reaches a key.
 */
export class RedisReadingStatus implements ReadingStatusReader {
  private readonly command: StatusCommand;
  private readonly timeoutMs: number;

  constructor(redis: RedisClient, options: RedisReadingStatusOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    redis.defineCommand('fleetReadingStatus', { numberOfKeys: 2, lua: READING_STATUS_LUA });
    const command = (redis as unknown as Record<string, StatusCommand | undefined>).fleetReadingStatusBuffer;
    if (command === undefined) throw new FleetError('internal', 'ioredis did not define the status command');
    this.command = command.bind(redis);
  }

  async readingStates(vehicleId: string, readings: readonly ReadingRef[]): Promise<ReadingState[]> {
    if (readings.length === 0) return [];
    const vehicle = vehicleKey(vehicleId);
    const args: string[] = [];
    for (const reading of readings) {
      // The field name's digits, exactly as the apply script and markDurable write them.
      args.push(pendingField(reading.eventTsMs).slice(1), String(reading.fingerprint >>> 0));
    }
    let timer: NodeJS.Timeout | undefined;
    let reply: Buffer[];
    try {
      reply = await Promise.race([
        this.command(vehicle, `${vehicle}:t`, ...args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from Redis within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (cause) {
      throw new FleetError('transient_redis', 'reading dedupe state from Redis failed', {
        cause,
        metadata: { vehicleId, readings: readings.length },
      });
    } finally {
      clearTimeout(timer);
    }
    return readings.map((reading, i): ReadingState => {
      const word = reply[2 * i]?.toString('latin1');
      switch (word) {
        case 'stored': {
          const stored = decodeStoredReading(reply[2 * i + 1]!);
          return stored.snapshot.fingerprint === reading.fingerprint >>> 0
            ? { state: 'stored', stored }
            : { state: 'conflict' };
        }
        case 'applied':
        case 'conflict':
        case 'late':
        case 'pending':
          return { state: word };
        default:
          throw new FleetError('internal', `unexpected reading status reply ${String(word)}`);
      }
    });
  }
}
