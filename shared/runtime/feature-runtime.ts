/**
 * Composition root of the feature function: builds the services from config once per instance
 * (clients are reused across invocations, which is what lets concurrent invocations share a group
 * commit). Its entry point calls getFeatureRuntime() and nothing else. The online part (windows and
 * models) is online-runtime.ts, which the features API loads alone.
 */
import { createBigQueryFeatureSink } from '../adapters/bigquery-feature-sink.js';
import { DeadLetterQuarantine } from '../adapters/dead-letter-quarantine.js';
import { GcsLateArchive } from '../adapters/gcs-late-archive.js';
import { createStorageClient, GcsObjectStore } from '../adapters/gcs-object-store.js';
import { PubSubFeatureRowSink } from '../adapters/pubsub-feature-row-sink.js';
import { createPubSubClient, PubSubPublisher } from '../adapters/pubsub-publisher.js';
import { createRedisClient } from '../adapters/redis-client.js';
import { RedisRiskAlerts } from '../adapters/redis-risk-alerts.js';
import { type FleetConfig, loadConfig } from '../config.js';
import {
  type MessageOutcome,
  processTelemetryMessage,
  type TelemetryMessage,
} from '../features/feature-service.js';
import { FreshnessReport } from '../freshness/freshness-report.js';
import { GroupCommitSink } from './group-commit-sink.js';
import { createOnline, type OnlineRuntime } from './online-runtime.js';

export interface FeatureRuntime extends OnlineRuntime {
  processMessage(message: TelemetryMessage): Promise<MessageOutcome>;
}

function createFeature(config: FleetConfig): FeatureRuntime {
  const online = createOnline(config);
  const objects = new GcsObjectStore(createStorageClient(config), config.featuresBucket);
  // No client-side batching delay: the group commit has already gathered the flush.
  const publisher = new PubSubPublisher(createPubSubClient(config), { maxDelayMs: 0 });
  // A flush is one BigQuery insert and one feature-rows message; GCS gets the rows from that topic's
  // Cloud Storage subscription (shared/archive-subscriptions.ts), in objects of minutes, not flushes.
  const sink = new GroupCommitSink(
    [createBigQueryFeatureSink(config), new PubSubFeatureRowSink(publisher, config.topics.featureRows)],
    { maxRows: config.sink.flushMaxRows, maxMs: config.sink.flushMaxMs },
  );
  const deps = {
    windows: online.windows,
    sink,
    deadLetters: new DeadLetterQuarantine(publisher, config.topics.deadLetter, objects),
    lateArchive: new GcsLateArchive(objects),
    models: online.models,
    alerts: new RedisRiskAlerts(createRedisClient(config, online.logger), publisher, online.logger, {
      topic: config.topics.alerts,
      threshold: config.alerts.riskThreshold,
      episodeMs: config.alerts.episodeMs,
    }),
    freshness: new FreshnessReport(online.logger, { intervalMs: config.freshnessReportMs }),
    clock: Date.now,
    logger: online.logger,
    projectId: config.projectId,
    options: {
      maxFutureSkewMs: config.engine.maxFutureSkewMs,
      maxBatchReadings: config.limits.maxBatchReadings,
      maxMessageBytes: config.limits.maxMessageBytes,
    },
  };
  return { ...online, processMessage: (message) => processTelemetryMessage(deps, message) };
}

let feature: FeatureRuntime | undefined;

export async function getFeatureRuntime(): Promise<FeatureRuntime> {
  feature ??= createFeature(loadConfig());
  return feature;
}
