// Vitest global setup: checks the machine (installing redis-server if it can), then starts Redis, the
// Pub/Sub emulator and the GCS and BigQuery stand-ins ONCE per run, on free loopback ports, in one
// temporary directory, and hands their addresses to the tests (read them with localServers() from
// test/helpers/local-servers.ts). A server that cannot start fails the run: tests never skip for
// want of a server. Teardown stops every process group and removes the directory.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startBigQueryStandin } from '../local/bigquery-standin/index.js';
import { startGcsStandin } from '../local/gcs-standin/index.js';
import { ensurePrerequisites } from '../local/prerequisites.js';
import { ensureFunctionsBuilt } from '../local/servers/function-build.js';
import { startPubSubEmulator } from '../local/servers/pubsub-emulator.js';
import { startRedis } from '../local/servers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT` */
    redisUrl: string;
    /** `127.0.0.1:PORT`, the value for PUBSUB_EMULATOR_HOST */
    pubsubEmulatorHost: string;
    /** `http://127.0.0.1:PORT`, the GCS JSON API stand-in */
    gcsStandinUrl: string;
    /** `127.0.0.1:PORT`, the value for STORAGE_EMULATOR_HOST-style settings */
    gcsStandinHost: string;
    /** `http://127.0.0.1:PORT`, the BigQuery REST API stand-in */
    bigqueryStandinUrl: string;
    /** The project id every test uses against the emulator and stand-ins. */
    projectId: string;
  }
}

const PROJECT_ID = 'fleet-features-test';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensurePrerequisites({ install: true });
  // Once, before any test file: the stack tests serve the functions from dist/.
  await ensureFunctionsBuilt(join(import.meta.dirname, '..'));
  const dir = await mkdtemp(join(tmpdir(), 'fleet-features-test-'));
  const stops: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    await Promise.allSettled(stops.map((stop) => stop()));
    await rm(dir, { recursive: true, force: true });
  };

  // Started side by side (the JVM start dominates); whatever did start is stopped if another failed.
  const started = await Promise.allSettled([
    startRedis({ dir: join(dir, 'redis') }),
    startPubSubEmulator({ dir: join(dir, 'pubsub'), projectId: PROJECT_ID }),
    startGcsStandin({ root: join(dir, 'gcs') }),
    startBigQueryStandin({ dbPath: join(dir, 'bigquery', 'warehouse.duckdb'), defaultProjectId: PROJECT_ID }),
  ]);
  const [redis, pubsub, gcs, bigquery] = started;
  if (redis.status === 'fulfilled') stops.push(redis.value.stop);
  if (pubsub.status === 'fulfilled') stops.push(pubsub.value.stop);
  if (gcs.status === 'fulfilled') stops.push(() => gcs.value.close());
  if (bigquery.status === 'fulfilled') stops.push(() => bigquery.value.close());
  if (
    redis.status === 'rejected' ||
    pubsub.status === 'rejected' ||
    gcs.status === 'rejected' ||
    bigquery.status === 'rejected'
  ) {
    const failures = started.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    await teardown();
    throw failures.length === 1
      ? failures[0]
      : new AggregateError(failures, `${failures.length} local servers failed to start`);
  }

  project.provide('redisUrl', redis.value.url);
  project.provide('pubsubEmulatorHost', pubsub.value.host);
  project.provide('gcsStandinUrl', gcs.value.url);
  project.provide('gcsStandinHost', gcs.value.host);
  project.provide('bigqueryStandinUrl', bigquery.value.url);
  project.provide('projectId', PROJECT_ID);
  return teardown;
}
