// What `npm run retrain` and `npm run schedule` print: one line per workflow step, a summary per
// run (the champion's AUC beside the one-feature baseline, a rejection's reasons, the failed
// expectations, the drift that triggered a retrain), and a schedule's next ticks.

import { dataIntervalFor, nextTicks, type Schedule } from '../../shared/schedules/timetable.js';
import type { WorkflowMap, WorkflowValue } from '../workflows/workflow-errors.js';
import type { StepLogEntry } from '../workflows/workflow-runner.js';
import type { IntervalRun } from './retrain-runs.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const fixed = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : '-');

/** `12:00:01.234  main › run › check_quality  call post_to_function` */
export function formatStep(entry: StepLogEntry): string {
  const time = entry.time.slice(11, 23);
  const severity = entry.kind === 'log' ? `[${entry.severity}] ` : '';
  return `  ${time}  ${entry.step}  ${severity}${entry.message}`;
}

function get(value: WorkflowValue | undefined, ...path: string[]): WorkflowValue | undefined {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as WorkflowMap)[key];
  }
  return v;
}

/** A run in a few lines a person reads. */
export function describeRun(run: IntervalRun): string {
  const head = `${run.runId}  ${run.status}  [${iso(run.interval.startMs)}, ${iso(run.interval.endMs)})`;
  if (run.status === 'skipped') return `${head}  already done: ${run.previous}`;
  const result = run.outcome?.result;
  const details = get(result, 'details');
  const lines = [head];
  const trigger = get(details, 'trigger');
  const drift = get(details, 'drift');
  if (drift !== undefined) {
    const drifted = get(drift, 'drifted_features');
    lines.push(
      `  drift: max PSI ${fixed(get(drift, 'max_psi'))} (threshold ${get(drift, 'threshold') ?? '-'})` +
        (Array.isArray(drifted) && drifted.length > 0 ? ` on ${drifted.join(', ')}` : '') +
        (get(drift, 'reason') === undefined ? '' : `, ${String(get(drift, 'reason'))}`) +
        (trigger === undefined ? '' : `; trained because: ${String(trigger)}`),
    );
  }
  const metrics = get(details, 'train', 'metrics');
  if (metrics !== undefined)
    lines.push(
      `  model ${String(get(details, 'train', 'version'))}: holdout AUC ${fixed(get(metrics, 'auc'))} ` +
        `vs baseline (engine_temp_c alone) ${fixed(get(metrics, 'baseline_auc'))}; precision ${fixed(get(metrics, 'precision'))} ` +
        `recall ${fixed(get(metrics, 'recall'))}; ${String(get(metrics, 'rows_train'))} train / ${String(get(metrics, 'rows_holdout'))} holdout rows`,
    );
  const reasons = get(details, 'gate', 'reasons');
  if (Array.isArray(reasons)) lines.push(`  gate: ${reasons.join('; ')}`);
  const failures = get(details, 'quality', 'failures');
  if (Array.isArray(failures) && failures.length > 0)
    lines.push(
      `  data quality failed (${String(get(details, 'quality', 'rows'))} rows): ` +
        failures
          .map(
            (f) =>
              `${String(get(f, 'expectation'))} observed ${JSON.stringify(get(f, 'observed'))}, expected ${String(get(f, 'expected'))}`,
          )
          .join('; '),
    );
  const refusal = get(details, 'error', 'body', 'error');
  if (refusal !== undefined)
    lines.push(
      `  ${run.status === 'failed' ? 'failed' : 'refused'}: ${String(get(refusal, 'code'))}: ${String(get(refusal, 'message'))}`,
    );
  const champion = get(details, 'champion', 'version');
  if (champion !== undefined) lines.push(`  champion is now ${String(champion)}`);
  if (run.outcome?.state !== 'SUCCEEDED')
    lines.push(
      `  execution ${run.outcome?.executionId} ${run.outcome?.state}: ${JSON.stringify(run.outcome?.error)}`,
    );
  if (run.attempts > 1) lines.push(`  after ${run.attempts} attempts`);
  return lines.join('\n');
}

/** The schedule, and its next ticks with the data interval each run receives. */
export function describeSchedule(schedule: Schedule, nowMs: number, count = 3): string {
  const lines = [
    `${schedule.name}: ${schedule.expression}${schedule.expression === schedule.cron ? '' : ` (${schedule.cron})`} ${schedule.timezone}, ` +
      `data interval ${schedule.dataInterval.text}, retrain ${schedule.retrain}, retries ${schedule.retries} every ${schedule.retryDelay.text}, ` +
      `catchup ${schedule.catchup ? `on since ${iso(schedule.startDateMs!)}` : 'off'}`,
  ];
  for (const tick of nextTicks(schedule, nowMs, count)) {
    const interval = dataIntervalFor(schedule, tick);
    lines.push(`  at ${iso(tick)}: data interval [${iso(interval.startMs)}, ${iso(interval.endMs)})`);
  }
  return lines.join('\n');
}
