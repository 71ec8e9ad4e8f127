/**
 * Composition root of the ingest gateway: config → Redis (token buckets, dedupe state for
 * `?wait=true`), Pub/Sub (telemetry-raw) → the hono app. Built once per instance, so concurrent
 * requests share connections and Pub/Sub publish batches.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Hono } from 'hono';
import { createStorageClient } from '../adapters/gcs-object-store.js';
import { GcsVersionedObjectStore } from '../adapters/gcs-versioned-object-store.js';
import { createPubSubClient, PubSubPublisher } from '../adapters/pubsub-publisher.js';
import { createRedisClient, type RedisClient } from '../adapters/redis-client.js';
import { RedisReadingStatus } from '../adapters/redis-reading-status.js';
import { RedisTokenBucket } from '../adapters/redis-token-bucket.js';
import { type FleetConfig, loadConfig } from '../config.js';
import { FleetError } from '../errors.js';
import type { IngestDeps } from '../ingress/ingest-telemetry.js';
import { createIngressApp } from '../ingress/ingress-app.js';
import { createLogger, type Logger } from '../logger.js';
import { ChampionCache } from '../retraining/champion-cache.js';
import { ModelRegistry } from '../retraining/model-registry.js';

export interface IngressRuntime {
  config: FleetConfig;
  logger: Logger;
  app: Hono;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Refuses to build a gateway that would accept nothing or refuse its own largest batch. */
function checkIngressConfig(config: FleetConfig): void {
  if (config.ingress.fleetSecrets.length === 0) {
    throw new FleetError('config_invalid', 'the ingest gateway needs INGEST_FLEET_SECRET');
  }
  if (config.ingress.burst < config.limits.maxBatchReadings) {
    throw new FleetError('config_invalid', 'INGEST_BURST must be at least MAX_BATCH_READINGS', {
      metadata: { burst: config.ingress.burst, maxBatchReadings: config.limits.maxBatchReadings },
    });
  }
}

/** Every dependency from config; tests replace some (a fake publisher, a stopped Redis). */
export function createIngressRuntime(
  config: FleetConfig,
  overrides: Partial<IngestDeps> = {},
): IngressRuntime {
  checkIngressConfig(config);
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, name: 'ingest-gateway' });
  let redis: RedisClient | undefined;
  const redisClient = () => {
    if (redis === undefined) {
      redis = createRedisClient(config, logger);
      // ioredis reports every failed reconnect; one line per outage is enough (requests log their 503s).
      let reported = 0;
      redis.on('error', (error: unknown) => {
        if (Date.now() - reported < 10_000) return;
        reported = Date.now();
        logger.warn(
          { err: error },
          'Redis connection failed; rate limited requests get 503 until it is back',
        );
      });
    }
    return redis;
  };
  const publisher =
    overrides.publisher ??
    new PubSubPublisher(createPubSubClient(config), {
      maxDelayMs: config.ingress.publishMaxDelayMs,
      timeoutMs: config.ingress.publishTimeoutMs,
    });
  const deps: IngestDeps = {
    fleetSecrets: config.ingress.fleetSecrets,
    rateLimiter:
      overrides.rateLimiter ??
      new RedisTokenBucket(redisClient(), { ratePerS: config.ingress.ratePerS, burst: config.ingress.burst }),
    readingStatus: overrides.readingStatus ?? new RedisReadingStatus(redisClient()),
    // Loads a model only when a waited row was scored with one (by version, from the registry).
    models:
      overrides.models ??
      new ChampionCache(
        new ModelRegistry(new GcsVersionedObjectStore(createStorageClient(config), config.model.bucket)),
        { refreshMs: config.model.refreshMs, clock: Date.now, logger },
      ),
    publisher,
    topic: config.topics.telemetry,
    publishTimeoutMs: config.ingress.publishTimeoutMs,
    clock: overrides.clock ?? Date.now,
    sleep: overrides.sleep ?? ((ms) => sleep(ms)),
    logger,
    limits: {
      maxBodyBytes: config.ingress.maxBodyBytes,
      maxBatchReadings: config.limits.maxBatchReadings,
      maxMessageBytes: config.limits.maxMessageBytes,
      maxFutureSkewMs: config.engine.maxFutureSkewMs,
      signatureMaxSkewMs: config.ingress.signatureMaxSkewMs,
    },
    wait: { timeoutMs: config.ingress.waitTimeoutMs, pollMs: config.ingress.waitPollMs },
  };
  return {
    config,
    logger,
    app: createIngressApp(deps),
    close: async () => {
      if (publisher instanceof PubSubPublisher) await publisher.close();
      redis?.disconnect();
    },
  };
}

let config: FleetConfig | undefined;
let runtime: IngressRuntime | undefined;

export async function getIngressRuntime(): Promise<IngressRuntime> {
  config ??= loadConfig();
  runtime ??= createIngressRuntime(config);
  return runtime;
}

/** The body limit for the request body guard, before the runtime exists; the default if config is broken. */
export function ingressBodyLimit(): number {
  try {
    config ??= loadConfig();
    return config.ingress.maxBodyBytes;
  } catch {
    return DEFAULT_MAX_BODY_BYTES;
  }
}
