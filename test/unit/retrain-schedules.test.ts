// The Composer-style schedules (workflows/schedules.yaml) through the pure timetable: next runs and
// the data interval each receives per schedule, timezones and DST, catchup on and off, backfills,
// run ids, validation, the Cloud Scheduler jobs infra creates, and that a 7-day backfill runs 7
// intervals once each even when called twice (runIntervals with the trainer's run records).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DONE_STATUSES,
  type ExecutionOutcome,
  type RetrainExecutor,
  runIntervals,
} from '../../local/retraining/retrain-runs.js';
import { RUN_ID_PATTERN } from '../../shared/retraining/model-registry.js';
import { cloudSchedulerJobs } from '../../shared/schedules/cloud-scheduler-jobs.js';
import {
  backfillIntervals,
  dataIntervalFor,
  dueIntervals,
  type Interval,
  nextTicks,
  parseInstant,
  parseSchedules,
  type RetrainArguments,
  runIdFor,
  type Schedule,
  workflowArguments,
} from '../../shared/schedules/timetable.js';

const SCHEDULES = parseSchedules(
  readFileSync(resolve(import.meta.dirname, '../../workflows/schedules.yaml'), 'utf8'),
);
const daily = SCHEDULES.find((s) => s.name === 'daily-retrain')!;
const hourly = SCHEDULES.find((s) => s.name === 'hourly-drift-watch')!;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const show = (i: Interval) => `${iso(i.startMs)} .. ${iso(i.endMs)}`;
const hours = (i: Interval) => (i.endMs - i.startMs) / 3_600_000;

function one(yaml: string): Schedule {
  return parseSchedules(`schedules:\n  s:\n${yaml.replace(/^/gm, '    ')}`)[0]!;
}

describe('workflows/schedules.yaml', () => {
  it('holds a daily retraining in Berlin (catchup on) and an hourly drift watch in UTC (catchup off)', () => {
    expect(
      SCHEDULES.map((s) => ({
        name: s.name,
        cron: s.cron,
        timezone: s.timezone,
        interval: s.dataInterval.text,
        retrain: s.retrain,
        retries: s.retries,
        delay: s.retryDelay.text,
        catchup: s.catchup,
      })),
    ).toEqual([
      {
        name: 'daily-retrain',
        cron: '0 0 * * *',
        timezone: 'Europe/Berlin',
        interval: '1d',
        retrain: 'always',
        retries: 2,
        delay: '15m',
        catchup: true,
      },
      {
        name: 'hourly-drift-watch',
        cron: '15 * * * *',
        timezone: 'UTC',
        interval: '6h',
        retrain: 'on_drift',
        retries: 1,
        delay: '5m',
        catchup: false,
      },
    ]);
    expect(iso(daily.startDateMs!)).toBe('2026-10-31T23:00:00Z');
    expect(hourly.driftWindow!.ms).toBe(3_600_000);
  });

  it.each<[string, Schedule, string, string[]]>([
    [
      'daily-retrain: Berlin midnights (UTC+2 in May), the previous Berlin day each',
      daily,
      '2026-05-03T12:00:00Z',
      [
        '2026-05-02T22:00:00Z .. 2026-05-03T22:00:00Z',
        '2026-05-03T22:00:00Z .. 2026-05-04T22:00:00Z',
        '2026-05-04T22:00:00Z .. 2026-05-05T22:00:00Z',
      ],
    ],
    [
      'daily-retrain in winter (UTC+1)',
      daily,
      '2026-12-01T12:00:00Z',
      [
        '2026-11-30T23:00:00Z .. 2026-12-01T23:00:00Z',
        '2026-12-01T23:00:00Z .. 2026-12-02T23:00:00Z',
        '2026-12-02T23:00:00Z .. 2026-12-03T23:00:00Z',
      ],
    ],
    [
      'daily-retrain across the spring-forward: a 23-hour Berlin day',
      daily,
      '2026-03-28T12:00:00Z',
      [
        '2026-03-27T23:00:00Z .. 2026-03-28T23:00:00Z',
        '2026-03-28T23:00:00Z .. 2026-03-29T22:00:00Z',
        '2026-03-29T22:00:00Z .. 2026-03-30T22:00:00Z',
      ],
    ],
    [
      'daily-retrain across the fall-back: a 25-hour Berlin day',
      daily,
      '2026-10-24T12:00:00Z',
      [
        '2026-10-23T22:00:00Z .. 2026-10-24T22:00:00Z',
        '2026-10-24T22:00:00Z .. 2026-10-25T23:00:00Z',
        '2026-10-25T23:00:00Z .. 2026-10-26T23:00:00Z',
      ],
    ],
    [
      'hourly-drift-watch: at :15, the 6 hours before',
      hourly,
      '2026-05-03T12:00:00Z',
      [
        '2026-05-03T06:15:00Z .. 2026-05-03T12:15:00Z',
        '2026-05-03T07:15:00Z .. 2026-05-03T13:15:00Z',
        '2026-05-03T08:15:00Z .. 2026-05-03T14:15:00Z',
      ],
    ],
  ])('%s', (_what, schedule, after, expected) => {
    const intervals = nextTicks(schedule, Date.parse(after), 3).map((tick) =>
      dataIntervalFor(schedule, tick),
    );
    expect(intervals.map(show)).toEqual(expected);
    for (const interval of intervals)
      expect(RUN_ID_PATTERN.test(runIdFor(schedule.name, interval))).toBe(true);
  });

  it('an hourly cron in Berlin runs at both 02:15s of the fall-back night, an hour of data each', () => {
    const s = one('schedule: "15 * * * *"\ntimezone: Europe/Berlin\ndata_interval: 1h\nretrain: on_drift');
    const ticks = nextTicks(s, Date.parse('2026-10-24T23:30:00Z'), 3);
    expect(ticks.map(iso)).toEqual(['2026-10-25T00:15:00Z', '2026-10-25T01:15:00Z', '2026-10-25T02:15:00Z']);
    expect(ticks.map((t) => hours(dataIntervalFor(s, t)))).toEqual([1, 1, 1]);
  });

  it('a daily run at 02:30 Berlin moves to 03:30 on the spring-forward night (02:30 does not exist)', () => {
    const s = one('schedule: "30 2 * * *"\ntimezone: Europe/Berlin\ndata_interval: 1d\nretrain: always');
    const ticks = nextTicks(s, Date.parse('2026-03-28T12:00:00Z'), 2);
    expect(ticks.map(iso)).toEqual(['2026-03-29T01:30:00Z', '2026-03-30T00:30:00Z']);
    expect(show(dataIntervalFor(s, ticks[1]!))).toBe('2026-03-29T01:30:00Z .. 2026-03-30T00:30:00Z');
  });
});

describe('catchup', () => {
  it('on: every interval since start_date up to now, oldest first', () => {
    const due = dueIntervals(daily, Date.parse('2026-11-05T10:00:00Z'));
    expect(due.map(show)).toEqual([
      '2026-10-31T23:00:00Z .. 2026-11-01T23:00:00Z',
      '2026-11-01T23:00:00Z .. 2026-11-02T23:00:00Z',
      '2026-11-02T23:00:00Z .. 2026-11-03T23:00:00Z',
      '2026-11-03T23:00:00Z .. 2026-11-04T23:00:00Z',
    ]);
    expect(dueIntervals(daily, Date.parse('2026-11-01T12:00:00Z'))).toEqual([]);
  });

  it('off: only the latest interval, however long the scheduler was away', () => {
    expect(dueIntervals(hourly, Date.parse('2026-11-05T10:00:00Z')).map(show)).toEqual([
      '2026-11-05T03:15:00Z .. 2026-11-05T09:15:00Z',
    ]);
    const off = { ...daily, catchup: false };
    expect(dueIntervals(off, Date.parse('2026-11-05T10:00:00Z')).map(show)).toEqual([
      '2026-11-03T23:00:00Z .. 2026-11-04T23:00:00Z',
    ]);
    expect(dueIntervals(off, Date.parse('2026-11-01T12:00:00Z'))).toEqual([]);
  });
});

describe('backfill intervals', () => {
  it('7 days of a daily schedule are 7 contiguous intervals, DST week included', () => {
    const from = parseInstant('2026-10-22', daily.timezone);
    const to = parseInstant('2026-10-29', daily.timezone);
    const intervals = backfillIntervals(daily, from, to);
    expect(intervals).toHaveLength(7);
    expect(intervals[0]!.startMs).toBe(from);
    expect(intervals.at(-1)!.endMs).toBe(to);
    for (const [i, interval] of intervals.entries())
      if (i > 0) expect(interval.startMs).toBe(intervals[i - 1]!.endMs);
    expect(intervals.map(hours)).toEqual([24, 24, 24, 25, 24, 24, 24]);
  });

  it('only whole intervals inside [from, to]', () => {
    const intervals = backfillIntervals(
      hourly,
      Date.parse('2026-05-03T00:00:00Z'),
      Date.parse('2026-05-03T12:00:00Z'),
    );
    expect(intervals.map(show)).toEqual([
      '2026-05-03T00:15:00Z .. 2026-05-03T06:15:00Z',
      ...Array.from(
        { length: 5 },
        (_, i) => `2026-05-03T0${1 + i}:15:00Z .. 2026-05-03T${String(7 + i).padStart(2, '0')}:15:00Z`,
      ),
    ]);
  });

  it('reads a date as midnight in the schedule’s timezone, an instant with an offset as given', () => {
    expect(iso(parseInstant('2026-05-01', 'Europe/Berlin'))).toBe('2026-04-30T22:00:00Z');
    expect(iso(parseInstant('2026-05-01T06:00', 'America/New_York'))).toBe('2026-05-01T10:00:00Z');
    expect(iso(parseInstant('2026-05-01T06:00:00+02:00', 'America/New_York'))).toBe('2026-05-01T04:00:00Z');
    expect(() => parseInstant('yesterday', 'UTC')).toThrow(/not a date/);
  });
});

describe('schedule file validation', () => {
  it.each([
    ['schedule: "* * *"\nretrain: always\ndata_interval: 1h', /not a five-field cron expression/],
    ['schedule: "61 * * * *"\nretrain: always\ndata_interval: 1h', /"61 \* \* \* \*"/],
    ['schedule: "@monthly"\nretrain: always', /unknown preset @monthly/],
    ['schedule: "0 * * * *"\nretrain: always', /a cron schedule needs data_interval/],
    ['schedule: "@daily"\nretrain: sometimes', /retrain: Invalid option/],
    ['schedule: "@daily"\nretrain: always\ncatchup: true', /catchup needs start_date/],
    ['schedule: "@daily"\nretrain: always\ntimezone: Mars/Olympus', /timezone: not an IANA timezone/],
    ['schedule: "@daily"\nretrain: always\ndata_interval: 1 day', /"1 day" is not a duration/],
    ['schedule: "@daily"\nretrain: always\ndata_interval: 100d', /data_interval is 1m to 92d/],
    ['schedule: "@hourly"\nretrain: on_drift\ndrift_window: 2h', /drift_window is longer than data_interval/],
    ['schedule: "@daily"\nretrain: always\ncolour: red', /Unrecognized key: "colour"/],
  ])('%j is refused', (yaml, message) => {
    expect(() => one(yaml)).toThrow(message);
  });

  it('refuses a schedule name that cannot be part of a run id', () => {
    expect(() =>
      parseSchedules('schedules:\n  Nightly Run:\n    schedule: "@daily"\n    retrain: always\n'),
    ).toThrow(/schedule Nightly Run: names are 1-40 of a-z 0-9 -/);
  });
});

describe('what a run receives', () => {
  const interval = { startMs: Date.parse('2026-05-03T22:00:00Z'), endMs: Date.parse('2026-05-04T22:00:00Z') };

  it('locally and in backfills: the interval, the schedule, force from its retrain policy', () => {
    expect(workflowArguments(daily, interval)).toEqual({
      schedule: 'daily-retrain',
      force: true,
      data_interval_start: '2026-05-03T22:00:00.000Z',
      data_interval_end: '2026-05-04T22:00:00.000Z',
    });
    expect(workflowArguments(hourly, interval, { rerun: true })).toMatchObject({
      force: false,
      rerun: true,
      drift_window_seconds: 3600,
    });
    expect(runIdFor('daily-retrain', interval)).toBe('daily-retrain-20260503T220000Z-20260504T220000Z');
  });

  it('from Cloud Scheduler: the interval length and timezone, for retrain.yaml to derive the interval', () => {
    const jobs = cloudSchedulerJobs(SCHEDULES, {
      projectId: 'fleet-prod',
      location: 'europe-west1',
      workflow: 'retrain',
      serviceAccountEmail: 'scheduler@fleet-prod.iam.gserviceaccount.com',
    });
    expect(
      jobs.map((j) => [
        j.name,
        j.schedule,
        j.timeZone,
        j.retryConfig.retryCount,
        j.retryConfig.minBackoffDuration,
      ]),
    ).toEqual([
      ['retrain-daily-retrain', '0 0 * * *', 'Europe/Berlin', 2, '900s'],
      ['retrain-hourly-drift-watch', '15 * * * *', 'UTC', 1, '300s'],
    ]);
    expect(jobs[0]!.httpTarget.uri).toBe(
      'https://workflowexecutions.googleapis.com/v1/projects/fleet-prod/locations/europe-west1/workflows/retrain/executions',
    );
    const body = JSON.parse(Buffer.from(jobs[0]!.httpTarget.body, 'base64').toString('utf8'));
    expect(JSON.parse(body.argument)).toEqual({
      schedule: 'daily-retrain',
      force: true,
      data_interval_seconds: 86_400,
      timezone: 'Europe/Berlin',
    });
    expect(jobs[0]!.httpTarget.oauthToken.scope).toBe('https://www.googleapis.com/auth/cloud-platform');
  });
});

describe('runIntervals: each interval once', () => {
  /** A trainer's run records and an executor that records the run as the workflow would. */
  function fakeRuns(outcome: (args: RetrainArguments, nth: number) => string = () => 'quality_failed') {
    const records = new Map<string, string>();
    const executions: RetrainArguments[] = [];
    const executor: RetrainExecutor = {
      where: 'local',
      async execute(args): Promise<ExecutionOutcome> {
        executions.push(args);
        const runId = runIdFor(args.schedule, {
          startMs: Date.parse(args.data_interval_start!),
          endMs: Date.parse(args.data_interval_end!),
        });
        const status = outcome(args, executions.length);
        records.set(runId, status);
        return status === 'failed'
          ? {
              executionId: `e${executions.length}`,
              state: 'FAILED',
              error: { tags: ['HttpError'], code: 500 },
            }
          : { executionId: `e${executions.length}`, state: 'SUCCEEDED', result: { run_id: runId, status } };
      },
    };
    const lookup = { status: async (runId: string) => records.get(runId) ?? null };
    return { records, executions, executor, lookup };
  }

  it('a 7-day backfill runs 7 intervals once each, even when called twice', async () => {
    const runs = fakeRuns();
    const intervals = backfillIntervals(
      daily,
      parseInstant('2026-05-01', daily.timezone),
      parseInstant('2026-05-08', daily.timezone),
    );
    const first = await runIntervals({
      schedule: daily,
      intervals,
      executor: runs.executor,
      lookup: runs.lookup,
    });
    const second = await runIntervals({
      schedule: daily,
      intervals,
      executor: runs.executor,
      lookup: runs.lookup,
    });
    expect(first.map((r) => r.status)).toEqual(Array(7).fill('quality_failed'));
    expect(second.map((r) => [r.status, r.previous])).toEqual(Array(7).fill(['skipped', 'quality_failed']));
    expect(runs.executions).toHaveLength(7);
    expect(new Set(runs.executions.map((a) => a.data_interval_start)).size).toBe(7);
  });

  it('a failed run is tried again `retries` times, retry_delay apart; a failure left is run by the next call', async () => {
    const runs = fakeRuns((_args, nth) => (nth <= 3 ? 'failed' : 'promoted'));
    const sleeps: number[] = [];
    const interval = dataIntervalFor(daily, Date.parse('2026-05-04T22:00:00Z'));
    const options = {
      schedule: daily,
      intervals: [interval],
      executor: runs.executor,
      lookup: runs.lookup,
      retries: 1,
      retryDelayMs: 900_000,
      sleepMs: async (ms: number) => {
        sleeps.push(ms);
      },
    };
    const [first] = await runIntervals(options);
    expect(first).toMatchObject({ status: 'failed', attempts: 2 });
    expect(sleeps).toEqual([900_000]);
    const [second] = await runIntervals(options);
    expect(second).toMatchObject({ status: 'promoted', attempts: 2 });
    const [third] = await runIntervals(options);
    expect(third).toMatchObject({ status: 'skipped', previous: 'promoted' });
    expect(runs.executions).toHaveLength(4);
  });

  it('rerun runs done intervals again; failed is the one status that is not done', async () => {
    const runs = fakeRuns(() => 'promoted');
    const intervals = [dataIntervalFor(daily, Date.parse('2026-05-04T22:00:00Z'))];
    await runIntervals({ schedule: daily, intervals, executor: runs.executor, lookup: runs.lookup });
    await runIntervals({
      schedule: daily,
      intervals,
      executor: runs.executor,
      lookup: runs.lookup,
      rerun: true,
    });
    expect(runs.executions.map((a) => a.rerun)).toEqual([undefined, true]);
    expect([...DONE_STATUSES].sort()).toEqual([
      'insufficient_data',
      'no_drift',
      'promoted',
      'quality_failed',
      'rejected',
    ]);
  });
});
