/**
 * The retraining schedules (workflows/schedules.yaml) as pure functions: when a schedule ticks, the
 * data interval each tick's run receives, which intervals are due (catchup on or off), which a
 * backfill covers, and the run id of an interval. No I/O and no clock: callers pass `now`.
 *
 * A run at tick T receives [T - data_interval, T) (Airflow's data_interval_start/end). Whole days
 * are calendar days in the schedule's timezone (the same wall-clock time N days earlier, 23 or 25
 * hours across DST); other lengths are exact. retrain.yaml derives the same interval from its start
 * time when Cloud Scheduler starts it, and the same run id.
 */
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const PRESETS: Readonly<Record<string, { cron: string; interval: string }>> = {
  '@hourly': { cron: '0 * * * *', interval: '1h' },
  '@daily': { cron: '0 0 * * *', interval: '1d' },
  '@weekly': { cron: '0 0 * * 0', interval: '7d' },
};

const SCHEDULE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const DURATION = /^(\d{1,5})(m|h|d)$/;
const DURATION_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The trainer takes at most 92 days; more than a year of catch-up is a mistake in start_date. */
const MAX_INTERVAL_MS = 92 * 86_400_000;
const MAX_TICKS = 10_000;

export interface Duration {
  text: string;
  /** Exact length; for whole days, the length of days without a DST change. */
  ms: number;
  /** Set when the duration is whole days: calendar days in the schedule's timezone. */
  days?: number;
}

export interface Schedule {
  name: string;
  description: string;
  /** As written: a cron expression or a preset. */
  expression: string;
  /** Five-field unix-cron, the form Cloud Scheduler takes. */
  cron: string;
  timezone: string;
  dataInterval: Duration;
  driftWindow?: Duration;
  retrain: 'always' | 'on_drift';
  retries: number;
  retryDelay: Duration;
  catchup: boolean;
  /** Epoch ms; intervals start at or after it. */
  startDateMs?: number;
}

export interface Interval {
  startMs: number;
  endMs: number;
}

export class ScheduleError extends Error {
  readonly code = 'schedule_invalid';

  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export function parseDuration(text: string): Duration {
  const match = DURATION.exec(text);
  if (match === null) throw new ScheduleError(`"${text}" is not a duration like 30m, 6h or 1d`);
  const n = Number(match[1]);
  const unit = match[2]!;
  return { text, ms: n * DURATION_MS[unit]!, ...(unit === 'd' ? { days: n } : {}) };
}

const validTimezone = (tz: string) => DateTime.now().setZone(tz).isValid;

const ScheduleSchema = z
  .object({
    description: z.string().default(''),
    schedule: z.string().min(1),
    timezone: z.string().refine(validTimezone, 'not an IANA timezone').default('UTC'),
    data_interval: z.string().optional(),
    drift_window: z.string().optional(),
    retrain: z.enum(['always', 'on_drift']),
    retries: z.number().int().min(0).max(10).default(0),
    retry_delay: z.string().default('5m'),
    catchup: z.boolean().default(false),
    start_date: z.union([z.string(), z.date()]).optional(),
  })
  .strict();

const ScheduleFileSchema = z.object({ schedules: z.record(z.string(), z.unknown()) }).strict();

/** Parses and validates workflows/schedules.yaml; ScheduleError names the schedule and the problem. */
export function parseSchedules(text: string): Schedule[] {
  const file = ScheduleFileSchema.safeParse(parseYaml(text));
  if (!file.success)
    throw new ScheduleError(`schedules file: ${file.error.issues.map((i) => i.message).join('; ')}`);
  return Object.entries(file.data.schedules).map(([name, raw]) => {
    const fail = (message: string): never => {
      throw new ScheduleError(`schedule ${name}: ${message}`);
    };
    if (!SCHEDULE_NAME.test(name)) fail('names are 1-40 of a-z 0-9 -, starting with a letter');
    const parsed = ScheduleSchema.safeParse(raw);
    if (!parsed.success)
      fail(parsed.error.issues.map((i) => `${i.path.join('.') || '(schedule)'}: ${i.message}`).join('; '));
    const s = parsed.data!;
    const preset = PRESETS[s.schedule];
    const cron = preset?.cron ?? s.schedule;
    if (preset === undefined) {
      if (s.schedule.startsWith('@'))
        fail(`unknown preset ${s.schedule} (use ${Object.keys(PRESETS).join(', ')} or cron)`);
      if (cron.trim().split(/\s+/).length !== 5) fail(`"${cron}" is not a five-field cron expression`);
      try {
        CronExpressionParser.parse(cron, { tz: s.timezone });
      } catch (error) {
        fail(`"${cron}": ${(error as Error).message}`);
      }
    }
    const intervalText = s.data_interval ?? preset?.interval ?? fail('a cron schedule needs data_interval');
    const duration = (text: string, what: string): Duration => {
      try {
        return parseDuration(text);
      } catch (error) {
        return fail(`${what}: ${(error as Error).message}`);
      }
    };
    const dataInterval = duration(intervalText as string, 'data_interval');
    if (dataInterval.ms < 60_000 || dataInterval.ms > MAX_INTERVAL_MS) fail('data_interval is 1m to 92d');
    const driftWindow = s.drift_window === undefined ? undefined : duration(s.drift_window, 'drift_window');
    if (driftWindow !== undefined && driftWindow.ms > dataInterval.ms)
      fail('drift_window is longer than data_interval');
    if (s.catchup && s.start_date === undefined) fail('catchup needs start_date');
    const startDateMs =
      s.start_date === undefined
        ? undefined
        : parseInstant(
            s.start_date instanceof Date ? s.start_date.toISOString().slice(0, 10) : s.start_date,
            s.timezone,
          );
    return {
      name,
      description: s.description.trim(),
      expression: s.schedule,
      cron,
      timezone: s.timezone,
      dataInterval,
      ...(driftWindow === undefined ? {} : { driftWindow }),
      retrain: s.retrain,
      retries: s.retries,
      retryDelay: duration(s.retry_delay, 'retry_delay'),
      catchup: s.catchup,
      ...(startDateMs === undefined ? {} : { startDateMs }),
    };
  });
}

/**
 * An instant: ISO 8601 with an offset, or a date / date-time without one, read in `timezone`
 * ("2026-05-01" is midnight there).
 */
export function parseInstant(text: string, timezone: string): number {
  const withOffset = /([zZ]|[+-]\d{2}:?\d{2})$/.test(text) && text.includes('T');
  const at = withOffset
    ? DateTime.fromISO(text, { setZone: true })
    : DateTime.fromISO(text, { zone: timezone });
  if (!at.isValid) throw new ScheduleError(`"${text}" is not a date or an ISO 8601 instant`);
  return at.toMillis();
}

function cron(schedule: Schedule, currentMs: number) {
  return CronExpressionParser.parse(schedule.cron, {
    tz: schedule.timezone,
    currentDate: new Date(currentMs),
  });
}

/** Ticks T with afterMs < T <= untilMs, oldest first. */
export function ticksBetween(schedule: Schedule, afterMs: number, untilMs: number): number[] {
  const expression = cron(schedule, afterMs);
  const ticks: number[] = [];
  for (;;) {
    const tick = expression.next().getTime();
    if (tick > untilMs) return ticks;
    if (tick > afterMs) ticks.push(tick);
    if (ticks.length > MAX_TICKS)
      throw new ScheduleError(`schedule ${schedule.name}: more than ${MAX_TICKS} ticks between two instants`);
  }
}

/** The next `count` ticks after afterMs. */
export function nextTicks(schedule: Schedule, afterMs: number, count: number): number[] {
  const expression = cron(schedule, afterMs);
  return Array.from({ length: count }, () => expression.next().getTime());
}

/** The latest tick at or before atMs. */
export function latestTick(schedule: Schedule, atMs: number): number {
  return cron(schedule, atMs + 1)
    .prev()
    .getTime();
}

/** The data interval of the run at `tickMs`: [tick - data_interval, tick). */
export function dataIntervalFor(schedule: Schedule, tickMs: number): Interval {
  const { days, ms } = schedule.dataInterval;
  const startMs =
    days === undefined
      ? tickMs - ms
      : DateTime.fromMillis(tickMs, { zone: schedule.timezone }).minus({ days }).toMillis();
  return { startMs, endMs: tickMs };
}

const startsInTime = (schedule: Schedule, interval: Interval) =>
  schedule.startDateMs === undefined || interval.startMs >= schedule.startDateMs;

/**
 * The intervals due at `nowMs`, oldest first: with catchup, every tick's since start_date (the
 * caller skips those already done); without, only the latest tick's.
 */
export function dueIntervals(schedule: Schedule, nowMs: number): Interval[] {
  if (!schedule.catchup) {
    const interval = dataIntervalFor(schedule, latestTick(schedule, nowMs));
    return startsInTime(schedule, interval) ? [interval] : [];
  }
  return ticksBetween(schedule, schedule.startDateMs! - 1, nowMs)
    .map((tick) => dataIntervalFor(schedule, tick))
    .filter((interval) => startsInTime(schedule, interval));
}

/** The intervals of the ticks in (fromMs, toMs] that start at or after fromMs: a backfill of [from, to]. */
export function backfillIntervals(schedule: Schedule, fromMs: number, toMs: number): Interval[] {
  if (!(toMs > fromMs)) throw new ScheduleError('a backfill needs --to after --from');
  return ticksBetween(schedule, fromMs, toMs)
    .map((tick) => dataIntervalFor(schedule, tick))
    .filter((interval) => interval.startMs >= fromMs);
}

const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d+/g, '');

/** `{schedule}-{start}-{end}`, e.g. daily-retrain-20260503T220000Z-20260504T220000Z (retrain.yaml derives the same). */
export function runIdFor(scheduleName: string, interval: Interval): string {
  return `${scheduleName}-${compact(interval.startMs)}-${compact(interval.endMs)}`;
}

/** The execution argument of retrain.yaml for one interval of a schedule. */
export interface RetrainArguments {
  schedule: string;
  force: boolean;
  rerun?: boolean;
  data_interval_start?: string;
  data_interval_end?: string;
  data_interval_seconds?: number;
  timezone?: string;
  drift_window_seconds?: number;
}

/**
 * The argument for a run: with an interval (local runs, backfills) it is given; without (Cloud
 * Scheduler, whose body is static) the workflow derives it from its start time.
 */
export function workflowArguments(
  schedule: Schedule,
  interval?: Interval,
  options: { force?: boolean; rerun?: boolean } = {},
): RetrainArguments {
  return {
    schedule: schedule.name,
    force: options.force ?? schedule.retrain === 'always',
    ...(options.rerun ? { rerun: true } : {}),
    ...(interval === undefined
      ? {
          data_interval_seconds: schedule.dataInterval.ms / 1000,
          timezone: schedule.timezone,
        }
      : {
          data_interval_start: new Date(interval.startMs).toISOString(),
          data_interval_end: new Date(interval.endMs).toISOString(),
        }),
    ...(schedule.driftWindow === undefined ? {} : { drift_window_seconds: schedule.driftWindow.ms / 1000 }),
  };
}
