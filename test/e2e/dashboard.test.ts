// The dashboard in a real browser: a dev stack started as `npm run dev` starts it, simulated
// vehicles streaming readings, the page opened in headless Chromium (Debian's package, installed by
// the prerequisites step). While readings flow the page's health counters move; once they are in, a
// vehicle's numbers on the page are the features API's, its charts hold its rows from the
// warehouse, and the table sorts. A screenshot of the page is saved under test-output/.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_COLUMNS, formatCell } from '../../local/dashboard/page/cell-format.js';
import { parseDevOptions } from '../../local/dev/dev-options.js';
import type { DevProgress } from '../../local/dev/dev-progress.js';
import { type DevStack, startDevStack } from '../../local/dev/dev-stack.js';
import { startStackHealth } from '../../local/dev/stack-health.js';
import { findChromium } from '../../local/prerequisites.js';
import { vehicleIdFor } from '../../local/simulator/device-simulator.js';
import { type PublishedFleet, publishSimulatedFleet } from '../../local/simulator/simulated-publisher.js';
import { GcsVersionedObjectStore } from '../../shared/adapters/gcs-versioned-object-store.js';
import { identityViewOf } from '../../shared/model/features-by-identity.js';
import { MODEL_FORMAT } from '../../shared/model/model-artifact.js';
import { CHAMPION_OBJECT } from '../../shared/retraining/model-registry.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { waitUntil } from '../helpers/wait-until.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const SCREENSHOT = join(repoRoot, 'test-output', 'dashboard.png');
const VEHICLES = 3;
const SPEEDUP = 5;
/** A vehicle running hot: its readings are temperature anomalies. */
const hotVehicle = 'veh-hot-01';
const MODEL_VERSION = 'v20260301T000000Z-00000001';
const vehicle = vehicleIdFor(0);

const cleanups: (() => Promise<unknown>)[] = [];
let dev: DevStack;
let browser: BrowserContext;
let page: Page;
let progress: DevProgress;
let publishing: Promise<PublishedFleet>;

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fleet-features-dashboard-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  dev = await startDevStack({ dataDir, repoRoot, allowedLatenessS: 600, log: () => {}, cleanups });
  // Promoted before any reading: the functions load the champion on their first request.
  await promoteTemperatureModel();
  // Health sampled as `npm run dev` samples it: what landed, and the feature function's freshness lines.
  ({ progress } = startStackHealth(dev, { eventClockSpeedup: SPEEDUP, bar: false, cleanups }));

  // `npm test` installs it (local/prerequisites.ts --browser); a run without it fails here, loudly.
  const chromiumPath = findChromium();
  if (chromiumPath === undefined) {
    throw new Error(
      "no chromium on PATH: run `npm run prerequisites -- --browser` (Debian's chromium package)",
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'fleet-features-chromium-'));
  cleanups.push(() => rm(profile, { recursive: true, force: true }));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanups.push(() => browser.close());
  page = browser.pages()[0] ?? (await browser.newPage());
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}, 60_000);

/** The number a health tile shows (the first one, for tiles showing two). */
async function tile(metric: string): Promise<number> {
  const text = await page.locator(`[data-metric="${metric}"] .value`).textContent();
  return Number.parseFloat(text ?? '');
}

async function distinctRows(): Promise<number> {
  const { projectId, bigquery } = dev.config;
  const [rows] = await dev.bigquery.query({
    query: `SELECT COUNT(DISTINCT event_id) AS n FROM \`${projectId}.${bigquery.dataset}.${bigquery.featuresTable}\``,
  });
  return Number((rows[0] as { n: number }).n);
}

async function apiVector(vehicleId: string): Promise<FeatureRow> {
  const response = await fetch(`${dev.featuresApi.url}/v1/vehicles/${vehicleId}/features`);
  expect(response.status).toBe(200);
  return (await response.json()) as FeatureRow;
}

describe('the dashboard in headless Chromium', () => {
  it('shows health counters moving while simulated vehicles stream readings', async () => {
    const options = parseDevOptions([
      '--vehicles',
      String(VEHICLES),
      '--duration',
      '12s',
      '--speedup',
      String(SPEEDUP),
      '--upload-every',
      '2',
    ]);
    publishing = publishSimulatedFleet({
      topic: dev.pubsub.topic(dev.config.topics.telemetry),
      options,
      onPublished: (readings, expectedRows) => progress.published(readings, expectedRows),
      shouldStop: () => false,
    });
    const now = Date.now();
    const hot = [2, 1, 0].map((secondsAgo) => ({
      vehicle_id: hotVehicle,
      timestamp: new Date(now - secondsAgo * 1000).toISOString(),
      speed_kmh: 80,
      engine_temp_c: 110 + secondsAgo,
      gps_lat: 48.1,
      gps_lon: 11.5,
    }));
    await dev.pubsub
      .topic(dev.config.topics.telemetry)
      .publishMessage({ data: Buffer.from(JSON.stringify({ readings: hot })) });
    await page.goto(dev.dashboard.url);
    expect(await page.locator('h1').textContent()).toBe('fleet-features');

    await waitUntil(async () => (await tile('rows')) > 0, {
      what: 'the page shows feature rows',
      timeoutMs: 30_000,
    });
    const first = { published: await tile('readingsPublished'), rows: await tile('rows') };
    await waitUntil(
      async () => (await tile('readingsPublished')) > first.published && (await tile('rows')) > first.rows,
      { what: 'the published and row counters move on the page', timeoutMs: 30_000 },
    );
    expect(progress.publishedCounts().readings).toBeGreaterThan(0);
  }, 60_000);

  it("shows a vehicle's latest numbers exactly as the features API serves them", async () => {
    const { expectedRows } = await publishing;
    await waitUntil(async () => (await distinctRows()) >= expectedRows, {
      what: `all ${expectedRows} rows are in the warehouse`,
      timeoutMs: 40_000,
      intervalMs: 500,
    });
    const api = await apiVector(vehicle);
    const row = page.locator(`#fleet-table tbody tr[data-vehicle-id="${vehicle}"]`);
    // The page's next refresh shows the vector the API serves; read the row in one go.
    const shownRow = () =>
      row.evaluate((tr) => ({
        eventId: tr.getAttribute('data-event-id'),
        cells: Object.fromEntries(
          // (In the browser; the test's own types have no DOM.)
          Array.from(tr.querySelectorAll('td') as ArrayLike<typeof tr>, (td) => [
            td.getAttribute('data-column'),
            { value: td.getAttribute('data-value'), text: td.textContent },
          ]),
        ),
      }));
    let shown = await shownRow();
    await waitUntil(
      async () => {
        shown = await shownRow();
        return shown.eventId === api.event_id;
      },
      { what: `the page shows ${vehicle}'s latest reading`, timeoutMs: 15_000, intervalMs: 250 },
    );
    for (const column of FLEET_COLUMNS) {
      const cell = shown.cells[column.key];
      expect(JSON.parse(cell?.value ?? 'undefined'), column.key).toEqual(api[column.key]);
      expect(cell?.text, column.key).toBe(formatCell(api, column));
    }
    // The simulated vehicles and the hot one: the fleet is every vehicle the warehouse has seen.
    await waitUntil(async () => (await page.locator('#fleet-table tbody tr').count()) === VEHICLES + 1, {
      what: 'the page lists every vehicle',
      timeoutMs: 15_000,
      intervalMs: 250,
    });
  }, 60_000);

  it('highlights a vehicle whose engine runs over the anomaly threshold, and its risk', async () => {
    const api = await apiVector(hotVehicle);
    expect(api.temp_anomaly).toBe(true);
    expect(api.risk_score).toBeGreaterThanOrEqual(dev.config.alerts.riskThreshold);
    expect(await page.locator('#model').textContent()).toContain(MODEL_VERSION);
    const row = page.locator(`#fleet-table tbody tr[data-vehicle-id="${hotVehicle}"]`);
    expect(await row.getAttribute('class')).toMatch(/\banomaly\b/);
    expect(await row.locator('td[data-column="engine_temp_c"]').getAttribute('class')).toMatch(/\bhot\b/);
    expect(await row.locator('td[data-column="temp_anomaly"]').textContent()).toBe('yes');
    expect(await row.locator('td[data-column="risk_score"]').getAttribute('class')).toMatch(/\brisk-high\b/);
    const cool = page.locator(`#fleet-table tbody tr[data-vehicle-id="${vehicle}"]`);
    expect((await cool.getAttribute('class')) ?? '').not.toMatch(/\banomaly\b/);
  });

  it("charts the vehicle's windows from the warehouse, one point per row", async () => {
    await page.locator(`#fleet-table tbody tr[data-vehicle-id="${vehicle}"]`).click();
    const { projectId } = dev.config;
    const { dataset, featuresTable } = dev.config.bigquery;
    const [rows] = await dev.bigquery.query({
      query: `SELECT COUNT(*) AS n FROM \`${projectId}.${dataset}.${identityViewOf(featuresTable)}\` WHERE vehicle_id = @vehicle_id`,
      params: { vehicle_id: vehicle },
    });
    const count = Number((rows[0] as { n: number }).n);
    expect(count).toBeGreaterThan(0);
    await waitUntil(
      async () =>
        (await page.locator('#vehicle-charts [data-chart="speed"]').getAttribute('data-points')) ===
        String(count),
      { what: "the speed chart holds every one of the vehicle's rows", timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(await page.locator('#vehicle-title').textContent()).toBe(`Vehicle ${vehicle}`);
    expect(await page.locator('#vehicle-charts canvas').count()).toBe(3);
  }, 30_000);

  it('sorts the fleet by a column, both ways', async () => {
    const header = page.locator('#fleet-table th[data-column="engine_temp_c"] button');
    const temperatures = async () =>
      (await page
        .locator('#fleet-table tbody td[data-column="engine_temp_c"]')
        .evaluateAll((cells) =>
          cells.map((cell) => Number(JSON.parse(cell.getAttribute('data-value') ?? 'null'))),
        )) as number[];
    await header.click();
    expect(await page.locator('#fleet-table th[data-column="engine_temp_c"]').getAttribute('aria-sort')).toBe(
      'ascending',
    );
    const ascending = await temperatures();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await header.click();
    const descending = await temperatures();
    expect(descending).toEqual([...descending].sort((a, b) => b - a));

    await mkdir(join(repoRoot, 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`dashboard screenshot: ${SCREENSHOT}`);
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 30_000);
});

/** A champion whose risk rises with engine temperature: sigmoid(2 * (temp - 100) / 5). */
async function promoteTemperatureModel(): Promise<void> {
  const objects = new GcsVersionedObjectStore(dev.storage, dev.config.model.bucket);
  const put = (name: string, document: unknown) =>
    objects.write(name, Buffer.from(JSON.stringify(document)), { contentType: 'application/json' });
  const at = new Date().toISOString();
  await put(`models/${MODEL_VERSION}/model.json`, {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    created_at: at,
    task: { name: 'overheat', threshold_c: 105, horizon_s: 900 },
    features: ['engine_temp_c'],
    standardization: { mean: [100], scale: [5] },
    intercept: 0,
    weights: [2],
    decision_threshold: 0.5,
    training: {
      run_id: 'dashboard-test',
      data_interval_start: at,
      data_interval_end: at,
      train_end: at,
      holdout_start: at,
      rows_train: 1,
      rows_holdout: 1,
      stride: 1,
    },
  });
  await put(CHAMPION_OBJECT, {
    version: MODEL_VERSION,
    promoted_at: at,
    decision_id: 'dashboard-test',
    history: [],
  });
}
