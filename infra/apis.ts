/**
 * The Google APIs the program uses, enabled by it, so a new project deploys in one `pulumi up`.
 * Every other component depends on this one (Pulumi waits for all of its children).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

export const REQUIRED_APIS = [
  'artifactregistry.googleapis.com', // gen2 function images
  'bigquery.googleapis.com',
  'cloudbuild.googleapis.com', // gen2 function builds
  'cloudfunctions.googleapis.com',
  'cloudresourcemanager.googleapis.com', // project IAM
  'cloudscheduler.googleapis.com',
  'compute.googleapis.com', // VPC, load balancer, Cloud Armor
  'iam.googleapis.com',
  'logging.googleapis.com',
  'monitoring.googleapis.com',
  'networkconnectivity.googleapis.com', // Redis Cluster service connection policy
  'pubsub.googleapis.com',
  'redis.googleapis.com',
  'run.googleapis.com', // gen2 functions run on Cloud Run
  'secretmanager.googleapis.com',
  'storage.googleapis.com',
  'workflowexecutions.googleapis.com',
  'workflows.googleapis.com',
] as const;

export class ProjectApis extends pulumi.ComponentResource {
  readonly services: gcp.projects.Service[];

  constructor(name: string, args: { project: string }, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:ProjectApis', name, {}, opts);
    this.services = REQUIRED_APIS.map(
      (api) =>
        new gcp.projects.Service(
          api.split('.')[0]!,
          // Leaving an API on at teardown is harmless; turning it off could break other workloads.
          { project: args.project, service: api, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.registerOutputs({});
  }
}
