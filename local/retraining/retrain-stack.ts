// What a local retraining run needs when no functions are running: the BigQuery and GCS stand-ins
// over the data `npm run dev` left (its warehouse file and object folder), and the trainer and drift
// functions under functions-framework from the dist/ build, as deployed. Stopped together.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startBigQueryStandin } from '../bigquery-standin/index.js';
import { startGcsStandin } from '../gcs-standin/index.js';
import { FUNCTIONS, type RunningFunction, startFunction } from '../servers/function-servers.js';

export interface RetrainStack {
  trainerUrl: string;
  driftUrl: string;
  logDir: string;
  stop(): Promise<void>;
}

export async function startRetrainStack(options: {
  dataDir: string;
  repoRoot: string;
  projectId?: string;
}): Promise<RetrainStack> {
  const warehousePath = join(options.dataDir, 'warehouse.duckdb');
  if (!existsSync(warehousePath))
    throw new Error(
      `no local warehouse at ${warehousePath}: run \`npm run dev\` first (or pass --trainer-url and --drift-url)`,
    );
  // The functions run from dist/, as deployed: build first, as `npm run dev` does.
  await build(options.repoRoot);
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const projectId = options.projectId ?? 'fleet-features-local';
    const gcs = await startGcsStandin({ root: join(options.dataDir, 'object-store') });
    stops.push(() => gcs.close());
    const bigquery = await startBigQueryStandin({ dbPath: warehousePath, defaultProjectId: projectId });
    stops.push(() => bigquery.close());
    const env = {
      GOOGLE_CLOUD_PROJECT: projectId,
      STORAGE_EMULATOR_HOST: gcs.url,
      BIGQUERY_API_ENDPOINT: bigquery.url,
      METADATA_SERVER_DETECTION: 'none',
      LOG_LEVEL: 'warn',
    };
    const logDir = join(options.dataDir, 'logs');
    const started: RunningFunction[] = [];
    for (const spec of FUNCTIONS.filter((f) => f.target === 'trainer' || f.target === 'drift')) {
      const running = await startFunction({ spec, repoRoot: options.repoRoot, logDir, env });
      stops.push(() => running.group.stop());
      started.push(running);
    }
    const url = (target: string) => started.find((f) => f.target === target)!.url;
    return { trainerUrl: url('trainer'), driftUrl: url('drift'), logDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function build(repoRoot: string): Promise<void> {
  const child = spawn('npm', ['run', '--silent', 'build'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`npm run build failed (exit ${code})`);
}
