import { FleetError } from '../errors.js';
import type { RateDecision, RateLimiter } from '../ports/rate-limiter.js';
import { VEHICLE_ID_PATTERN } from '../telemetry/telemetry-reading.js';
import type { RedisClient } from './redis-client.js';
import { TOKEN_BUCKET_LUA } from './token-bucket-script.js';

export interface RedisTokenBucketOptions {
  /** Tokens added per second. */
  ratePerS: number;
  /** Capacity: the most tokens one request may take, and what an idle key refills to. */
  burst: number;
  /**
   * Bound on one call, reconnects included: an unreachable Redis must turn into a refusal within
   * a request's patience, not after the client's reconnect attempts. Default 1000 ms.
   */
  timeoutMs?: number;
}

type TakeCommand = (
  key: string,
  rate: number,
  burst: number,
  cost: number,
) => Promise<[number, number, number]>;

/**
 * The bucket of a key: `rl:{key}`. The key is a device id checked against the contract's vehicle
 * id pattern before it reaches Redis; the hash tag puts it in its vehicle's slot on Redis Cluster.
 */
export function bucketKey(key: string): string {
  if (!VEHICLE_ID_PATTERN.test(key)) {
    throw new FleetError('invalid_identifier', 'rate limit key does not match the vehicle id pattern', {
      metadata: { keyLength: key.length },
    });
  }
  return `rl:{${key}}`;
}

/** A token bucket per key in Redis: one script call (one round trip) per request. */
export class RedisTokenBucket implements RateLimiter {
  private readonly command: TakeCommand;
  private readonly timeoutMs: number;

  constructor(
    redis: RedisClient,
    private readonly options: RedisTokenBucketOptions,
  ) {
    if (!(options.ratePerS > 0) || !(options.burst >= 1)) {
      throw new FleetError('internal', `invalid token bucket options ${JSON.stringify(options)}`);
    }
    this.timeoutMs = options.timeoutMs ?? 1000;
    redis.defineCommand('fleetTakeTokens', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    const command = (redis as unknown as Record<string, TakeCommand | undefined>).fleetTakeTokens;
    if (command === undefined) throw new FleetError('internal', 'ioredis did not define the bucket command');
    this.command = command.bind(redis);
  }

  async take(key: string, cost: number): Promise<RateDecision> {
    const bucket = bucketKey(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        this.command(bucket, this.options.ratePerS, this.options.burst, cost),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from Redis within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      const [allowed, retryAfterMs, remaining] = reply;
      return { allowed: allowed === 1, retryAfterMs, remaining };
    } catch (cause) {
      throw new FleetError('transient_redis', 'taking rate limit tokens from Redis failed', { cause });
    } finally {
      clearTimeout(timer);
    }
  }
}
