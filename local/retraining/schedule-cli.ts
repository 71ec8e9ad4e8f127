// `npm run schedule`: the local scheduler. Reads workflows/schedules.yaml (the file infra turns into
// Cloud Scheduler jobs) and runs workflows/retrain.yaml on the local runner when a schedule ticks:
// each tick's run gets its data interval; with catchup every interval since start_date without a
// finished run is run first, oldest first; a failed run is tried again `retries` times,
// `retry_delay` apart. Intervals already done are skipped (GET /v1/runs/{run_id}), so stopping and
// starting the scheduler runs nothing twice. Ctrl-C stops it.

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { dueIntervals, nextTicks, parseInstant, runIdFor } from '../../shared/schedules/timetable.js';
import { describeRun, describeSchedule } from './retrain-report.js';
import { runIntervals } from './retrain-runs.js';
import { localExecutor, readScheduleFile } from './retrain-setup.js';

const USAGE = `usage: npm run schedule -- [options]
  --once                run what is due now, then exit (default: keep running, waking at each tick)
  --schedule NAME       only this schedule (repeatable; default: every schedule in workflows/schedules.yaml)
  --now ISO             with --once: act as if it were this instant
  --trainer-url URL --drift-url URL
                        local functions to call (default TRAINER_URL, DRIFT_URL; else started here)
  --data-dir DIR        the local stack's data, when the functions are started here (default .local/dev)
  --quiet               no line per workflow step`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      schedule: { type: 'string', multiple: true },
      now: { type: 'string' },
      'trainer-url': { type: 'string' },
      'drift-url': { type: 'string' },
      'data-dir': { type: 'string', default: '.local/dev' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.now !== undefined && !values.once) throw new Error('--now goes with --once');
  const log = (line: string) => process.stderr.write(`[schedule] ${line}\n`);
  const all = await readScheduleFile();
  const schedules =
    values.schedule === undefined ? all : all.filter((s) => values.schedule!.includes(s.name));
  const unknown = (values.schedule ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`no schedule ${unknown.join(', ')} in workflows/schedules.yaml`);
  const clock = () => (values.now === undefined ? Date.now() : parseInstant(values.now, 'UTC'));
  for (const schedule of schedules) log(describeSchedule(schedule, clock()));

  const { executor, lookup, stop } = await localExecutor(
    {
      ...(values['trainer-url'] === undefined ? {} : { trainerUrl: values['trainer-url'] }),
      ...(values['drift-url'] === undefined ? {} : { driftUrl: values['drift-url'] }),
      dataDir: values['data-dir']!,
      quiet: values.quiet!,
      json: false,
    },
    log,
  );
  const stopping = new AbortController();
  process.once('SIGINT', () => stopping.abort());
  process.once('SIGTERM', () => stopping.abort());
  // A failed interval is retried `retries` times, then left (recorded as failed) until a restart.
  const attempted = new Set<string>();
  try {
    while (!stopping.signal.aborted) {
      const now = clock();
      for (const schedule of schedules) {
        const intervals = dueIntervals(schedule, now).filter(
          (i) => !attempted.has(runIdFor(schedule.name, i)),
        );
        if (intervals.length === 0) continue;
        log(`${schedule.name}: ${intervals.length} interval(s) due`);
        await runIntervals({
          schedule,
          intervals,
          executor,
          lookup,
          retries: schedule.retries,
          retryDelayMs: schedule.retryDelay.ms,
          onRun: (run) => {
            attempted.add(run.runId);
            process.stdout.write(`${describeRun(run)}\n`);
          },
        });
      }
      if (values.once) break;
      const wake = Math.min(...schedules.map((s) => nextTicks(s, Date.now(), 1)[0]!));
      log(`next tick ${new Date(wake).toISOString()}`);
      await sleep(Math.max(0, wake - Date.now()), undefined, { signal: stopping.signal }).catch(() => {});
    }
  } finally {
    await stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(`[schedule] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
