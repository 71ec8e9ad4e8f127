/**
 * The functions (Cloud Functions gen2, nodejs22), one per entry of the catalog: each with its own
 * service account and only the grants its `access` lists (function-access.ts), its own source
 * archive in the source bucket, its environment by the names shared/config.ts reads, Redis reached
 * over Direct VPC egress with the URL and CA from Secret Manager, and its invoker policy. Event
 * functions are fed by a retried, dead-lettered push subscription (telemetry-push.ts).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { ConfigVariable } from '../shared/config.js';
import type { InfraConfig } from './config.js';
import { type AccessTargets, grantAccess } from './function-access.js';
import {
  type DeployedFunction,
  FUNCTION_CATALOG,
  type FunctionFolder,
  type FunctionSpec,
} from './function-catalog.js';
import { functionArchive } from './function-source.js';
import type { Messaging } from './messaging.js';
import type { Network } from './network.js';
import { type OnlineStore, REDIS_CA_MOUNT } from './online-store.js';
import { type SecretRef, secretWithVersion } from './secrets.js';
import type { Storage } from './storage.js';
import { telemetryPush } from './telemetry-push.js';
import type { Warehouse } from './warehouse.js';

export const FUNCTION_RUNTIME = 'nodejs22';
/** The fleet secret devices' keys derive from (README "Ingest gateway"). */
export const FLEET_SECRET_ID = 'ingest-fleet-secret';

type Environment = Partial<Record<ConfigVariable | 'NODE_EXTRA_CA_CERTS', pulumi.Input<string>>>;

export interface FunctionsArgs {
  config: InfraConfig;
  network: Network;
  storage: Storage;
  warehouse: Warehouse;
  messaging: Messaging;
  onlineStore: OnlineStore;
  dependsOn: pulumi.Resource[];
}

export class Functions extends pulumi.ComponentResource {
  readonly deployed: Record<FunctionFolder, DeployedFunction>;
  readonly fleetSecret: SecretRef;
  /** The push subscriptions that feed event functions (each retried and dead-lettered). */
  readonly pushSubscriptions: gcp.pubsub.Subscription[];
  readonly #args: FunctionsArgs;
  readonly #child: pulumi.CustomResourceOptions;
  readonly #builder: gcp.serviceaccount.Account;
  readonly #builderGrant: pulumi.Resource;

  constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Functions', name, {}, opts);
    this.#args = args;
    this.#child = { parent: this, dependsOn: args.dependsOn };
    const { config } = args;
    this.fleetSecret = secretWithVersion(
      FLEET_SECRET_ID,
      {
        project: config.project,
        secretId: FLEET_SECRET_ID,
        data: config.ingestFleetSecret,
        description: 'INGEST_FLEET_SECRET: device keys are HMAC-SHA256(secret, device id)',
      },
      this.#child,
    );
    // Builds run as an account of their own: a new project's default compute account may hold
    // no roles (the automatic Editor grant is off by organisation policy in most of them).
    this.#builder = new gcp.serviceaccount.Account(
      'function-build-sa',
      {
        project: config.project,
        accountId: 'ff-function-build',
        displayName: 'fleet-features function builds',
        description: 'Cloud Build account of the gen2 function builds.',
      },
      this.#child,
    );
    this.#builderGrant = new gcp.projects.IAMMember(
      'function-build-builder',
      {
        project: config.project,
        role: 'roles/cloudbuild.builds.builder',
        member: pulumi.interpolate`serviceAccount:${this.#builder.email}`,
      },
      this.#child,
    );
    const entries = Object.values(FUNCTION_CATALOG).map((spec) => [spec.folder, this.#deploy(spec)] as const);
    this.deployed = Object.fromEntries(entries) as Record<FunctionFolder, DeployedFunction>;
    this.pushSubscriptions = Object.values(this.deployed)
      .filter((d) => d.spec.trigger === 'telemetry-push')
      .map((d) =>
        telemetryPush(d, { config, messaging: args.messaging, dependsOn: args.dependsOn }, this.#child),
      );
    this.registerOutputs({});
  }

  #deploy(spec: FunctionSpec): DeployedFunction {
    const { config, storage } = this.#args;
    const child = this.#child;
    const id = `fn-${spec.folder}`;
    const account = new gcp.serviceaccount.Account(
      `${id}-sa`,
      {
        project: config.project,
        accountId: `ff-${spec.folder}`,
        displayName: `fleet-features ${spec.entryPoint}`,
        description: `Runs the ${spec.entryPoint} function; holds only its own grants.`,
      },
      child,
    );
    const member = pulumi.interpolate`serviceAccount:${account.email}`;
    const grants = spec.access.flatMap((access) =>
      grantAccess(`${id}-${access.replace(':', '-')}`, access, member, this.#accessTargets(), child),
    );

    const source = functionArchive(config.bundlesDir, spec.folder);
    const object = new gcp.storage.BucketObject(
      `${id}-source`,
      { bucket: storage.functionSource.name, name: source.objectName, source: source.archive },
      child,
    );
    const resources = { ...spec.resources, ...config.functions[spec.folder] };
    const usesRedis = spec.access.includes('redis');
    const fn = new gcp.cloudfunctionsv2.Function(
      id,
      {
        project: config.project,
        location: config.region,
        name: spec.folder,
        description: spec.description,
        labels: { app: 'fleet-features' },
        buildConfig: {
          runtime: FUNCTION_RUNTIME,
          entryPoint: spec.entryPoint,
          serviceAccount: this.#builder.name,
          source: { storageSource: { bucket: storage.functionSource.name, object: object.name } },
        },
        serviceConfig: {
          serviceAccountEmail: account.email,
          ingressSettings: spec.ingress,
          availableMemory: resources.memory,
          availableCpu: resources.cpu,
          maxInstanceRequestConcurrency: resources.concurrency,
          minInstanceCount: resources.minInstances,
          maxInstanceCount: resources.maxInstances,
          timeoutSeconds: resources.timeoutS,
          allTrafficOnLatestRevision: true,
          environmentVariables: this.#environment(spec),
          secretEnvironmentVariables: this.#secretEnvironment(spec),
          ...(usesRedis ? this.#redisAccess() : {}),
        },
      },
      // A function starts only once it may do its work.
      { ...child, dependsOn: [...this.#args.dependsOn, ...grants, this.#builderGrant] },
    );
    // The Cloud Run URL: what Cloud Run accepts as the audience of an OIDC token.
    const url = fn.serviceConfig.apply((service) => {
      if (service?.uri === undefined) throw new Error(`function ${spec.folder} has no service URI`);
      return service.uri;
    });
    const deployed = { spec, account, fn, url };
    this.#invokers(deployed);
    return deployed;
  }

  /** The variables of shared/config.ts this function reads; the rest keep their defaults. */
  #environment(spec: FunctionSpec): Record<string, pulumi.Input<string>> {
    const { config, storage, messaging, warehouse } = this.#args;
    const env: Environment = {
      GOOGLE_CLOUD_PROJECT: config.project,
      LOG_LEVEL: config.logLevel,
      FEATURES_BUCKET: storage.features.name,
      MODELS_BUCKET: storage.models.name,
      BIGQUERY_DATASET: warehouse.dataset.datasetId,
      BIGQUERY_FEATURES_TABLE: warehouse.table.tableId,
      BIGQUERY_LOCATION: config.bigqueryLocation,
      TELEMETRY_TOPIC: messaging.telemetry.name,
      DEAD_LETTER_TOPIC: messaging.deadLetter.name,
      FEATURE_ROWS_TOPIC: messaging.featureRows.name,
      ALERTS_TOPIC: messaging.alerts.name,
      ALLOWED_LATENESS_S: String(config.allowedLatenessS),
      MAX_FUTURE_SKEW_S: String(config.maxFutureSkewS),
      ALERT_RISK_THRESHOLD: String(config.alertRiskThreshold),
    };
    if (spec.access.includes('fleet-secret')) {
      env.INGEST_RATE_PER_S = String(config.ingestRatePerS);
      env.INGEST_BURST = String(config.ingestBurst);
    }
    if (spec.access.includes('redis')) {
      env.NODE_EXTRA_CA_CERTS = `${REDIS_CA_MOUNT.mountPath}/${REDIS_CA_MOUNT.file}`;
      // The Cluster client follows slots across shards (shared/adapters/redis-client.ts).
      env.REDIS_CLUSTER = String(config.redisMode === 'cluster');
    }
    return Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, pulumi.Input<string>] => entry[1] !== undefined),
    );
  }

  #secretEnvironment(spec: FunctionSpec) {
    const { config, onlineStore } = this.#args;
    const variable = (
      key: ConfigVariable,
      secretId: pulumi.Input<string>,
      version: pulumi.Input<string>,
    ) => ({
      key,
      projectId: config.project,
      secret: secretId,
      version,
    });
    const variables = [];
    if (spec.access.includes('redis')) {
      variables.push(variable('REDIS_URL', onlineStore.redisUrl.secretId, onlineStore.redisUrl.version));
    }
    if (spec.access.includes('fleet-secret')) {
      const current = config.ingestFleetSecretVersion ?? this.fleetSecret.version;
      variables.push(variable('INGEST_FLEET_SECRET', this.fleetSecret.secretId, current));
      if (config.ingestFleetSecretPreviousVersion !== undefined) {
        variables.push(
          variable(
            'INGEST_FLEET_SECRET_PREVIOUS',
            this.fleetSecret.secretId,
            config.ingestFleetSecretPreviousVersion,
          ),
        );
      }
    }
    return variables;
  }

  /** Direct VPC egress (private ranges only) and the Redis CA as a secret volume. */
  #redisAccess(): Pick<
    gcp.types.input.cloudfunctionsv2.FunctionServiceConfig,
    'directVpcNetworkInterfaces' | 'directVpcEgress' | 'secretVolumes'
  > {
    const { config, network, onlineStore } = this.#args;
    return {
      directVpcNetworkInterfaces: [{ network: network.network.id, subnetwork: network.subnet.id }],
      directVpcEgress: 'VPC_EGRESS_PRIVATE_RANGES_ONLY',
      secretVolumes: [
        {
          mountPath: REDIS_CA_MOUNT.mountPath,
          projectId: config.project,
          secret: onlineStore.redisCa.secretId,
          versions: [{ path: REDIS_CA_MOUNT.file, version: onlineStore.redisCa.version }],
        },
      ],
    };
  }

  #accessTargets(): AccessTargets {
    const { config, messaging, storage, warehouse, onlineStore } = this.#args;
    return {
      project: config.project,
      messaging,
      storage,
      warehouse,
      onlineStore,
      fleetSecret: this.fleetSecret,
    };
  }

  /** Who may call the function: allUsers for the public gateway only; named members otherwise. */
  #invokers(deployed: DeployedFunction): void {
    const { config } = this.#args;
    const { spec, fn } = deployed;
    const members: pulumi.Input<string>[] = [];
    if (spec.public) members.push('allUsers');
    if (spec.folder === 'features-api') members.push(...config.featuresApiInvokers);
    members.forEach((member, index) => {
      new gcp.cloudrunv2.ServiceIamMember(
        `fn-${spec.folder}-invoker-${index}`,
        {
          project: config.project,
          location: config.region,
          name: fn.name,
          role: 'roles/run.invoker',
          member,
        },
        this.#child,
      );
    });
  }
}
