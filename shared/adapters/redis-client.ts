import { Cluster, Redis } from 'ioredis';
import type { FleetConfig } from '../config.js';

/**
 * One Memorystore for Redis instance, or a Memorystore for Redis Cluster (REDIS_CLUSTER=true) for
 * fleets past one shard. The adapters take either: every script and command touches the keys of
 * one vehicle (or device), which share a hash tag, so each call stays in one slot.
 */
export type RedisClient = Redis | Cluster;

export function createRedisClient(config: Pick<FleetConfig, 'redisUrl' | 'redisCluster'>): RedisClient {
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
