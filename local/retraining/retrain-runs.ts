// Runs of workflows/retrain.yaml over schedule intervals, wherever the workflow runs: locally on the
// local runner against the trainer and drift functions, or in the cloud as Workflows executions.
// An interval whose run is recorded as done (the trainer's GET /v1/runs/{run_id}, the run id derived
// from the interval) is skipped, so a backfill or a scheduler pass runs each interval once however
// often it is called; retrain.yaml checks the same record itself, for executions started elsewhere.

import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Interval,
  type RetrainArguments,
  runIdFor,
  type Schedule,
  workflowArguments,
} from '../../shared/schedules/timetable.js';
import type { WorkflowValue } from '../workflows/workflow-errors.js';
import type { LocalWorkflow, StepLogEntry } from '../workflows/workflow-runner.js';

/** Run statuses that finish an interval (retrain.yaml's done_statuses); `failed` does not. */
export const DONE_STATUSES: ReadonlySet<string> = new Set([
  'promoted',
  'rejected',
  'quality_failed',
  'insufficient_data',
  'no_drift',
]);

export interface ExecutionOutcome {
  executionId: string;
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  /** What retrain.yaml returned: {run_id, status, details, ...}. */
  result?: WorkflowValue;
  /** The uncaught error map of a failed execution. */
  error?: WorkflowValue;
}

export interface RetrainExecutor {
  readonly where: 'local' | 'cloud';
  execute(args: RetrainArguments): Promise<ExecutionOutcome>;
}

/** Reads a run's recorded status (null: no record). */
export interface RunLookup {
  status(runId: string): Promise<string | null>;
}

/** The trainer function's GET /v1/runs/{run_id}. */
export class TrainerRunLookup implements RunLookup {
  constructor(
    readonly trainerUrl: string,
    readonly fetcher: typeof fetch = fetch,
  ) {}

  async status(runId: string): Promise<string | null> {
    const response = await this.fetcher(`${this.trainerUrl}/v1/runs/${encodeURIComponent(runId)}`);
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`GET /v1/runs/${runId}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { status: string }).status;
  }
}

/** retrain.yaml on the local runner, with the function URLs as its environment. */
export class LocalRetrainExecutor implements RetrainExecutor {
  readonly where = 'local';

  constructor(
    readonly workflow: LocalWorkflow,
    readonly options: {
      trainerUrl: string;
      driftUrl: string;
      onStep?: (entry: StepLogEntry) => void;
      nowMs?: () => number;
      sleepMs?: (ms: number) => Promise<void>;
    },
  ) {}

  async execute(args: RetrainArguments): Promise<ExecutionOutcome> {
    const { trainerUrl, driftUrl, onStep, nowMs, sleepMs } = this.options;
    const outcome = await this.workflow.run(args as unknown as WorkflowValue, {
      env: { TRAINER_URL: trainerUrl, DRIFT_URL: driftUrl },
      ...(onStep === undefined ? {} : { onStep }),
      ...(nowMs === undefined ? {} : { nowMs }),
      ...(sleepMs === undefined ? {} : { sleepMs }),
    });
    return outcome.state === 'SUCCEEDED'
      ? { executionId: outcome.executionId, state: 'SUCCEEDED', result: outcome.result }
      : { executionId: outcome.executionId, state: 'FAILED', error: outcome.error };
  }
}

export interface IntervalRun {
  runId: string;
  interval: Interval;
  /** The run's status (promoted, rejected, ...), `skipped` when it was already done, `failed`. */
  status: string;
  /** For a skipped interval: the recorded status. */
  previous?: string;
  attempts: number;
  outcome?: ExecutionOutcome;
}

export interface RunIntervalsOptions {
  schedule: Schedule;
  intervals: readonly Interval[];
  executor: RetrainExecutor;
  /** Skips intervals whose run is done; without it every interval runs (retrain.yaml still checks). */
  lookup?: RunLookup;
  force?: boolean;
  rerun?: boolean;
  /** Further attempts of a failed run, retryDelayMs apart (the schedule's retries for the scheduler). */
  retries?: number;
  retryDelayMs?: number;
  sleepMs?: (ms: number) => Promise<void>;
  onRun?: (run: IntervalRun) => void;
}

/** Runs the intervals one after another, oldest first, each at most once unless it fails. */
export async function runIntervals(options: RunIntervalsOptions): Promise<IntervalRun[]> {
  const { schedule, executor, lookup } = options;
  const runs: IntervalRun[] = [];
  const intervals = [...options.intervals].sort((a, b) => a.startMs - b.startMs);
  for (const interval of intervals) {
    const runId = runIdFor(schedule.name, interval);
    let run: IntervalRun | undefined;
    if (!options.rerun && lookup !== undefined) {
      const previous = await lookup.status(runId);
      if (previous !== null && DONE_STATUSES.has(previous))
        run = { runId, interval, status: 'skipped', previous, attempts: 0 };
    }
    const args = workflowArguments(schedule, interval, {
      ...(options.force === undefined ? {} : { force: options.force }),
      ...(options.rerun ? { rerun: true } : {}),
    });
    for (let attempt = 1; run === undefined; attempt++) {
      const outcome = await executor.execute(args);
      const status = outcome.state === 'SUCCEEDED' ? resultStatus(outcome.result) : 'failed';
      if (status !== 'failed' || attempt > (options.retries ?? 0)) {
        run = { runId, interval, status, attempts: attempt, outcome };
        break;
      }
      await (options.sleepMs ?? ((ms: number) => sleep(ms)))(options.retryDelayMs ?? 0);
    }
    runs.push(run);
    options.onRun?.(run);
  }
  return runs;
}

function resultStatus(result: WorkflowValue | undefined): string {
  const status =
    typeof result === 'object' && result !== null && !Array.isArray(result) ? result.status : undefined;
  return typeof status === 'string' ? status : 'unknown';
}
