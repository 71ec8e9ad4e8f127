// Typed access, from inside a test, to the servers that test/global-setup.ts started for this run.

import { inject } from 'vitest';

export interface LocalServers {
  redisUrl: string;
  /** `127.0.0.1:PORT`: the value for PUBSUB_EMULATOR_HOST or the Pub/Sub client's apiEndpoint. */
  pubsubEmulatorHost: string;
  gcsStandinUrl: string;
  gcsStandinHost: string;
  bigqueryStandinUrl: string;
  projectId: string;
}

export function localServers(): LocalServers {
  return {
    redisUrl: inject('redisUrl'),
    pubsubEmulatorHost: inject('pubsubEmulatorHost'),
    gcsStandinUrl: inject('gcsStandinUrl'),
    gcsStandinHost: inject('gcsStandinHost'),
    bigqueryStandinUrl: inject('bigqueryStandinUrl'),
    projectId: inject('projectId'),
  };
}

/**
 * A function instance's environment on these servers, with a bucket, dataset and topics of its own
 * (named after `name`, e.g. `e2e-1a2b3c4d`), so test files that share the servers share no state.
 */
export function functionEnv(name: string): Record<string, string> {
  const local = localServers();
  return {
    GOOGLE_CLOUD_PROJECT: local.projectId,
    REDIS_URL: local.redisUrl,
    PUBSUB_EMULATOR_HOST: local.pubsubEmulatorHost,
    STORAGE_EMULATOR_HOST: local.gcsStandinUrl,
    BIGQUERY_API_ENDPOINT: local.bigqueryStandinUrl,
    FEATURES_BUCKET: name,
    BIGQUERY_DATASET: name.replaceAll('-', '_'),
    TELEMETRY_TOPIC: `telemetry-raw-${name}`,
    DEAD_LETTER_TOPIC: `telemetry-dlq-${name}`,
    FEATURE_ROWS_TOPIC: `feature-rows-${name}`,
    ALERTS_TOPIC: `alerts-${name}`,
    LOG_LEVEL: 'warn',
  };
}
