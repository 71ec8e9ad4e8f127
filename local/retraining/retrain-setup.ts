// Shared by `npm run retrain` and `npm run schedule`: the schedules file, and the local executor of
// retrain.yaml with its run lookup, starting the trainer and drift functions when no URLs are given.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../shared/config.js';
import { parseSchedules, type Schedule } from '../../shared/schedules/timetable.js';
import { LocalWorkflow } from '../workflows/workflow-runner.js';
import { formatStep } from './retrain-report.js';
import {
  LocalRetrainExecutor,
  type RetrainExecutor,
  type RunLookup,
  TrainerRunLookup,
} from './retrain-runs.js';
import { startRetrainStack } from './retrain-stack.js';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface CommonOptions {
  trainerUrl?: string;
  driftUrl?: string;
  dataDir: string;
  quiet: boolean;
  json: boolean;
}

/** The local executor and run lookup, starting the functions when no URLs are given. */
export async function localExecutor(
  options: CommonOptions,
  log: (line: string) => void,
): Promise<{ executor: RetrainExecutor; lookup: RunLookup; stop: () => Promise<void> }> {
  const config = loadConfig();
  let trainerUrl = options.trainerUrl ?? config.retraining.trainerUrl;
  let driftUrl = options.driftUrl ?? config.retraining.driftUrl;
  let stop = async () => {};
  if (trainerUrl === undefined || driftUrl === undefined) {
    const running = await runningStack(resolve(options.dataDir));
    if (running !== undefined) {
      log(
        `using the stack npm run dev runs (${running.file}): trainer ${running.trainerUrl}, drift ${running.driftUrl}`,
      );
      ({ trainerUrl, driftUrl } = running);
    }
  }
  if (trainerUrl === undefined || driftUrl === undefined) {
    log(
      `starting the BigQuery and GCS stand-ins over ${options.dataDir} and the trainer and drift functions`,
    );
    const stack = await startRetrainStack({ dataDir: resolve(options.dataDir), repoRoot });
    log(`trainer ${stack.trainerUrl}, drift ${stack.driftUrl} (logs in ${stack.logDir})`);
    ({ trainerUrl, driftUrl, stop } = stack);
  }
  const workflow = await LocalWorkflow.fromFile(resolve(repoRoot, 'workflows/retrain.yaml'));
  const onStep = options.quiet
    ? undefined
    : options.json
      ? (entry: object) => process.stderr.write(`${JSON.stringify(entry)}\n`)
      : (entry: Parameters<typeof formatStep>[0]) => process.stderr.write(`${formatStep(entry)}\n`);
  const executor = new LocalRetrainExecutor(workflow, {
    trainerUrl,
    driftUrl,
    ...(onStep === undefined ? {} : { onStep }),
  });
  return { executor, lookup: new TrainerRunLookup(trainerUrl), stop };
}

export async function readScheduleFile(): Promise<Schedule[]> {
  return parseSchedules(await readFile(resolve(repoRoot, 'workflows/schedules.yaml'), 'utf8'));
}

/** The trainer and drift URLs of a stack `npm run dev -- --keep` still runs over dataDir (its stack.json). */
async function runningStack(
  dataDir: string,
): Promise<{ file: string; trainerUrl: string; driftUrl: string } | undefined> {
  const file = join(dataDir, 'stack.json');
  let stack: { pid?: number; functions?: Record<string, { url?: string }> };
  try {
    stack = JSON.parse(await readFile(file, 'utf8')) as typeof stack;
  } catch {
    return undefined;
  }
  const trainerUrl = stack.functions?.trainer?.url;
  const driftUrl = stack.functions?.drift?.url;
  if (trainerUrl === undefined || driftUrl === undefined || stack.pid === undefined) return undefined;
  try {
    process.kill(stack.pid, 0);
  } catch {
    return undefined; // the stack that wrote it has stopped
  }
  return { file, trainerUrl, driftUrl };
}
