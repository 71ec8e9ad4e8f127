// The trainer and drift functions as deployed: their entry points loaded into functions-framework
// (its testing helper serves the registered function on a free port), configured through the
// environment like any instance, against the BigQuery and GCS stand-ins. This is the HTTP contract
// the retraining workflow calls, answer shapes and error codes included.

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryFeatureSink, createBigQueryClient } from '../../shared/adapters/bigquery-feature-sink.js';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { loadConfig } from '../../shared/config.js';
import { createModelRuntime } from '../../shared/runtime/model-runtime.js';
import { localServers } from '../helpers/local-servers.js';
import { overheatingFleetRows } from '../helpers/overheating-fleet.js';
import { republishModel } from '../helpers/republish-model.js';

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 0, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const INTERVAL = { data_interval_start: iso(T0), data_interval_end: iso(T0 + 3 * HOUR) };

const servers: Server[] = [];
let trainerUrl: string;
let driftUrl: string;

async function serve(target: string): Promise<string> {
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON, read loosely by the assertions
type Answer = Record<string, any>;

async function call(
  url: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

beforeAll(async () => {
  const local = localServers();
  // What an instance's environment holds; the functions read it once, on their first request.
  Object.assign(process.env, {
    GOOGLE_CLOUD_PROJECT: local.projectId,
    BIGQUERY_API_ENDPOINT: local.bigqueryStandinUrl,
    STORAGE_EMULATOR_HOST: local.gcsStandinUrl,
    BIGQUERY_DATASET: `functions_${suffix}`,
    FEATURES_BUCKET: `retrain-functions-${suffix}`,
    LOG_LEVEL: 'warn',
  });
  const config = loadConfig();
  const sink = new BigQueryFeatureSink(createBigQueryClient(config), {
    dataset: config.bigquery.dataset,
    table: 'features',
  });
  await sink.ensureTable();
  await createStorageClient(config).createBucket(config.featuresBucket);
  await sink.write(
    await overheatingFleetRows({
      redisUrl: local.redisUrl,
      vehiclePrefix: `fn-${suffix}`,
      vehicles: 30,
      startMs: T0,
      durationS: 3 * 3600,
      ratePerVehicleHz: 0.05,
      seed: 601,
    }),
  );
  await import('../../functions/trainer/index.js');
  await import('../../functions/drift/index.js');
  trainerUrl = await serve('trainer');
  driftUrl = await serve('drift');
}, 180_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('trainer and drift functions over HTTP', () => {
  let version: string;

  it('drift before any promotion: not drifted, because there is no champion', async () => {
    const res = await call(driftUrl, '/v1/drift', {
      window_start: iso(T0 + 2 * HOUR),
      window_end: iso(T0 + 3 * HOUR),
    });
    expect(res).toEqual({
      status: 200,
      body: {
        champion_version: null,
        psi: {},
        max_psi: 0,
        threshold: 0.2,
        drifted: false,
        key_features: [],
        drifted_features: [],
        rows: 0,
        reason: 'no_champion',
      },
    });
  });

  it('POST /v1/quality answers the report', async () => {
    const res = await call(trainerUrl, '/v1/quality', INTERVAL);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ passed: true, failures: [] });
    expect(res.body.rows).toBeGreaterThan(5000);
  });

  it('POST /v1/train refuses an interval that fails data quality with 422 and the failed expectations', async () => {
    const res = await call(trainerUrl, '/v1/train', {
      data_interval_start: iso(T0 - 3 * HOUR),
      data_interval_end: iso(T0),
      run_id: 'empty-run',
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'quality_failed',
      rows: 0,
      failures: [{ expectation: 'volume.min_rows_per_hour', observed: 0, expected: '>= 1000' }],
    });
  });

  it('POST /v1/train trains and answers the version and its metrics', async () => {
    const res = await call(trainerUrl, '/v1/train', { ...INTERVAL, run_id: 'fn-run-1' });
    expect(res.status).toBe(200);
    version = res.body.version;
    expect(res.body).toEqual({
      version: expect.stringMatching(/^v20260601T030000Z-[0-9a-f]{8}$/),
      reused: false,
      metrics: {
        auc: expect.any(Number),
        precision: expect.any(Number),
        recall: expect.any(Number),
        brier: expect.any(Number),
        threshold: 0.5,
        baseline_auc: expect.any(Number),
        rows_train: expect.any(Number),
        rows_holdout: expect.any(Number),
      },
    });
    expect(res.body.metrics.auc).toBeGreaterThan(res.body.metrics.baseline_auc);
  }, 60_000);

  it('POST /v1/gate, then /v1/promote (idempotent), make it the champion', async () => {
    const gate = await call(trainerUrl, '/v1/gate', { version });
    expect(gate.status).toBe(200);
    expect(gate.body).toMatchObject({
      promote: true,
      champion_version: null,
      champion_auc: null,
      champion_generation: '0',
    });
    const promote = await call(trainerUrl, '/v1/promote', { version });
    expect(promote.status).toBe(200);
    expect(promote.body).toMatchObject({ promoted: true, champion: { version, history: [] } });
    expect((await call(trainerUrl, '/v1/promote', { version })).body).toMatchObject({
      promoted: true,
      champion: { version },
    });
  });

  it('two concurrent POST /v1/promote of gated challengers: one 200, the other 409 champion_moved', async () => {
    const registry = createModelRuntime(loadConfig()).registry;
    const challengers = ['v20260601T030000Z-0000000b', 'v20260601T030000Z-0000000c'];
    for (const challenger of challengers) {
      await republishModel(registry, version, challenger);
      expect((await call(trainerUrl, '/v1/gate', { version: challenger })).body).toMatchObject({
        promote: true,
        champion_version: version,
      });
    }
    const answers = await Promise.all(
      challengers.map((challenger) => call(trainerUrl, '/v1/promote', { version: challenger })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const conflict = answers.find((a) => a.status === 409)!;
    const winner = answers.find((a) => a.status === 200)!.body.champion.version;
    expect(conflict.body.error).toMatchObject({ code: 'champion_moved', champion_version: winner });
    expect((await registry.champion())!.pointer).toMatchObject({ version: winner, history: [version] });
  });

  it('POST /v1/drift compares a window with the champion’s baseline', async () => {
    const res = await call(driftUrl, '/v1/drift', {
      window_start: iso(T0 + 2 * HOUR),
      window_end: iso(T0 + 3 * HOUR),
    });
    expect(res.status).toBe(200);
    // The champion is whichever challenger won the race above.
    expect(res.body).toMatchObject({
      champion_version: expect.stringMatching(/^v20260601T030000Z-0000000[bc]$/),
      threshold: 0.2,
    });
    // The fleet starts with empty windows: the last hour's 1 h counts differ from the training
    // part's, so this window may well count as drifted; what matters here is the answer's shape.
    expect(res.body.drifted).toBe(res.body.drifted_features.length > 0);
    expect(Object.keys(res.body.psi).length).toBeGreaterThan(10);
    expect(res.body.key_features).toHaveLength(8);
    expect(res.body.max_psi).toBe(Math.max(0, ...res.body.key_features.map((f: string) => res.body.psi[f])));
  });

  it('POST /v1/record writes the run record; GET /v1/runs/{run_id} reads it', async () => {
    const record = await call(trainerUrl, '/v1/record', {
      run_id: 'fn-run-1',
      status: 'promoted',
      details: { version },
    });
    expect(record.body).toEqual({
      recorded: true,
      run_id: 'fn-run-1',
      object: `gs://retrain-functions-${suffix}/models/runs/fn-run-1.json`,
    });
    const read = await call(trainerUrl, '/v1/runs/fn-run-1');
    expect(read.body).toMatchObject({ run_id: 'fn-run-1', status: 'promoted', details: { version } });
    expect((await call(trainerUrl, '/v1/runs/never')).status).toBe(404);
  });

  it.each([
    ['/v1/gate', { version: 'v20260601T030000Z-00000000' }, 404, 'model_not_found'],
    ['/v1/promote', { version: 'v20260601T030000Z-00000000' }, 404, 'model_not_found'],
    ['/v1/train', { ...INTERVAL }, 400, 'invalid_request'],
    ['/v1/unknown', {}, 404, 'not_found'],
  ])('%s %j → %i %s', async (path, body, status, code) => {
    const res = await call(trainerUrl, path, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it.each([
    ['text/plain', '{"data_interval_start":'],
    ['application/json', '{"data_interval_start":'],
    ['application/json', '{"__proto__": {"x": 1}, "data_interval_start": [}'],
  ])(
    '400 invalid_json in JSON for a malformed %s body (the app parses it, never the framework)',
    async (type, body) => {
      for (const url of [trainerUrl, driftUrl]) {
        const res = await fetch(`${url}${url === trainerUrl ? '/v1/quality' : '/v1/drift'}`, {
          method: 'POST',
          headers: { 'content-type': type },
          body,
        });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const answer = (await res.json()) as Answer;
        expect(answer.error.code).toBe('invalid_json');
        expect(JSON.stringify(answer)).not.toMatch(/at \S+ \(|node_modules/);
      }
    },
  );

  it('refuses a body over 1 MiB unread with 413, in JSON', async () => {
    const res = await fetch(`${trainerUrl}/v1/quality`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `"${'x'.repeat(2 << 20)}"`,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Answer).error.code).toBeTypeOf('string');
  });
});
