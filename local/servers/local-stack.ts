// The local stack's servers: real Redis, the real Pub/Sub emulator, and the project's GCS and
// BigQuery stand-ins, on free ports under one data directory. `env` is what a function needs to
// run against them (the same variables production sets to the real services).

import { join } from 'node:path';
import { startBigQueryStandin } from '../bigquery-standin/index.js';
import { startGcsStandin } from '../gcs-standin/index.js';
import { startPubSubEmulator } from './pubsub-emulator.js';
import { startRedis } from './redis-server.js';

export interface LocalStack {
  projectId: string;
  redisUrl: string;
  pubsubEmulatorHost: string;
  gcsStandinUrl: string;
  gcsStandinHost: string;
  bigqueryStandinUrl: string;
  warehousePath: string;
  objectStoreRoot: string;
  /** Environment for functions and clients on this stack (see shared/config.ts). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: {
  dataDir: string;
  projectId: string;
  onProgress?: (what: string) => void;
}): Promise<LocalStack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.allSettled(stops.reverse().map((s) => s()));
  };
  try {
    options.onProgress?.('starting redis-server, the Pub/Sub emulator and the GCS/BigQuery stand-ins');
    const objectStoreRoot = join(options.dataDir, 'object-store');
    const warehousePath = join(options.dataDir, 'warehouse.duckdb');
    const started = <T>(server: T, stopIt: (s: T) => Promise<void>): T => {
      stops.push(() => stopIt(server));
      return server;
    };
    const [redis, pubsub, gcs, bigquery] = await Promise.all([
      startRedis({ dir: join(options.dataDir, 'redis') }).then((s) => started(s, (r) => r.stop())),
      startPubSubEmulator({ dir: join(options.dataDir, 'pubsub'), projectId: options.projectId }).then((s) =>
        started(s, (p) => p.stop()),
      ),
      startGcsStandin({ root: objectStoreRoot }).then((s) => started(s, (g) => g.close())),
      startBigQueryStandin({ dbPath: warehousePath, defaultProjectId: options.projectId }).then((s) =>
        started(s, (b) => b.close()),
      ),
    ]);
    return {
      projectId: options.projectId,
      redisUrl: redis.url,
      pubsubEmulatorHost: pubsub.host,
      gcsStandinUrl: gcs.url,
      gcsStandinHost: gcs.host,
      bigqueryStandinUrl: bigquery.url,
      warehousePath,
      objectStoreRoot,
      env: {
        GOOGLE_CLOUD_PROJECT: options.projectId,
        REDIS_URL: redis.url,
        PUBSUB_EMULATOR_HOST: pubsub.host,
        STORAGE_EMULATOR_HOST: gcs.url,
        BIGQUERY_API_ENDPOINT: bigquery.url,
        METADATA_SERVER_DETECTION: 'none',
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
