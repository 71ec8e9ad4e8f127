// What a running local stack offers a user or a tool: every URL, host, project, topic,
// subscription, dataset, table and bucket, as `<data-dir>/stack.json`, and a short "try it" block.
// Pure: local/dev/stack-file.ts writes and reads the file.

import type { FleetConfig } from '../../shared/config.js';
import { TELEMETRY_ROUTE } from '../../shared/ingress/request-signature.js';
import type { LocalStack } from '../servers/local-stack.js';
import type { PipelineSubscriptions } from '../servers/pipeline-resources.js';

export const STACK_FILE_NAME = 'stack.json';

export interface StackFunction {
  url: string;
  signature: 'http' | 'cloudevent';
  logPath: string;
}

export interface StackEndpoints {
  /** Bumped when a field changes meaning or goes away. */
  version: 1;
  startedAt: string;
  /** The dev process; Ctrl-C (SIGINT) to it stops the stack. */
  pid: number;
  dataDir: string;
  projectId: string;
  /** Every function under functions-framework, by the name it registers with. */
  functions: Record<string, StackFunction>;
  featuresApi: { url: string; vehicleFeaturesUrl: string };
  /** The local dashboard (local/dashboard/): the page, and the JSON it polls. */
  dashboard: { url: string; healthUrl: string; fleetUrl: string };
  gateway: {
    url: string;
    telemetryUrl: string;
    /** The local stack's public fleet secret (local/simulator/gateway-publisher.ts); `npm run device` derives keys from it. */
    fleetSecret: string;
  };
  pubsub: {
    /** The value for PUBSUB_EMULATOR_HOST. */
    emulatorHost: string;
    /** The emulator's REST base URL (gcloud's api_endpoint_overrides/pubsub). */
    url: string;
    topics: { telemetry: string; deadLetter: string; featureRows: string; alerts: string };
    subscriptions: {
      /** Push subscription feeding processTelemetry. */
      processTelemetry: string;
      deadLetterWatch: string;
      alertsWatch: string;
      /** Pull subscriptions the local archive writers read in place of Cloud Storage subscriptions. */
      featuresArchive: string;
      rawArchive: string;
    };
  };
  gcs: {
    /** JSON API base URL (STORAGE_EMULATOR_HOST, gcloud's api_endpoint_overrides/storage). */
    url: string;
    host: string;
    bucket: string;
    modelsBucket: string;
    /** Folder holding the stand-in's objects. */
    objectStoreRoot: string;
  };
  bigquery: {
    /** REST base URL (BIGQUERY_API_ENDPOINT). */
    url: string;
    dataset: string;
    featuresTable: string;
    location: string;
    /** The stand-in's DuckDB file. */
    warehousePath: string;
  };
  redis: { url: string };
  allowedLatenessS: number;
  /** Environment that points a function, a script or a client library at this stack. */
  env: Record<string, string>;
}

export interface StackEndpointsInput {
  startedAt: Date;
  pid: number;
  dataDir: string;
  config: FleetConfig;
  stack: Pick<
    LocalStack,
    | 'redisUrl'
    | 'pubsubEmulatorHost'
    | 'gcsStandinUrl'
    | 'gcsStandinHost'
    | 'bigqueryStandinUrl'
    | 'warehousePath'
    | 'objectStoreRoot'
  >;
  functions: readonly {
    target: string;
    url: string;
    signature: 'http' | 'cloudevent';
    group: { logPath: string };
  }[];
  subscriptions: PipelineSubscriptions;
  dashboardUrl: string;
  fleetSecret: string;
  env: Record<string, string>;
  sampleVehicleId: string;
}

export function describeStack(input: StackEndpointsInput): StackEndpoints {
  const { config, stack } = input;
  const urlOf = (target: string): string => {
    const found = input.functions.find((f) => f.target === target);
    if (!found) throw new Error(`the stack has no function ${target}`);
    return found.url;
  };
  const featuresApiUrl = urlOf('featuresApi');
  const gatewayUrl = urlOf('ingestGateway');
  return {
    version: 1,
    startedAt: input.startedAt.toISOString(),
    pid: input.pid,
    dataDir: input.dataDir,
    projectId: config.projectId,
    functions: Object.fromEntries(
      input.functions.map((f) => [
        f.target,
        { url: f.url, signature: f.signature, logPath: f.group.logPath },
      ]),
    ),
    featuresApi: {
      url: featuresApiUrl,
      vehicleFeaturesUrl: `${featuresApiUrl}/v1/vehicles/${input.sampleVehicleId}/features`,
    },
    dashboard: {
      url: input.dashboardUrl,
      healthUrl: `${input.dashboardUrl}/api/health`,
      fleetUrl: `${input.dashboardUrl}/api/fleet`,
    },
    gateway: {
      url: gatewayUrl,
      telemetryUrl: `${gatewayUrl}${TELEMETRY_ROUTE}`,
      fleetSecret: input.fleetSecret,
    },
    pubsub: {
      emulatorHost: stack.pubsubEmulatorHost,
      url: `http://${stack.pubsubEmulatorHost}`,
      topics: { ...config.topics },
      subscriptions: {
        processTelemetry: input.subscriptions.features,
        deadLetterWatch: input.subscriptions.deadLetterWatch,
        alertsWatch: input.subscriptions.alertsWatch,
        featuresArchive: input.subscriptions.archives.features.subscription,
        rawArchive: input.subscriptions.archives.raw.subscription,
      },
    },
    gcs: {
      url: stack.gcsStandinUrl,
      host: stack.gcsStandinHost,
      bucket: config.featuresBucket,
      modelsBucket: config.model.bucket,
      objectStoreRoot: stack.objectStoreRoot,
    },
    bigquery: {
      url: stack.bigqueryStandinUrl,
      dataset: config.bigquery.dataset,
      featuresTable: config.bigquery.featuresTable,
      location: config.bigquery.location,
      warehousePath: stack.warehousePath,
    },
    redis: { url: stack.redisUrl },
    allowedLatenessS: config.engine.allowedLatenessMs / 1000,
    env: { ...input.env },
  };
}

/** The "try it" lines printed with the stack file's path. */
export function tryItLines(endpoints: StackEndpoints, stackFilePath: string): string[] {
  const { pubsub, gcs, projectId } = endpoints;
  const vehicle = 'veh-09001';
  const reading = `{"vehicle_id":"${vehicle}","timestamp":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","speed_kmh":52.5,"engine_temp_c":91.2,"gps_lat":48.137,"gps_lon":11.575}`;
  return [
    `stack endpoints  ${stackFilePath}`,
    `dashboard        ${endpoints.dashboard.url}  (fleet, vehicle windows, pipeline health; live)`,
    'try it:',
    '  # latest features of a vehicle (the simulator sends veh-00001 and up)',
    `  curl -s ${endpoints.featuresApi.vehicleFeaturesUrl}`,
    '  # publish a reading to the telemetry topic of the Pub/Sub emulator with gcloud',
    `  CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=${pubsub.url}/ CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true \\`,
    `    gcloud pubsub topics publish ${pubsub.topics.telemetry} --project ${projectId} --message '${reading}'`,
    `  curl -s ${endpoints.featuresApi.url}/v1/vehicles/${vehicle}/features`,
    '  # list the bucket (archives, quarantine, models) in the GCS stand-in with gcloud storage',
    `  CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=${gcs.url}/ CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true \\`,
    `    gcloud storage ls -r gs://${gcs.bucket}/ --project ${projectId}`,
    '  # sign and send readings through the ingest gateway, as a device would',
    `  npm run device -- send --vehicle ${vehicle} --url ${endpoints.gateway.url} --wait`,
  ];
}
