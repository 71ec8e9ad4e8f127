import { Cluster, Redis } from 'ioredis';
import type { FleetConfig } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * One Memorystore for Redis instance, or a Memorystore for Redis Cluster (REDIS_CLUSTER=true) for
 * fleets past one shard. The adapters take either: every script and command touches the keys of
 * one vehicle (or device), which share a hash tag, so each call stays in one slot.
 */
export type RedisClient = Redis | Cluster;

/** While Redis is unreachable the client reconnects and fails over and over: one entry per 10 s. */
const CONNECTION_ERROR_LOG_INTERVAL_MS = 10_000;

export function createRedisClient(
  config: Pick<FleetConfig, 'redisUrl' | 'redisCluster'>,
  logger: Pick<Logger, 'warn'>,
): RedisClient {
  const client = connect(config);
  // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt. Commands
  // still fail on their own (and their callers turn that into a redelivery or a 503).
  let lastLoggedMs = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  client.on('error', (error: unknown) => {
    const now = Date.now();
    if (now - lastLoggedMs < CONNECTION_ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    logger.warn({ err: error, suppressed_since_last: suppressed }, 'redis connection error');
    lastLoggedMs = now;
    suppressed = 0;
  });
  return client;
}

function connect(config: Pick<FleetConfig, 'redisUrl' | 'redisCluster'>): RedisClient {
  // Many invocations in flight share one connection; auto-pipelining batches their scripts.
  const common = { enableAutoPipelining: true, maxRetriesPerRequest: 2, connectTimeout: 5000 } as const;
  // Memorystore with in-transit encryption uses rediss:// (TLS); its AUTH string is in the URL.
  if (!config.redisCluster) return new Redis(config.redisUrl, common);
  const url = new URL(config.redisUrl);
  return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    enableAutoPipelining: true,
    // Memorystore Cluster answers CLUSTER SLOTS with IP addresses: no DNS lookups, no remapping.
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions: {
      maxRetriesPerRequest: common.maxRetriesPerRequest,
      connectTimeout: common.connectTimeout,
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}
