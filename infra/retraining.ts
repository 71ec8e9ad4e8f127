/**
 * Retraining: workflows/retrain.yaml deployed to Cloud Workflows as it is, with the trainer's and
 * drift function's URLs as its user-defined environment (TRAINER_URL, DRIFT_URL: not arguments, so
 * whoever starts an execution can't aim its OIDC tokens elsewhere), its own service account (invoker
 * of those two functions only), and one Cloud Scheduler job per schedule of workflows/schedules.yaml
 * (shared/schedules/cloud-scheduler-jobs.ts builds them; the workflow derives each run's data
 * interval from the minute its execution started).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { loadConfig } from '../shared/config.js';
import { cloudSchedulerJobs } from '../shared/schedules/cloud-scheduler-jobs.js';
import { parseSchedules } from '../shared/schedules/timetable.js';
import type { InfraConfig } from './config.js';
import type { DeployedFunction } from './function-catalog.js';
import { REPO_ROOT } from './function-source.js';
import type { Functions } from './functions.js';

export const WORKFLOW_SOURCE = join(REPO_ROOT, 'workflows/retrain.yaml');
export const SCHEDULES_FILE = join(REPO_ROOT, 'workflows/schedules.yaml');
/** RETRAIN_WORKFLOW's default: what `npm run retrain -- --cloud` starts. */
export const WORKFLOW_NAME = loadConfig({}).retraining.workflow;
const SCHEDULER_ACCOUNT_ID = 'ff-retrain-scheduler';

export interface RetrainingArgs {
  config: InfraConfig;
  functions: Functions;
  dependsOn: pulumi.Resource[];
}

export class Retraining extends pulumi.ComponentResource {
  readonly workflow: gcp.workflows.Workflow;
  readonly jobs: gcp.cloudscheduler.Job[];

  constructor(name: string, args: RetrainingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Retraining', name, {}, opts);
    const { config } = args;
    const project = config.project;
    const child = { parent: this, dependsOn: args.dependsOn };
    const account = new gcp.serviceaccount.Account(
      `${name}-workflow-sa`,
      {
        project,
        accountId: 'ff-retrain-workflow',
        displayName: 'fleet-features retraining workflow',
        description: 'Runs workflows/retrain.yaml: calls the trainer and drift functions, writes its logs.',
      },
      child,
    );
    const member = pulumi.interpolate`serviceAccount:${account.email}`;
    const called = Object.values(args.functions.deployed).filter((d) => d.spec.calledByWorkflow);
    const grants: pulumi.Resource[] = called.map(
      (d) =>
        new gcp.cloudrunv2.ServiceIamMember(
          `${name}-invokes-${d.spec.folder}`,
          { project, location: config.region, name: d.fn.name, role: 'roles/run.invoker', member },
          child,
        ),
    );
    // sys.log steps write to Cloud Logging as the workflow's account.
    grants.push(
      new gcp.projects.IAMMember(
        `${name}-workflow-logs`,
        { project, role: 'roles/logging.logWriter', member },
        child,
      ),
    );
    const urlOf = (folder: DeployedFunction['spec']['folder']) => args.functions.deployed[folder].url;
    this.workflow = new gcp.workflows.Workflow(
      `${name}-workflow`,
      {
        project,
        region: config.region,
        name: WORKFLOW_NAME,
        description:
          'fleet-features retraining: quality, drift, train, gate, promote (workflows/retrain.yaml)',
        serviceAccount: account.email,
        sourceContents: readFileSync(WORKFLOW_SOURCE, 'utf8'),
        userEnvVars: { TRAINER_URL: urlOf('trainer'), DRIFT_URL: urlOf('drift') },
        callLogLevel: 'LOG_ERRORS_ONLY',
        deletionProtection: false,
        labels: { app: 'fleet-features' },
      },
      { ...child, dependsOn: [...args.dependsOn, ...grants] },
    );

    const scheduler = new gcp.serviceaccount.Account(
      `${name}-scheduler-sa`,
      {
        project,
        accountId: SCHEDULER_ACCOUNT_ID,
        displayName: 'fleet-features retraining scheduler',
        description: 'Starts executions of the retraining workflow on its schedules.',
      },
      child,
    );
    const starts = new gcp.projects.IAMMember(
      `${name}-scheduler-starts-workflows`,
      {
        project,
        role: 'roles/workflows.invoker',
        member: pulumi.interpolate`serviceAccount:${scheduler.email}`,
      },
      child,
    );
    const schedules = parseSchedules(readFileSync(SCHEDULES_FILE, 'utf8'));
    const jobs = cloudSchedulerJobs(schedules, {
      projectId: project,
      location: config.region,
      workflow: WORKFLOW_NAME,
      // A user-managed account's email is known before it exists; the job waits for it (dependsOn).
      serviceAccountEmail: `${SCHEDULER_ACCOUNT_ID}@${project}.iam.gserviceaccount.com`,
    });
    this.jobs = jobs.map(
      (job) =>
        new gcp.cloudscheduler.Job(
          `${name}-${job.name}`,
          {
            project,
            region: config.region,
            name: job.name,
            description: job.description,
            schedule: job.schedule,
            timeZone: job.timeZone,
            attemptDeadline: job.attemptDeadline,
            retryConfig: job.retryConfig,
            httpTarget: job.httpTarget,
          },
          { ...child, dependsOn: [...args.dependsOn, scheduler, starts, this.workflow] },
        ),
    );
    this.registerOutputs({ workflow: this.workflow.name });
  }
}
