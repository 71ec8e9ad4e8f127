// `npm run bundle` as a deploy uses it: every folder under functions/ becomes one self-contained
// folder (index.js, the files its modules read at run time, a package.json whose only dependency is
// functions-framework), which the real functions-framework serves from outside the repository with
// nothing installed but the framework. The bundled processTelemetry applies a pushed reading in the
// test Redis, and the bundled featuresApi serves the row.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FRAMEWORK_MAIN,
  type FrameworkProcess,
  probeRequest,
  startFrameworkProcess,
} from '../../bench/cold-start.js';
import { FUNCTIONS, type FunctionSpec } from '../../local/servers/function-servers.js';
import { discoverFunctionFolders, FRAMEWORK_PACKAGE } from '../../scripts/function-bundles.js';
import {
  createBigQueryClient,
  createBigQueryFeatureSink,
} from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { createPubSubClient } from '../../shared/adapters/pubsub-publisher.js';
import { loadConfig } from '../../shared/config.js';
import { EXPECTATIONS_RELATIVE_PATH } from '../../shared/runtime/model-runtime.js';
import { functionEnv } from '../helpers/local-servers.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const folders = await discoverFunctionFolders(repoRoot);
const suffix = randomBytes(4).toString('hex');

let workDir: string;
let bundlesDir: string;
const running: FrameworkProcess[] = [];

function specFor(folder: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.folder === folder);
  if (spec === undefined) throw new Error(`functions/${folder} is not in local/servers/function-servers.ts`);
  return spec;
}

async function serveBundle(folder: string, env: Record<string, string>): Promise<FrameworkProcess> {
  const spec = specFor(folder);
  const started = await startFrameworkProcess({
    args: [
      FRAMEWORK_MAIN,
      `--target=${spec.target}`,
      `--signature-type=${spec.signature}`,
      `--source=${join(bundlesDir, folder, 'index.js')}`,
    ],
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...spec.env, ...env },
    probe: probeRequest(spec),
  });
  running.push(started);
  return started;
}

beforeAll(async () => {
  // Outside the repository: nothing resolves from its node_modules but what is installed here.
  workDir = await mkdtemp(join(tmpdir(), 'fleet-bundles-'));
  bundlesDir = join(workDir, 'bundles');
  await promisify(execFile)('npm', ['run', 'bundle', '--', '--out', bundlesDir], { cwd: repoRoot });
  // What Cloud Functions installs from the bundle's package.json: functions-framework alone.
  const framework = join(workDir, 'node_modules', FRAMEWORK_PACKAGE);
  await mkdir(dirname(framework), { recursive: true });
  await symlink(dirname(dirname(dirname(FRAMEWORK_MAIN))), framework, 'dir');
}, 180_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('npm run bundle', () => {
  it('bundles every folder under functions/ into index.js and a package.json that depends on functions-framework only', async () => {
    expect(folders.length).toBeGreaterThan(0);
    expect((await readdir(bundlesDir)).sort()).toEqual(folders);
    const rootManifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    for (const folder of folders) {
      const files = await readdir(join(bundlesDir, folder));
      expect(files).toContain('index.js');
      const manifest = JSON.parse(await readFile(join(bundlesDir, folder, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({ main: 'index.js', type: 'module', engines: { node: '22' } });
      expect(manifest.dependencies).toEqual({
        [FRAMEWORK_PACKAGE]: rootManifest.dependencies[FRAMEWORK_PACKAGE],
      });
    }
  });

  it('carries the Redis scripts and the expectations file that the modules read at run time', async () => {
    const same = async (bundled: string, source: string) =>
      expect(await readFile(join(bundlesDir, bundled), 'utf8')).toBe(
        await readFile(join(repoRoot, source), 'utf8'),
      );
    await same('process-telemetry/apply-readings.lua', 'shared/windows/apply-readings.lua');
    await same('ingest-gateway/token-bucket.lua', 'shared/adapters/token-bucket.lua');
    await same('ingest-gateway/reading-status.lua', 'shared/windows/reading-status.lua');
    await same(`trainer/${EXPECTATIONS_RELATIVE_PATH}`, EXPECTATIONS_RELATIVE_PATH);
    await same(`drift/${EXPECTATIONS_RELATIVE_PATH}`, EXPECTATIONS_RELATIVE_PATH);
  });

  it.each(folders)('%s loads under functions-framework and answers a request', async (folder) => {
    // Nothing listens there: the request must not need Redis, Pub/Sub, GCS or BigQuery.
    const closedPort = '9';
    const served = await serveBundle(folder, {
      GOOGLE_CLOUD_PROJECT: 'fleet-features-bundle',
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      PUBSUB_EMULATOR_HOST: `127.0.0.1:${closedPort}`,
      STORAGE_EMULATOR_HOST: `http://127.0.0.1:${closedPort}`,
      BIGQUERY_API_ENDPOINT: `http://127.0.0.1:${closedPort}`,
      INGEST_FLEET_SECRET: 'bundle-test-fleet-secret-0123456789abcdef0123456789',
      LOG_LEVEL: 'silent',
    });
    // HTTP functions: their own 404 for an unknown route; processTelemetry: the framework's.
    expect(served.firstStatus).toBe(404);
    await served.stop();
  });

  it('the bundled processTelemetry applies a pushed reading in Redis, and the bundled featuresApi serves its row', async () => {
    const env = functionEnv(`bundle-${suffix}`);
    const config = loadConfig(env);
    const pubsub = createPubSubClient(config);
    try {
      for (const topic of [config.topics.deadLetter, config.topics.featureRows, config.topics.alerts]) {
        await pubsub.createTopic(topic);
      }
    } finally {
      await pubsub.close();
    }
    await createStorageClient(config).createBucket(config.featuresBucket);
    await createBigQueryFeatureSink(config, {}, createBigQueryClient(config)).ensureTable();

    const [processTelemetry, featuresApi] = await Promise.all([
      serveBundle('process-telemetry', env),
      serveBundle('features-api', env),
    ]);
    const vehicle = `bundle-${suffix}`;
    const reading = {
      vehicle_id: vehicle,
      timestamp: new Date(Date.now() - 5_000).toISOString(),
      speed_kmh: 61.5,
      engine_temp_c: 92,
      gps_lat: 48.85,
      gps_lon: 2.35,
    };
    const push = await processTelemetry.send({
      method: 'POST',
      path: `/projects/${config.projectId}/topics/${config.topics.telemetry}`,
      json: {
        subscription: `projects/${config.projectId}/subscriptions/bundle-${suffix}`,
        message: {
          data: Buffer.from(JSON.stringify(reading)).toString('base64'),
          messageId: `bundle-${suffix}`,
          publishTime: new Date().toISOString(),
        },
      },
    });
    expect(push.status).toBeLessThan(300);

    const answer = await featuresApi.send({ path: `/v1/vehicles/${vehicle}/features` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ vehicle_id: vehicle, speed_kmh: 61.5, count_1m: 1 });
  });
});
