// `npm run retrain`: runs workflows/retrain.yaml over one interval or a backfill of many.
//
// Locally the workflow runs step by step on the local runner (local/workflows/) against the trainer
// and drift functions: those at --trainer-url/--drift-url (or TRAINER_URL/DRIFT_URL), else started
// here over the data `npm run dev` left (--data-dir) and stopped after. With --cloud it starts
// executions of the deployed workflow through the Workflow Executions API and waits for each.
// Intervals whose run is recorded as done are skipped (GET /v1/runs/{run_id}); --rerun runs them.

import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config.js';
import {
  backfillIntervals,
  dataIntervalFor,
  type Interval,
  latestTick,
  parseDuration,
  parseInstant,
  type Schedule,
} from '../../shared/schedules/timetable.js';
import { CloudRetrainExecutor } from './cloud-executions.js';
import { describeRun } from './retrain-report.js';
import { type IntervalRun, type RetrainExecutor, type RunLookup, runIntervals } from './retrain-runs.js';
import { localExecutor, readScheduleFile } from './retrain-setup.js';

const USAGE = `usage: npm run retrain -- [options]
  --schedule NAME       a schedule of workflows/schedules.yaml (default: the first with retrain: always)
  --start ISO --end ISO one data interval (schedule "manual" unless --schedule is given; forced)
  --from D1 --to D2     backfill: every interval of the schedule inside [D1, D2] (a date is midnight
                        in the schedule's timezone); none of these: the schedule's latest interval
  --force | --no-force  train whatever the drift check says, or only on drift (default: the schedule's)
  --rerun               run intervals whose run is already done again
  --cloud               start executions of the deployed workflow (Workflow Executions API)
  --project ID --location REGION --workflow NAME
                        the deployed workflow (default GOOGLE_CLOUD_PROJECT, WORKFLOWS_LOCATION, RETRAIN_WORKFLOW)
  --trainer-url URL --drift-url URL
                        local functions to call (default TRAINER_URL, DRIFT_URL; else started here)
  --data-dir DIR        the local stack's data, when the functions are started here (default .local/dev)
  --quiet               no line per workflow step
  --json                the runs as JSON on stdout`;

function manualSchedule(interval: Interval): Schedule {
  const minutes = Math.max(1, Math.round((interval.endMs - interval.startMs) / 60_000));
  return {
    name: 'manual',
    description: 'a run started by a person',
    expression: '@never',
    cron: '',
    timezone: 'UTC',
    dataInterval: parseDuration(`${minutes}m`),
    retrain: 'always',
    retries: 0,
    retryDelay: parseDuration('1m'),
    catchup: false,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      schedule: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      force: { type: 'boolean' },
      'no-force': { type: 'boolean' },
      rerun: { type: 'boolean', default: false },
      cloud: { type: 'boolean', default: false },
      project: { type: 'string' },
      location: { type: 'string' },
      workflow: { type: 'string' },
      'trainer-url': { type: 'string' },
      'drift-url': { type: 'string' },
      'data-dir': { type: 'string', default: '.local/dev' },
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`[retrain] ${line}\n`);
  const schedules = await readScheduleFile();
  const named = values.schedule === undefined ? undefined : schedules.find((s) => s.name === values.schedule);
  if (values.schedule !== undefined && named === undefined)
    throw new Error(
      `no schedule ${values.schedule} in workflows/schedules.yaml (${schedules.map((s) => s.name).join(', ')})`,
    );
  if ((values.start === undefined) !== (values.end === undefined))
    throw new Error('give --start and --end together');
  if ((values.from === undefined) !== (values.to === undefined))
    throw new Error('give --from and --to together');
  if (values.start !== undefined && values.from !== undefined)
    throw new Error('--start/--end or --from/--to, not both');

  let schedule: Schedule;
  let intervals: Interval[];
  if (values.start !== undefined) {
    const timezone = named?.timezone ?? 'UTC';
    const interval = {
      startMs: parseInstant(values.start, timezone),
      endMs: parseInstant(values.end!, timezone),
    };
    if (!(interval.endMs > interval.startMs)) throw new Error('--end must be after --start');
    schedule = named ?? manualSchedule(interval);
    intervals = [interval];
  } else {
    schedule = named ?? schedules.find((s) => s.retrain === 'always') ?? schedules[0]!;
    intervals =
      values.from !== undefined
        ? backfillIntervals(
            schedule,
            parseInstant(values.from, schedule.timezone),
            parseInstant(values.to!, schedule.timezone),
          )
        : [dataIntervalFor(schedule, latestTick(schedule, Date.now()))];
  }
  const force = values.force ? true : values['no-force'] ? false : undefined;

  let executor: RetrainExecutor;
  let lookup: RunLookup | undefined;
  let stop = async () => {};
  if (values.cloud) {
    const config = loadConfig();
    const projectId = values.project ?? config.projectId;
    if (values.project === undefined && projectId === 'fleet-features-local')
      throw new Error('--cloud needs --project (or GOOGLE_CLOUD_PROJECT)');
    const target = {
      projectId,
      location: values.location ?? config.retraining.workflowsLocation,
      workflow: values.workflow ?? config.retraining.workflow,
    };
    log(
      `executions of projects/${target.projectId}/locations/${target.location}/workflows/${target.workflow}`,
    );
    // The deployed workflow looks up its own run record (OIDC to the trainer): no lookup from here.
    executor = new CloudRetrainExecutor(target, { onStarted: (name) => log(`started ${name}`) });
  } else {
    ({ executor, lookup, stop } = await localExecutor(
      {
        ...(values['trainer-url'] === undefined ? {} : { trainerUrl: values['trainer-url'] }),
        ...(values['drift-url'] === undefined ? {} : { driftUrl: values['drift-url'] }),
        dataDir: values['data-dir']!,
        quiet: values.quiet!,
        json: values.json!,
      },
      log,
    ));
  }
  log(`${intervals.length} interval(s) of schedule ${schedule.name}, ${executor.where}`);
  let runs: IntervalRun[];
  try {
    runs = await runIntervals({
      schedule,
      intervals,
      executor,
      ...(lookup === undefined ? {} : { lookup }),
      ...(force === undefined ? {} : { force }),
      rerun: values.rerun!,
      onRun: (run) => {
        if (!values.json) process.stdout.write(`${describeRun(run)}\n`);
      },
    });
  } finally {
    await stop();
  }
  if (values.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  log(
    `${runs.length} interval(s): ${[...counts].map(([status, n]) => `${n} ${status}`).join(', ') || 'none'}`,
  );
  return runs.some((r) => r.status === 'failed') ? 1 : 0;
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(`[retrain] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
