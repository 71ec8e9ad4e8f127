import { z } from 'zod';
import { FleetError } from './errors.js';

/**
 * The one place that reads the environment. Every setting has a default that runs the local
 * stack; production sets the GCP ones (see README "Configuration").
 */
const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;
const bucketName = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
const topicName = /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
/** A fleet secret: unset, or at least 32 characters (hex or base64 of 16+ random bytes). */
const fleetSecret = optionalString.refine(
  (v) => v === undefined || v.length >= 32,
  'must be at least 32 characters',
);

const ConfigSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id')
    .default('fleet-features-local'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** REDIS_URL names one node of a Redis Cluster (Memorystore for Redis Cluster): `true`/`false`. */
  REDIS_CLUSTER: z.stringbool().default(false),
  FEATURES_BUCKET: z.string().regex(bucketName, 'must be a GCS bucket name').default('fleet-features-local'),
  BIGQUERY_DATASET: z.string().regex(identifier, 'must be a BigQuery dataset id').default('fleet_features'),
  BIGQUERY_FEATURES_TABLE: z.string().regex(identifier, 'must be a BigQuery table id').default('features'),
  BIGQUERY_LOCATION: z.string().default('US'),
  /** Set to the BigQuery stand-in's URL on the local stack; unset in Google Cloud. */
  BIGQUERY_API_ENDPOINT: optionalString,
  /** host:port of the GCS stand-in on the local stack; unset in Google Cloud. */
  STORAGE_EMULATOR_HOST: optionalString,
  /** host:port of the Pub/Sub emulator on the local stack; unset in Google Cloud. */
  PUBSUB_EMULATOR_HOST: optionalString,
  TELEMETRY_TOPIC: z.string().regex(topicName).default('telemetry-raw'),
  DEAD_LETTER_TOPIC: z.string().regex(topicName).default('telemetry-dlq'),
  /** Each group-commit flush publishes its rows here; a Cloud Storage subscription archives them. */
  FEATURE_ROWS_TOPIC: z.string().regex(topicName).default('feature-rows'),
  /** High-risk rows raise alerts here, once per vehicle episode. */
  ALERTS_TOPIC: z.string().regex(topicName).default('alerts'),
  ALERT_RISK_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.8),
  ALERT_EPISODE_S: positiveInt(900),
  /** How often the feature and online functions re-read the champion pointer (in the background). */
  MODEL_REFRESH_S: positiveInt(30),
  ALLOWED_LATENESS_S: positiveInt(600),
  MAX_FUTURE_SKEW_S: positiveInt(300),
  /**
   * A vehicle's state (windows, dedupe marks, latest vector, rows not yet durable) expires after
   * this long without readings. Dedupe itself follows event time, not this clock.
   */
  VEHICLE_IDLE_TTL_S: positiveInt(86_400),
  MAX_BATCH_READINGS: positiveInt(500),
  MAX_MESSAGE_BYTES: positiveInt(256 * 1024),
  SINK_FLUSH_MAX_ROWS: positiveInt(500),
  SINK_FLUSH_MAX_MS: positiveInt(10),
  /**
   * Ingest gateway (functions/ingest-gateway). Device keys are HMAC-SHA256(fleet secret, device id).
   * INGEST_FLEET_SECRET signs new keys; INGEST_FLEET_SECRET_PREVIOUS, while set, is accepted too (a
   * rotation). In Google Cloud both come from Secret Manager (README "Ingest gateway").
   */
  INGEST_FLEET_SECRET: fleetSecret,
  INGEST_FLEET_SECRET_PREVIOUS: fleetSecret,
  /** Per-device token bucket, in readings: refill rate per second and capacity (>= MAX_BATCH_READINGS). */
  INGEST_RATE_PER_S: z.coerce.number().positive().max(1_000_000).default(20),
  INGEST_BURST: positiveInt(1000),
  INGEST_MAX_BODY_BYTES: positiveInt(1024 * 1024),
  /** A signed request's X-Timestamp may differ from the gateway's clock by this much. */
  INGEST_SIGNATURE_MAX_SKEW_S: positiveInt(300),
  /** Client-side Pub/Sub batching delay, and the bound on one publish (its retries included). */
  INGEST_PUBLISH_MAX_DELAY_MS: z.coerce.number().int().min(0).max(1000).default(5),
  INGEST_PUBLISH_TIMEOUT_MS: positiveInt(10_000),
  /** `?wait=true`: how long to wait for the feature function, and how often to look. */
  INGEST_WAIT_TIMEOUT_MS: positiveInt(5_000),
  INGEST_WAIT_POLL_MS: positiveInt(10),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** The feature function logs its freshness histograms this often per instance (shared/freshness/). */
  FRESHNESS_REPORT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /** Model registry bucket (models/…); the features bucket when unset. */
  MODELS_BUCKET: z.string().regex(bucketName, 'must be a GCS bucket name').optional(),
  /** The prediction task: engine_temp_c above this within the horizon after a reading. */
  OVERHEAT_THRESHOLD_C: z.coerce.number().min(-50).max(200).default(105),
  OVERHEAT_HORIZON_S: z.coerce.number().int().positive().max(86_400).default(900),
  /** Promotion gate: the challenger's holdout AUC must reach this (and not be worse than the champion's). */
  MODEL_AUC_FLOOR: z.coerce.number().min(0).max(1).default(0.75),
  /** Risk at or above which the model calls an overheat (precision and recall are reported there). */
  MODEL_DECISION_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.5),
  /** The last part of the data interval held out for evaluation. */
  MODEL_HOLDOUT_FRACTION: z.coerce.number().gt(0).lt(1).default(0.2),
  /** Training sets larger than this are sampled (every k-th reading of each vehicle). */
  MODEL_MAX_TRAINING_ROWS: positiveInt(100_000),
  /** Drift: population stability index above this on any key feature means drifted. */
  DRIFT_PSI_THRESHOLD: z.coerce.number().positive().default(0.2),
  /** Data-quality expectations (YAML); workflows/expectations.yaml of the deployed source when unset. */
  EXPECTATIONS_FILE: optionalString,
  /** Retraining runs (npm run retrain / schedule): the trainer and drift functions' URLs for the local runner. */
  TRAINER_URL: optionalString,
  DRIFT_URL: optionalString,
  /** The deployed retraining workflow that `npm run retrain -- --cloud` starts executions of. */
  WORKFLOWS_LOCATION: z
    .string()
    .regex(/^[a-z]+-[a-z]+\d+$/, 'must be a Google Cloud region')
    .default('us-central1'),
  RETRAIN_WORKFLOW: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'must be a workflow id')
    .default('retrain'),
});

/** Every environment variable the functions read (infra sets them by these names). */
export type ConfigVariable = keyof z.input<typeof ConfigSchema>;
export const CONFIG_VARIABLES = Object.keys(ConfigSchema.shape) as ConfigVariable[];

export interface FleetConfig {
  projectId: string;
  redisUrl: string;
  redisCluster: boolean;
  featuresBucket: string;
  bigquery: { dataset: string; featuresTable: string; location: string; apiEndpoint: string | undefined };
  storageEmulatorHost: string | undefined;
  pubsubEmulatorHost: string | undefined;
  topics: { telemetry: string; deadLetter: string; featureRows: string; alerts: string };
  alerts: { riskThreshold: number; episodeMs: number };
  engine: {
    allowedLatenessMs: number;
    maxFutureSkewMs: number;
    vehicleIdleTtlS: number;
  };
  limits: { maxBatchReadings: number; maxMessageBytes: number };
  sink: { flushMaxRows: number; flushMaxMs: number };
  ingress: {
    /** Accepted fleet secrets, the current one first; empty when unset (the gateway refuses to start). */
    fleetSecrets: string[];
    ratePerS: number;
    burst: number;
    maxBodyBytes: number;
    signatureMaxSkewMs: number;
    publishMaxDelayMs: number;
    publishTimeoutMs: number;
    waitTimeoutMs: number;
    waitPollMs: number;
  };
  logLevel: string;
  freshnessReportMs: number;
  model: {
    bucket: string;
    overheatThresholdC: number;
    horizonMs: number;
    aucFloor: number;
    decisionThreshold: number;
    holdoutFraction: number;
    maxTrainingRows: number;
    driftPsiThreshold: number;
    expectationsFile: string | undefined;
    refreshMs: number;
  };
  retraining: {
    trainerUrl: string | undefined;
    driftUrl: string | undefined;
    workflowsLocation: string;
    workflow: string;
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): FleetConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new FleetError('config_invalid', `invalid configuration: ${problems}`, {
      metadata: { issues: parsed.error.issues },
    });
  }
  const c = parsed.data;
  return {
    projectId: c.GOOGLE_CLOUD_PROJECT,
    redisUrl: c.REDIS_URL,
    redisCluster: c.REDIS_CLUSTER,
    featuresBucket: c.FEATURES_BUCKET,
    bigquery: {
      dataset: c.BIGQUERY_DATASET,
      featuresTable: c.BIGQUERY_FEATURES_TABLE,
      location: c.BIGQUERY_LOCATION,
      apiEndpoint: c.BIGQUERY_API_ENDPOINT,
    },
    storageEmulatorHost: c.STORAGE_EMULATOR_HOST,
    pubsubEmulatorHost: c.PUBSUB_EMULATOR_HOST,
    topics: {
      telemetry: c.TELEMETRY_TOPIC,
      deadLetter: c.DEAD_LETTER_TOPIC,
      featureRows: c.FEATURE_ROWS_TOPIC,
      alerts: c.ALERTS_TOPIC,
    },
    alerts: { riskThreshold: c.ALERT_RISK_THRESHOLD, episodeMs: c.ALERT_EPISODE_S * 1000 },
    engine: {
      allowedLatenessMs: c.ALLOWED_LATENESS_S * 1000,
      maxFutureSkewMs: c.MAX_FUTURE_SKEW_S * 1000,
      vehicleIdleTtlS: c.VEHICLE_IDLE_TTL_S,
    },
    limits: { maxBatchReadings: c.MAX_BATCH_READINGS, maxMessageBytes: c.MAX_MESSAGE_BYTES },
    sink: { flushMaxRows: c.SINK_FLUSH_MAX_ROWS, flushMaxMs: c.SINK_FLUSH_MAX_MS },
    ingress: {
      fleetSecrets: [c.INGEST_FLEET_SECRET, c.INGEST_FLEET_SECRET_PREVIOUS].filter(
        (secret): secret is string => secret !== undefined,
      ),
      ratePerS: c.INGEST_RATE_PER_S,
      burst: c.INGEST_BURST,
      maxBodyBytes: c.INGEST_MAX_BODY_BYTES,
      signatureMaxSkewMs: c.INGEST_SIGNATURE_MAX_SKEW_S * 1000,
      publishMaxDelayMs: c.INGEST_PUBLISH_MAX_DELAY_MS,
      publishTimeoutMs: c.INGEST_PUBLISH_TIMEOUT_MS,
      waitTimeoutMs: c.INGEST_WAIT_TIMEOUT_MS,
      waitPollMs: c.INGEST_WAIT_POLL_MS,
    },
    logLevel: c.LOG_LEVEL,
    freshnessReportMs: c.FRESHNESS_REPORT_MS,
    model: {
      bucket: c.MODELS_BUCKET ?? c.FEATURES_BUCKET,
      overheatThresholdC: c.OVERHEAT_THRESHOLD_C,
      horizonMs: c.OVERHEAT_HORIZON_S * 1000,
      aucFloor: c.MODEL_AUC_FLOOR,
      decisionThreshold: c.MODEL_DECISION_THRESHOLD,
      holdoutFraction: c.MODEL_HOLDOUT_FRACTION,
      maxTrainingRows: c.MODEL_MAX_TRAINING_ROWS,
      driftPsiThreshold: c.DRIFT_PSI_THRESHOLD,
      expectationsFile: c.EXPECTATIONS_FILE,
      refreshMs: c.MODEL_REFRESH_S * 1000,
    },
    retraining: {
      trainerUrl: c.TRAINER_URL,
      driftUrl: c.DRIFT_URL,
      workflowsLocation: c.WORKFLOWS_LOCATION,
      workflow: c.RETRAIN_WORKFLOW,
    },
  };
}
