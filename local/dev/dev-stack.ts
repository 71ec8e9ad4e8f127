// The running part of `npm run dev`, without the simulator: Redis, the Pub/Sub emulator, the GCS and
// BigQuery stand-ins, every function under functions-framework, the topics, push subscriptions and
// bucket, the archive writers in place of the Cloud Storage subscriptions, and
// `<data-dir>/stack.json` naming all of it. Tests start it the same way.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import {
  createBigQueryClient,
  createBigQueryFeatureSink,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { type FleetConfig, loadConfig } from '../../shared/config.js';
import { type Dashboard, startDashboard } from '../dashboard/dashboard-server.js';
import { type ArchiveWriters, startArchiveWriters } from '../servers/cloud-storage-subscription-writer.js';
import { FUNCTIONS, type RunningFunction, startFunction } from '../servers/function-servers.js';
import { type LocalStack, startLocalStack } from '../servers/local-stack.js';
import { createPipelineResources, type PipelineSubscriptions } from '../servers/pipeline-resources.js';
import { vehicleIdFor } from '../simulator/device-simulator.js';
import { LOCAL_FLEET_SECRET } from '../simulator/gateway-publisher.js';
import type { PipelineHealthSource } from './pipeline-health.js';
import { describeStack, type StackEndpoints } from './stack-endpoints.js';
import { writeStackFile } from './stack-file.js';

export const DEV_PROJECT_ID = 'fleet-features-local';

export interface DevStack {
  stack: LocalStack;
  config: FleetConfig;
  pubsub: PubSub;
  storage: Storage;
  bigquery: BigQuery;
  functions: RunningFunction[];
  featuresApi: RunningFunction;
  subscriptions: PipelineSubscriptions;
  archiveWriters: ArchiveWriters;
  /** The local web page (local/dashboard/); it reads `health` on every request. */
  dashboard: Dashboard;
  /** The pipeline health sampler, once one runs; until then the dashboard shows no health. */
  health: PipelineHealthSource | undefined;
  endpoints: StackEndpoints;
  /** `<data-dir>/stack.json` */
  stackFile: string;
}

export async function startDevStack(options: {
  /** An existing, empty directory. */
  dataDir: string;
  repoRoot: string;
  allowedLatenessS: number;
  log: (line: string) => void;
  /** Receives each started part's stop, in start order; the caller stops them in reverse. */
  cleanups: (() => Promise<unknown>)[];
  projectId?: string;
  /** The dashboard's port on 127.0.0.1; 0 or absent: a free one. */
  dashboardPort?: number;
}): Promise<DevStack> {
  const { dataDir, log, cleanups } = options;
  const stack = await startLocalStack({
    dataDir,
    projectId: options.projectId ?? DEV_PROJECT_ID,
    onProgress: log,
  });
  cleanups.push(() => stack.stop());
  // INFO, as deployed: the feature function's freshness lines (once a second here, for the
  // dashboard) and sampled traces are INFO entries.
  const env = {
    ...stack.env,
    ALLOWED_LATENESS_S: String(options.allowedLatenessS),
    LOG_LEVEL: 'info',
    FRESHNESS_REPORT_MS: '1000',
  };
  const config = loadConfig(env);
  // The adapters give the emulator and the stand-ins clients that send no credentials and never
  // probe the GCE metadata server (no MetadataLookupWarning).
  const pubsub = createPubSubClient(config);
  cleanups.push(() => pubsub.close());
  const storage = createStorageClient(config);
  const bigquery = createBigQueryClient(config);

  log('creating the features table, bucket, topics and push subscriptions');
  await createBigQueryFeatureSink(config, {}, bigquery).ensureTable();
  const functions: RunningFunction[] = await Promise.all(
    FUNCTIONS.map((spec) =>
      startFunction({ spec, repoRoot: options.repoRoot, logDir: join(dataDir, 'logs'), env }).then((f) => {
        cleanups.push(() => f.group.stop());
        return f;
      }),
    ),
  );
  const processTelemetry = functions.find((f) => f.target === 'processTelemetry')!;
  const featuresApi = functions.find((f) => f.target === 'featuresApi')!;
  const subscriptions = await createPipelineResources({
    pubsub,
    storage,
    config: config,
    processTelemetryUrl: processTelemetry.url,
  });
  const archiveWriters = startArchiveWriters({
    pubsub,
    store: new GcsObjectStore(storage, config.featuresBucket),
    subscriptions: subscriptions.archives,
    onError: (error) => log(`archive writer: ${(error as Error).message}`),
  });
  cleanups.push(() => archiveWriters.stop({ quietMs: 0 }));
  for (const f of functions)
    log(`${f.target} served by functions-framework at ${f.url} (log ${f.group.logPath})`);
  let health: PipelineHealthSource | undefined;
  const dashboard = await startDashboard({
    port: options.dashboardPort ?? 0,
    config,
    bigquery,
    featuresApiUrl: featuresApi.url,
    health: () => health,
  });
  cleanups.push(() => dashboard.stop());
  log(`dashboard at ${dashboard.url}`);

  const endpoints = describeStack({
    startedAt: new Date(),
    pid: process.pid,
    dataDir,
    config,
    stack,
    functions,
    subscriptions,
    dashboardUrl: dashboard.url,
    fleetSecret: LOCAL_FLEET_SECRET,
    env,
    sampleVehicleId: vehicleIdFor(0),
  });
  const stackFile = await writeStackFile(dataDir, endpoints);
  // Gone with the stack: a tool must not find the ports of a stopped one.
  cleanups.push(() => rm(stackFile, { force: true }));
  return {
    get health() {
      return health;
    },
    set health(source) {
      health = source;
    },
    dashboard,
    stack,
    config,
    pubsub,
    storage,
    bigquery,
    functions,
    featuresApi,
    subscriptions,
    archiveWriters,
    endpoints,
    stackFile,
  };
}
