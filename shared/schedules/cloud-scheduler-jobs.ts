/**
 * Cloud Scheduler jobs for the retraining schedules (pure; infra passes the result to
 * gcp.cloudscheduler.Job). Each job POSTs to the Workflow Executions API, authenticated with an
 * OAuth token of the scheduler's service account, a static body: Cloud Scheduler cannot put the tick
 * in it, so the argument carries the schedule's data_interval_seconds and timezone and
 * workflows/retrain.yaml derives the interval from the minute the execution started.
 *
 * Cloud Scheduler retries only a failed start of the execution (retry_config); a failed run stays
 * recorded as failed and a backfill over its interval runs it again. It never catches up.
 */
import { type Schedule, workflowArguments } from './timetable.js';

export interface CloudSchedulerJob {
  /** Job id: retrain-{schedule}. */
  name: string;
  description: string;
  schedule: string;
  timeZone: string;
  attemptDeadline: string;
  retryConfig: {
    retryCount: number;
    minBackoffDuration: string;
    maxBackoffDuration: string;
    maxDoublings: number;
  };
  httpTarget: {
    uri: string;
    httpMethod: 'POST';
    headers: Record<string, string>;
    /** Base64 of the JSON body, as the Cloud Scheduler API (and Pulumi) take it. */
    body: string;
    oauthToken: { serviceAccountEmail: string; scope: string };
  };
}

export interface WorkflowTarget {
  projectId: string;
  location: string;
  workflow: string;
  /** Needs roles/workflows.invoker on the workflow. */
  serviceAccountEmail: string;
}

export function cloudSchedulerJobs(
  schedules: readonly Schedule[],
  target: WorkflowTarget,
): CloudSchedulerJob[] {
  const uri = `https://workflowexecutions.googleapis.com/v1/projects/${target.projectId}/locations/${target.location}/workflows/${target.workflow}/executions`;
  return schedules.map((schedule) => {
    const argument = JSON.stringify(workflowArguments(schedule));
    const delayS = schedule.retryDelay.ms / 1000;
    return {
      name: `retrain-${schedule.name}`,
      description: schedule.description || `retrain.yaml on schedule ${schedule.name}`,
      schedule: schedule.cron,
      timeZone: schedule.timezone,
      attemptDeadline: '180s',
      retryConfig: {
        retryCount: schedule.retries,
        minBackoffDuration: `${delayS}s`,
        maxBackoffDuration: `${delayS * 4}s`,
        maxDoublings: 2,
      },
      httpTarget: {
        uri,
        httpMethod: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: Buffer.from(JSON.stringify({ argument, callLogLevel: 'LOG_ERRORS_ONLY' })).toString('base64'),
        oauthToken: {
          serviceAccountEmail: target.serviceAccountEmail,
          scope: 'https://www.googleapis.com/auth/cloud-platform',
        },
      },
    };
  });
}
