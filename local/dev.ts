// `npm run dev`: the whole pipeline on one machine. Starts Redis, the Pub/Sub emulator, the GCS and
// BigQuery stand-ins and every function under functions-framework; wires push subscriptions from
// the emulator to the functions; runs the archive writers in place of the Cloud Storage
// subscriptions; runs the device simulator; shows progress; prints what landed where; stops
// everything (also on Ctrl-C).

import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createBigQueryClient, createBigQueryFeatureSink } from '../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient, GcsObjectStore } from '../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../shared/adapters/pubsub-publisher.js';
import { loadConfig } from '../shared/config.js';
import { startArchiveWriters } from './cloud-storage-subscription-writer.js';
import { type DevOptions, parseDevOptions } from './dev-options.js';
import { DevProgress } from './dev-progress.js';
import { collectSummary, printSummary } from './dev-summary.js';
import { FUNCTIONS, type RunningFunction, startFunction } from './function-servers.js';
import { fleetTopic } from './gateway-publisher.js';
import { startLocalStack } from './local-stack.js';
import { createPipelineResources } from './pipeline-resources.js';
import { ensurePrerequisites } from './prerequisites.js';
import { publishSimulatedFleet } from './simulated-publisher.js';

const repoRoot = resolve(import.meta.dirname, '..');
const cleanups: (() => Promise<unknown>)[] = [];
let stopping = false;

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}

async function main(options: DevOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`[dev] ${line}\n`);
  await ensurePrerequisites({ install: true });
  const dataDir = resolve(options.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });

  const stack = await startLocalStack({ dataDir, projectId: 'fleet-features-local', onProgress: log });
  cleanups.push(() => stack.stop());
  const env = {
    ...stack.env,
    ALLOWED_LATENESS_S: String(options.allowedLatenessS),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const pubsub = createPubSubClient(config);
  cleanups.push(() => pubsub.close());
  const storage = createStorageClient(config);
  const bigquery = createBigQueryClient(config);

  log('creating the features table, bucket, topics and push subscriptions');
  await createBigQueryFeatureSink(config, {}, bigquery).ensureTable();
  const functions: RunningFunction[] = await Promise.all(
    FUNCTIONS.map((spec) => startFunction({ spec, repoRoot, logDir: join(dataDir, 'logs'), env })),
  );
  for (const f of functions) cleanups.push(() => f.group.stop());
  const processTelemetry = functions.find((f) => f.target === 'processTelemetry')!;
  const featuresApi = functions.find((f) => f.target === 'featuresApi')!;
  const subscriptions = await createPipelineResources({
    pubsub,
    storage,
    projectId: config.projectId,
    bucket: config.featuresBucket,
    telemetryTopic: config.topics.telemetry,
    deadLetterTopic: config.topics.deadLetter,
    featureRowsTopic: config.topics.featureRows,
    alertsTopic: config.topics.alerts,
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

  const progress = new DevProgress({
    bigquery,
    storage,
    config,
    pubsub,
    watchSubscription: subscriptions.deadLetterWatch,
    archivePending: () => ({
      features: archiveWriters.features.stats().pendingMessages,
      raw: archiveWriters.raw.stats().pendingMessages,
    }),
  });
  cleanups.push(() => progress.stop());
  progress.start();
  const published = await publishSimulatedFleet({
    topic: fleetTopic(pubsub, config.topics.telemetry, functions, options.viaGateway),
    options,
    onPublished: (readings) => progress.published(readings),
    shouldStop: () => stopping,
  });
  log('devices stopped; waiting for the pipeline to drain');
  await progress.waitForDrain({ expectedRows: published.expectedRows, timeoutMs: 60_000 });
  // A short run ends long before an archive object would be cut (minutes or many MB): write the
  // open ones now, as Pub/Sub would when their max duration passes.
  log("writing the archives' open objects");
  await archiveWriters.flush();
  progress.stop();

  const summary = await collectSummary({
    bigquery,
    storage,
    config,
    published,
    progress,
    featuresApi,
    archives: subscriptions.archives,
    archiveWriters,
  });
  printSummary(summary, {
    dataDir,
    warehousePath: stack.warehousePath,
    objectStoreRoot: stack.objectStoreRoot,
  });
  if (options.keep && !stopping) {
    log(
      `servers keep running (Ctrl-C to stop): features API ${featuresApi.url}/v1/vehicles/veh-00001/features`,
    );
    await new Promise<void>((resolveKeep) => process.once('SIGINT', () => resolveKeep()));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n[dev] ${signal}: stopping everything\n`);
    void stopAll().then(() => process.exit(130));
  });
}

let options: DevOptions;
try {
  options = parseDevOptions(process.argv.slice(2));
} catch (error) {
  console.error(`npm run dev: ${(error as Error).message}`);
  process.exit(2);
}
main(options)
  .then(() => stopAll())
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    console.error(`[dev] failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exit(1);
  });
