// The reliability suite (`npm run chaos`, local/chaos/) at a small scale: scenarios 1, 2, 3 and 5
// each on their own stack (their own redis-server with AOF, GCS and BigQuery stand-ins with fault
// injectors, processTelemetry under functions-framework from dist/, the archive writers; topics with
// a per-run suffix on the run's Pub/Sub emulator). Every published valid reading must end as exactly
// one row in the warehouse's identity view and in the features/ archive, every message in raw/, and
// every invalid one in the dead-letter topic and quarantine with its reason.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from '../../local/chaos/chaos-runner.js';
import { scenarios } from '../../local/chaos/scenarios.js';
import { localServers } from '../helpers/local-servers.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const ALLOWED_LATENESS_S = 600;
const small = scenarios({ scale: 0.05, allowedLatenessMs: ALLOWED_LATENESS_S * 1000 });
// Poison at 1% needs a few hundred messages to show up at all.
const larger = scenarios({ scale: 0.15, allowedLatenessMs: ALLOWED_LATENESS_S * 1000 });
const specs = [...small.filter((s) => s.id !== 5), ...larger.filter((s) => s.id === 5)];
let dataRoot = '';

beforeAll(async () => {
  // processTelemetry runs from the build output, as under `npm run dev` and `npm run chaos`.
  if (!existsSync(join(repoRoot, 'dist/functions/process-telemetry/index.js'))) {
    await promisify(execFile)('npm', ['run', 'build'], { cwd: repoRoot });
  }
  dataRoot = await mkdtemp(join(tmpdir(), 'fleet-features-chaos-'));
}, 180_000);

afterAll(async () => {
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
});

function run(id: number): Promise<ScenarioResult> {
  const local = localServers();
  return runScenario(specs.find((s) => s.id === id)!, {
    repoRoot,
    dataRoot,
    projectId: local.projectId,
    pubsubEmulatorHost: local.pubsubEmulatorHost,
    allowedLatenessS: ALLOWED_LATENESS_S,
    log: () => {},
    maxDrainMs: 120_000,
  });
}

function expectExactlyOnce(result: ScenarioResult): void {
  expect(result.failures).toEqual([]);
  expect(result.chaos).toMatchObject({ lost: 0, duplicated: 0 });
  expect(result.chaos.rows).toBe(result.chaos.valid);
  expect(result.reconciliation).toMatchObject({
    archive_lost: 0,
    raw_archive_lost: 0,
    policy_dead_lettered: 0,
  });
}

describe('the pipeline under faults (reduced chaos scenarios)', () => {
  it('1: 5% duplicates and 2% out of order add no row, and the windows equal the offline recomputation', async () => {
    const result = await run(1);
    expectExactlyOnce(result);
    expect(result.figures.re_sends).toBeGreaterThan(0);
    expect(result.figures.window_mismatches).toBe(0);
    expect(result.reconciliation.raw_duplicates).toBe(0);
  }, 150_000);

  it('2: redis-server SIGKILLed mid-stream and restarted from its AOF: one row per valid reading', async () => {
    const result = await run(2);
    expectExactlyOnce(result);
    expect(result.figures.faults_injected).toBe(1);
  }, 150_000);

  it('3: BigQuery and GCS failing writes (500/503, timeouts, lost answers, partial inserts): no loss, bounded retries', async () => {
    const result = await run(3);
    expectExactlyOnce(result);
    expect(
      Number(result.figures.bq_errors_500_503) + Number(result.figures.bq_partial_inserts),
    ).toBeGreaterThan(0);
    expect(result.figures.max_deliveries_per_message).toBeLessThanOrEqual(5);
    expect(result.reconciliation.invalid_without_quarantine_reason).toBe(0);
  }, 150_000);

  it('5: 1% poison goes to the dead-letter topic and quarantine with reasons, each delivered once', async () => {
    const result = await run(5);
    expectExactlyOnce(result);
    expect(result.figures.poison_messages).toBeGreaterThan(0);
    expect(result.reconciliation.invalid_missed).toBe(0);
    expect(result.reconciliation.invalid_without_quarantine_reason).toBe(0);
    expect(result.figures.poison_retried_more_than_once).toBe(0);
  }, 150_000);
});
