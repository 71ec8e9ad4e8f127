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

const ConfigSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id')
    .default('fleet-features-local'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
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
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface FleetConfig {
  projectId: string;
  redisUrl: string;
  featuresBucket: string;
  bigquery: { dataset: string; featuresTable: string; location: string; apiEndpoint: string | undefined };
  storageEmulatorHost: string | undefined;
  pubsubEmulatorHost: string | undefined;
  topics: { telemetry: string; deadLetter: string; featureRows: string };
  engine: {
    allowedLatenessMs: number;
    maxFutureSkewMs: number;
    vehicleIdleTtlS: number;
  };
  limits: { maxBatchReadings: number; maxMessageBytes: number };
  sink: { flushMaxRows: number; flushMaxMs: number };
  logLevel: string;
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
    },
    engine: {
      allowedLatenessMs: c.ALLOWED_LATENESS_S * 1000,
      maxFutureSkewMs: c.MAX_FUTURE_SKEW_S * 1000,
      vehicleIdleTtlS: c.VEHICLE_IDLE_TTL_S,
    },
    limits: { maxBatchReadings: c.MAX_BATCH_READINGS, maxMessageBytes: c.MAX_MESSAGE_BYTES },
    sink: { flushMaxRows: c.SINK_FLUSH_MAX_ROWS, flushMaxMs: c.SINK_FLUSH_MAX_MS },
    logLevel: c.LOG_LEVEL,
  };
}
