// Real-time scoring (issue 15, item 7): the feature function scores every row with the champion it
// loads from GCS, a retried row keeps the model it was first scored with, the online vector is
// scored too, and high-risk rows raise one alert per vehicle episode. Real Redis, the GCS stand-in.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageClient } from '../../shared/adapters/gcs-object-store.js';
import { GcsVersionedObjectStore } from '../../shared/adapters/gcs-versioned-object-store.js';
import { RedisRiskAlerts } from '../../shared/adapters/redis-risk-alerts.js';
import { RedisWindowStore } from '../../shared/adapters/redis-window-store.js';
import { computeFeatureRows } from '../../shared/features/feature-engine.js';
import { scoreRows } from '../../shared/features/risk-scoring.js';
import { onlineFeaturesRoutes } from '../../shared/http/online-features-routes.js';
import { createLogger } from '../../shared/logger.js';
import { MODEL_FORMAT } from '../../shared/model/model-artifact.js';
import type { MessagePublisher } from '../../shared/ports/dead-letter.js';
import { ChampionCache } from '../../shared/retraining/champion-cache.js';
import { CHAMPION_OBJECT, ModelRegistry } from '../../shared/retraining/model-registry.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import type { TelemetryReading } from '../../shared/telemetry/telemetry-reading.js';
import { localServers } from '../helpers/local-servers.js';

const logger = createLogger({ level: 'silent' });
const T0 = Date.UTC(2026, 2, 1, 8);
const V1 = 'v20260301T000000Z-00000001';
const V2 = 'v20260302T000000Z-00000002';
const bucket = `scoring-${Date.now().toString(36)}`;

let redis: Redis;
let windows: RedisWindowStore;
let objects: GcsVersionedObjectStore;
let models: ChampionCache;

/** A model whose risk rises with the engine temperature: sigmoid(2 * (temp - 100) / 5). */
function artifact(version: string, weight: number) {
  const at = new Date(T0).toISOString();
  return {
    format: MODEL_FORMAT,
    version,
    created_at: at,
    task: { name: 'overheat', threshold_c: 105, horizon_s: 900 },
    features: ['engine_temp_c'],
    standardization: { mean: [100], scale: [5] },
    intercept: 0,
    weights: [weight],
    decision_threshold: 0.5,
    training: {
      run_id: 'test',
      data_interval_start: at,
      data_interval_end: at,
      train_end: at,
      holdout_start: at,
      rows_train: 1,
      rows_holdout: 1,
      stride: 1,
    },
  };
}

async function put(name: string, document: unknown): Promise<void> {
  await objects.write(name, Buffer.from(JSON.stringify(document)), { contentType: 'application/json' });
}

async function promote(version: string): Promise<void> {
  await put(CHAMPION_OBJECT, {
    version,
    promoted_at: new Date().toISOString(),
    decision_id: 'test',
    history: [],
  });
  await models.refresh();
}

function reading(vehicle: string, s: number, temp: number): TelemetryReading {
  return {
    event_id: `${vehicle}-${s}`,
    vehicle_id: vehicle,
    event_ts_ms: T0 + s * 1000,
    speed_kmh: 60,
    engine_temp_c: temp,
    gps_lat: 48,
    gps_lon: 11 + s * 1e-4,
    fuel_level_pct: null,
    rpm: 2000,
    extra: {},
  } as TelemetryReading;
}

async function scoredRows(readings: TelemetryReading[], nowMs: number): Promise<FeatureRow[]> {
  const { rows } = await computeFeatureRows(windows, readings, nowMs, logger, models.currentVersion());
  await scoreRows(rows, models);
  return rows;
}

beforeAll(async () => {
  const servers = localServers();
  redis = new Redis(servers.redisUrl, { maxRetriesPerRequest: 1 });
  windows = new RedisWindowStore(redis, { allowedLatenessMs: 600_000, vehicleIdleTtlS: 3600 });
  const storage = createStorageClient({
    projectId: servers.projectId,
    storageEmulatorHost: servers.gcsStandinUrl,
  });
  await storage.createBucket(bucket);
  objects = new GcsVersionedObjectStore(storage, bucket);
  models = new ChampionCache(new ModelRegistry(objects), { refreshMs: 60_000, clock: Date.now, logger });
  await put(`models/${V1}/model.json`, artifact(V1, 2));
  await put(`models/${V2}/model.json`, artifact(V2, -2));
});

afterAll(async () => {
  await redis.quit();
});

describe('scoring with the champion', () => {
  it('leaves rows unscored while there is no champion, and nothing fails', async () => {
    await models.refresh();
    expect(models.currentVersion()).toBeNull();
    const [row] = await scoredRows([reading('score-none', 0, 110)], T0 + 1000);
    expect(row).toMatchObject({ model_version: null, risk_score: null });
  });

  it('scores every new row with the promoted champion', async () => {
    await promote(V1);
    const rows = await scoredRows([reading('score-a', 0, 90), reading('score-a', 1, 110)], T0 + 2000);
    expect(rows.map((r) => r.model_version)).toEqual([V1, V1]);
    expect(rows[0]!.risk_score).toBeCloseTo(1 / (1 + Math.exp(4)), 6);
    expect(rows[1]!.risk_score).toBeCloseTo(1 / (1 + Math.exp(-4)), 6);
  });

  it('rescores a retried row with the model it was first scored with, even after a promotion', async () => {
    await promote(V1);
    const first = await scoredRows([reading('score-retry', 0, 104)], T0 + 1000);
    await promote(V2);
    const retried = await scoredRows([reading('score-retry', 0, 104)], T0 + 5000);
    expect(retried).toEqual(first);
    const fresh = await scoredRows([reading('score-retry', 1, 104)], T0 + 6000);
    expect(fresh[0]!.model_version).toBe(V2);
  });

  it('scores the online vector with the current champion', async () => {
    await promote(V1);
    await scoredRows([reading('score-online', 0, 110)], T0 + 1000);
    const app = onlineFeaturesRoutes(async () => ({ windows, logger, models }));
    const row = (await (await app.request('/v1/vehicles/score-online/features')).json()) as FeatureRow;
    expect(row.model_version).toBe(V1);
    expect(row.risk_score).toBeCloseTo(1 / (1 + Math.exp(-4)), 6);
  });
});

describe('risk alerts', () => {
  it('raises one alert per vehicle episode, and again after the episode ends', async () => {
    const published: { topic: string; data: Record<string, unknown> }[] = [];
    const publisher: MessagePublisher = {
      publish: async (topic, data) => {
        published.push({ topic, data: JSON.parse(data.toString('utf8')) as Record<string, unknown> });
        return String(published.length);
      },
    };
    const alerts = new RedisRiskAlerts(redis, publisher, logger, {
      topic: 'alerts',
      threshold: 0.8,
      episodeMs: 300,
    });
    await promote(V1);
    const hot = await scoredRows([reading('alert-a', 0, 112), reading('alert-a', 1, 113)], T0 + 2000);
    const cool = await scoredRows([reading('alert-b', 0, 90)], T0 + 2000);
    await alerts.raise([...hot, ...cool]);
    await alerts.raise(await scoredRows([reading('alert-a', 2, 114)], T0 + 3000));
    expect(published.map((p) => [p.topic, p.data.vehicle_id, p.data.event_id])).toEqual([
      ['alerts', 'alert-a', 'alert-a-0'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await alerts.raise(await scoredRows([reading('alert-a', 3, 114)], T0 + 4000));
    expect(published.map((p) => p.data.event_id)).toEqual(['alert-a-0', 'alert-a-3']);
  });
});
