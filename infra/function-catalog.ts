/**
 * Every deployable function (one folder under functions/), what triggers it, who may call it and
 * what it may touch. The functions component turns each entry into a service account, its grants
 * and a Cloud Functions gen2 function; the infra tests check every folder under functions/ has an
 * entry here, so a new function cannot ship without its identity, trigger and invoker policy.
 */

import type * as gcp from '@pulumi/gcp';
import type * as pulumi from '@pulumi/pulumi';

export const FUNCTION_FOLDERS = [
  'process-telemetry',
  'features-api',
  'ingest-gateway',
  'trainer',
  'drift',
] as const;
export type FunctionFolder = (typeof FUNCTION_FOLDERS)[number];

/** What a function may do; each maps to one IAM grant on one resource (infra/function-access.ts). */
export type Access =
  | 'publish:telemetry'
  | 'publish:dead-letter'
  | 'publish:feature-rows'
  | 'publish:alerts'
  | 'warehouse:write'
  | 'warehouse:read'
  | 'warehouse:query'
  | 'features-bucket:create'
  | 'models:read'
  | 'models:write'
  | 'redis'
  | 'fleet-secret';

export interface FunctionResources {
  memory: string;
  cpu: string;
  /** Requests one instance serves at once; >1 lets concurrent deliveries share a group commit. */
  concurrency: number;
  minInstances: number;
  maxInstances: number;
  timeoutS: number;
}

export interface FunctionSpec {
  folder: FunctionFolder;
  /** The name the function registers with functions-framework in functions/<folder>/index.ts. */
  entryPoint: string;
  description: string;
  /**
   * http: called over HTTPS (IAM-authenticated unless public). telemetry-push: a Pub/Sub push
   * subscription on telemetry-raw with retries and a dead-letter policy delivers each message.
   */
  trigger: 'http' | 'telemetry-push';
  ingress: 'ALLOW_INTERNAL_ONLY' | 'ALLOW_INTERNAL_AND_GCLB';
  /** allUsers may invoke it: only the ingest gateway, reachable only through the load balancer. */
  public: boolean;
  /** The retraining workflow calls it (roles/run.invoker for the workflow's account). */
  calledByWorkflow: boolean;
  access: readonly Access[];
  resources: FunctionResources;
}

/** A function as deployed: its spec, service account, Cloud Functions resource and URL. */
export interface DeployedFunction {
  spec: FunctionSpec;
  account: gcp.serviceaccount.Account;
  fn: gcp.cloudfunctionsv2.Function;
  url: pulumi.Output<string>;
}

export const FUNCTION_CATALOG: Readonly<Record<FunctionFolder, FunctionSpec>> = {
  'process-telemetry': {
    folder: 'process-telemetry',
    entryPoint: 'processTelemetry',
    description: 'telemetry-raw → rolling-window features → Redis, BigQuery, feature-rows',
    trigger: 'telemetry-push',
    ingress: 'ALLOW_INTERNAL_ONLY',
    public: false,
    calledByWorkflow: false,
    access: [
      'redis',
      'warehouse:write',
      'publish:dead-letter',
      'publish:feature-rows',
      'publish:alerts',
      'features-bucket:create',
      'models:read',
    ],
    resources: {
      memory: '1Gi',
      cpu: '1',
      concurrency: 80,
      minInstances: 1,
      maxInstances: 100,
      timeoutS: 60,
    },
  },
  'features-api': {
    folder: 'features-api',
    entryPoint: 'featuresApi',
    description: 'online features: each vehicle’s latest vector from Redis',
    trigger: 'http',
    ingress: 'ALLOW_INTERNAL_ONLY',
    public: false,
    calledByWorkflow: false,
    access: ['redis', 'models:read'],
    resources: {
      memory: '512Mi',
      cpu: '1',
      concurrency: 80,
      minInstances: 0,
      maxInstances: 20,
      timeoutS: 30,
    },
  },
  'ingest-gateway': {
    folder: 'ingest-gateway',
    entryPoint: 'ingestGateway',
    description: 'devices POST signed telemetry over HTTPS (behind the load balancer and Cloud Armor)',
    trigger: 'http',
    ingress: 'ALLOW_INTERNAL_AND_GCLB',
    public: true,
    calledByWorkflow: false,
    access: ['redis', 'publish:telemetry', 'models:read', 'fleet-secret'],
    resources: {
      memory: '512Mi',
      cpu: '1',
      concurrency: 80,
      minInstances: 1,
      maxInstances: 100,
      timeoutS: 30,
    },
  },
  trainer: {
    folder: 'trainer',
    entryPoint: 'trainer',
    description: 'retraining steps: data quality, train, gate, promote, run records',
    trigger: 'http',
    ingress: 'ALLOW_INTERNAL_ONLY',
    public: false,
    calledByWorkflow: true,
    access: ['warehouse:read', 'warehouse:query', 'models:write'],
    // The workflow's calls wait up to 1800 s; a training set of 100k rows fits in 2 GiB.
    resources: { memory: '2Gi', cpu: '1', concurrency: 1, minInstances: 0, maxInstances: 3, timeoutS: 1800 },
  },
  drift: {
    folder: 'drift',
    entryPoint: 'drift',
    description: 'population stability index of recent features against the champion’s baseline',
    trigger: 'http',
    ingress: 'ALLOW_INTERNAL_ONLY',
    public: false,
    calledByWorkflow: true,
    access: ['warehouse:read', 'warehouse:query', 'models:read'],
    resources: { memory: '1Gi', cpu: '1', concurrency: 1, minInstances: 0, maxInstances: 3, timeoutS: 600 },
  },
};
