/**
 * The whole of fleet-features on Google Cloud, one component per concern. infra/index.ts runs it on
 * the stack's configuration; the tests run it on literal settings under Pulumi's mocks.
 */
import * as pulumi from '@pulumi/pulumi';
import { ProjectApis } from './apis.js';
import type { InfraConfig } from './config.js';
import { Edge } from './edge.js';
import { Functions } from './functions.js';
import { Messaging } from './messaging.js';
import { Network } from './network.js';
import { Observability } from './observability.js';
import { OnlineStore } from './online-store.js';
import { Retraining } from './retraining.js';
import { Storage } from './storage.js';
import { Warehouse } from './warehouse.js';

export interface FleetFeaturesOutputs {
  ingestUrl: pulumi.Output<string>;
  ingestIpAddress: pulumi.Output<string>;
  topics: Record<'telemetry' | 'deadLetter' | 'featureRows' | 'alerts', pulumi.Output<string>>;
  featuresTable: pulumi.Output<string>;
  featuresByIdentityView: pulumi.Output<string>;
  buckets: Record<'features' | 'models' | 'functionSource', pulumi.Output<string>>;
  workflow: pulumi.Output<string>;
  featuresApiUrl: pulumi.Output<string>;
}

export function createFleetFeatures(config: InfraConfig): FleetFeaturesOutputs {
  const apis = new ProjectApis('apis', { project: config.project });
  const dependsOn = [apis];
  const network = new Network('network', { ...config, dependsOn });
  const storage = new Storage('storage', { config, dependsOn });
  const warehouse = new Warehouse('warehouse', { config, dependsOn });
  const messaging = new Messaging('messaging', {
    config,
    featuresBucket: storage.features,
    dependsOn,
  });
  const onlineStore = new OnlineStore('online-store', { config, network, dependsOn });
  const functions = new Functions('functions', {
    config,
    network,
    storage,
    warehouse,
    messaging,
    onlineStore,
    dependsOn,
  });
  const edge = new Edge('edge', { config, gateway: functions.deployed['ingest-gateway'].fn, dependsOn });
  const retraining = new Retraining('retraining', { config, functions, dependsOn });
  new Observability('observability', { config, messaging, functions, onlineStore, dependsOn });

  return {
    ingestUrl: edge.ingestUrl,
    ingestIpAddress: edge.address.address,
    topics: {
      telemetry: messaging.telemetry.name,
      deadLetter: messaging.deadLetter.name,
      featureRows: messaging.featureRows.name,
      alerts: messaging.alerts.name,
    },
    featuresTable: pulumi.interpolate`${config.project}.${warehouse.dataset.datasetId}.${warehouse.table.tableId}`,
    featuresByIdentityView: pulumi.interpolate`${config.project}.${warehouse.dataset.datasetId}.${warehouse.identityView.tableId}`,
    buckets: {
      features: storage.features.name,
      models: storage.models.name,
      functionSource: storage.functionSource.name,
    },
    workflow: retraining.workflow.name,
    featuresApiUrl: functions.deployed['features-api'].url,
  };
}
