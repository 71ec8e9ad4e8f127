// The pipeline the chaos suite breaks: the parts startDevStack wires, started so that faults can be
// injected from outside: Redis with AOF persistence (killed and restarted on the same port and
// data), the GCS and BigQuery stand-ins with fault injectors, processTelemetry under
// functions-framework from dist/ (killed and restarted), a push proxy that counts deliveries, the
// archive writers, and a pull subscription on the dead-letter topic. Topics, dataset and bucket
// carry a per-run suffix, so runs can share one Pub/Sub emulator.

import { join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Message, PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { Redis } from 'ioredis';
import {
  createBigQueryClient,
  createBigQueryFeatureSink,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { type FleetConfig, loadConfig } from '../../shared/config.js';
import { type BigQueryStandin, startBigQueryStandin } from '../bigquery-standin/index.js';
import { FaultInjector } from '../fault-injection/fault-injector.js';
import { type GcsStandin, startGcsStandin } from '../gcs-standin/index.js';
import { type ArchiveWriters, startArchiveWriters } from '../servers/cloud-storage-subscription-writer.js';
import { FUNCTIONS, type RunningFunction, startFunction } from '../servers/function-servers.js';
import { createPipelineResources, type PipelineSubscriptions } from '../servers/pipeline-resources.js';
import { type RunningRedis, startRedis } from '../servers/redis-server.js';
import { PushProxy } from './push-proxy.js';

export interface DeadLetterRecord {
  /** The function's own dead letters carry a reason; the subscription's dead-letter policy does not. */
  reason: string | undefined;
  /** Function dead letters: the message they came from. */
  sourceMessageId: string | undefined;
  /** Policy dead letters: the original payload. */
  data: string;
}

export interface ChaosStackOptions {
  dataDir: string;
  repoRoot: string;
  projectId: string;
  pubsubEmulatorHost: string;
  /** Per-run suffix of topic, subscription, dataset and bucket names. */
  suffix: string;
  allowedLatenessS: number;
  /** Redis AOF fsync policy (see README "Reliability"). */
  appendfsync: 'always' | 'everysec';
  /** BigQuery's own insertId de-duplication is best effort over about a minute. */
  insertIdWindowMs: number;
  log: (line: string) => void;
}

export interface ChaosStack {
  config: FleetConfig;
  env: Record<string, string>;
  pubsub: PubSub;
  storage: Storage;
  bigquery: BigQuery;
  /** A client of the stack's Redis for the suite's own reads (reconnects across restarts). */
  redisClient: Redis;
  faults: { bigquery: FaultInjector; gcs: FaultInjector };
  proxy: PushProxy;
  archiveWriters: ArchiveWriters;
  subscriptions: PipelineSubscriptions;
  deadLetters: DeadLetterRecord[];
  redisPid(): number;
  featurePid(): number;
  /** SIGKILL to redis-server, then a new one on the same port and data directory after `downMs`. */
  killAndRestartRedis(downMs: number): Promise<void>;
  /** SIGKILL to the feature function's process group, then a new one after `downMs`. */
  killAndRestartFeatureFunction(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const PROCESS_TELEMETRY = FUNCTIONS.find((f) => f.target === 'processTelemetry')!;

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const { dataDir, suffix } = options;
    const redisDir = join(dataDir, 'redis');
    let redis: RunningRedis = await startRedis({ dir: redisDir, appendfsync: options.appendfsync });
    stops.push(() => redis.stop());
    const faults = { bigquery: new FaultInjector({ seed: 11 }), gcs: new FaultInjector({ seed: 12 }) };
    const [gcs, bq]: [GcsStandin, BigQueryStandin] = await Promise.all([
      startGcsStandin({ root: join(dataDir, 'object-store'), faults: faults.gcs }),
      startBigQueryStandin({
        dbPath: join(dataDir, 'warehouse.duckdb'),
        defaultProjectId: options.projectId,
        insertIdWindowMs: options.insertIdWindowMs,
        faults: faults.bigquery,
      }),
    ]);
    stops.push(
      () => gcs.close(),
      () => bq.close(),
    );
    const env: Record<string, string> = {
      GOOGLE_CLOUD_PROJECT: options.projectId,
      REDIS_URL: redis.url,
      PUBSUB_EMULATOR_HOST: options.pubsubEmulatorHost,
      STORAGE_EMULATOR_HOST: gcs.url,
      BIGQUERY_API_ENDPOINT: bq.url,
      METADATA_SERVER_DETECTION: 'none',
      FEATURES_BUCKET: `chaos-${suffix}`,
      BIGQUERY_DATASET: `chaos_${suffix}`,
      TELEMETRY_TOPIC: `telemetry-raw-${suffix}`,
      DEAD_LETTER_TOPIC: `telemetry-dlq-${suffix}`,
      FEATURE_ROWS_TOPIC: `feature-rows-${suffix}`,
      ALERTS_TOPIC: `alerts-${suffix}`,
      ALLOWED_LATENESS_S: String(options.allowedLatenessS),
      LOG_LEVEL: 'warn',
    };
    const config = loadConfig(env);
    const pubsub = createPubSubClient(config, { authClient: new PassThroughClient() });
    stops.push(() => pubsub.close());
    const storage = createStorageClient(config);
    const bigquery = createBigQueryClient(config, { authClient: new PassThroughClient() });
    await createBigQueryFeatureSink(config, {}, bigquery).ensureTable();

    const logDir = join(dataDir, 'logs');
    const startFeature = () =>
      startFunction({ spec: PROCESS_TELEMETRY, repoRoot: options.repoRoot, logDir, env });
    let feature: RunningFunction = await startFeature();
    stops.push(() => feature.group.stop({ graceMs: 1_000 }));
    const proxy = new PushProxy(feature.url);
    const proxyUrl = await proxy.listen();
    stops.push(() => proxy.close());

    const subscriptions = await createPipelineResources({
      pubsub,
      storage,
      config: config,
      processTelemetryUrl: proxyUrl,
    });
    const archiveWriters = startArchiveWriters({
      pubsub,
      store: new GcsObjectStore(storage, config.featuresBucket),
      subscriptions: subscriptions.archives,
    });
    stops.push(() => archiveWriters.stop({ quietMs: 0 }));

    const deadLetters: DeadLetterRecord[] = [];
    const watch = pubsub.subscription(subscriptions.deadLetterWatch);
    watch.on('message', (message: Message) => {
      deadLetters.push({
        reason: message.attributes.reason,
        sourceMessageId: message.attributes.source_message_id,
        data: message.data.toString('utf8'),
      });
      message.ack();
    });
    watch.on('error', (error) => options.log(`dead-letter watch: ${(error as Error).message}`));
    stops.push(() => watch.close());

    const redisClient = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 20 });
    redisClient.on('error', () => {});
    stops.push(async () => redisClient.disconnect());

    return {
      config,
      env,
      pubsub,
      storage,
      bigquery,
      redisClient,
      faults,
      proxy,
      archiveWriters,
      subscriptions,
      deadLetters,
      redisPid: () => redis.pid,
      featurePid: () => feature.group.pid,
      async killAndRestartRedis(downMs) {
        process.kill(redis.pid, 'SIGKILL');
        await redis.stop(); // reaps the group; nothing left to signal
        await new Promise((resolve) => setTimeout(resolve, downMs));
        redis = await startRedis({ dir: redisDir, port: redis.port, appendfsync: options.appendfsync });
      },
      async killAndRestartFeatureFunction(downMs) {
        process.kill(-feature.group.pid, 'SIGKILL');
        await feature.group.stop();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        feature = await startFeature();
        proxy.retarget(feature.url);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
