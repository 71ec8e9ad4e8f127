// In-memory stand-ins for the ingest gateway's ports, for driving the hono app in process
// (app.request) at fuzzing speed; the integration tests use the real Redis and Pub/Sub emulator.

import type { IngestDeps } from '../../shared/ingress/ingest-telemetry.js';
import { deriveDeviceKey, signRequest } from '../../shared/ingress/request-signature.js';
import { createLogger } from '../../shared/logger.js';
import type { MessagePublisher } from '../../shared/ports/dead-letter.js';
import type { RateDecision, RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { ReadingState, ReadingStatusReader } from '../../shared/ports/reading-status.js';

export const TEST_FLEET_SECRET = 'test-fleet-secret-0123456789abcdef0123456789';

export interface PublishedMessage {
  topic: string;
  data: Buffer;
  attributes: Record<string, string>;
}

export class RecordingPublisher implements MessagePublisher {
  readonly messages: PublishedMessage[] = [];
  failWith: Error | undefined;

  async publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string> {
    if (this.failWith) throw this.failWith;
    this.messages.push({ topic, data, attributes });
    return String(this.messages.length);
  }
}

/** A token bucket per key on a given clock (the Lua script's arithmetic, in memory). */
export class MemoryTokenBucket implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  failWith: Error | undefined;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly clock: () => number,
  ) {}

  async take(key: string, cost: number): Promise<RateDecision> {
    if (this.failWith) throw this.failWith;
    const now = this.clock();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(
      this.burst,
      bucket.tokens + (Math.max(0, now - bucket.at) * this.ratePerS) / 1000,
    );
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, retryAfterMs: 0, remaining: Math.floor(bucket.tokens) };
    }
    return {
      allowed: false,
      retryAfterMs: Math.max(1, Math.ceil(((cost - bucket.tokens) * 1000) / this.ratePerS)),
      remaining: Math.floor(bucket.tokens),
    };
  }
}

export class PendingReadingStatus implements ReadingStatusReader {
  async readingStates(_vehicleId: string, readings: readonly unknown[]): Promise<ReadingState[]> {
    return readings.map(() => ({ state: 'pending' }));
  }
}

export function fakeIngestDeps(overrides: Partial<IngestDeps> = {}): IngestDeps & {
  publisher: RecordingPublisher;
} {
  const clock = overrides.clock ?? Date.now;
  return {
    fleetSecrets: [TEST_FLEET_SECRET],
    rateLimiter: new MemoryTokenBucket(1000, 100_000, clock),
    readingStatus: new PendingReadingStatus(),
    topic: 'telemetry-raw',
    publishTimeoutMs: 1000,
    clock,
    sleep: async () => {},
    logger: createLogger({ level: 'silent' }),
    limits: {
      maxBodyBytes: 1024 * 1024,
      maxBatchReadings: 500,
      maxMessageBytes: 256 * 1024,
      maxFutureSkewMs: 300_000,
      signatureMaxSkewMs: 300_000,
    },
    wait: { timeoutMs: 50, pollMs: 10 },
    ...overrides,
    publisher: (overrides.publisher as RecordingPublisher | undefined) ?? new RecordingPublisher(),
  };
}

/** Headers of a request signed by `deviceId` with a key from `fleetSecret`. */
export function signedHeaders(
  body: string | Uint8Array,
  options: { deviceId: string; fleetSecret?: string; nowMs?: number },
): Record<string, string> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    'content-type': 'application/json',
    ...signRequest({
      deviceKey: deriveDeviceKey(options.fleetSecret ?? TEST_FLEET_SECRET, options.deviceId),
      deviceId: options.deviceId,
      body: bytes,
      nowMs: options.nowMs ?? Date.now(),
    }),
  };
}

export function reading(vehicleId: string, secondsAgo: number, extra: Record<string, unknown> = {}) {
  return {
    vehicle_id: vehicleId,
    timestamp: new Date(Date.now() - secondsAgo * 1000).toISOString(),
    speed_kmh: 50 + secondsAgo,
    engine_temp_c: 90,
    gps_lat: 48.85 + secondsAgo * 1e-4,
    gps_lon: 2.35,
    ...extra,
  };
}
