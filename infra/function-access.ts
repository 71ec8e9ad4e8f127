/**
 * What each `Access` of the function catalog grants: one IAM role on one resource (a topic, the
 * dataset, a bucket, a secret), project-wide only where Google offers nothing narrower (BigQuery
 * query jobs). The infra tests pin the resulting grants of every function's account.
 */
import * as gcp from '@pulumi/gcp';
import type * as pulumi from '@pulumi/pulumi';
import type { Access } from './function-catalog.js';
import type { Messaging } from './messaging.js';
import type { OnlineStore } from './online-store.js';
import type { SecretRef } from './secrets.js';
import type { Storage } from './storage.js';
import type { Warehouse } from './warehouse.js';

export interface AccessTargets {
  project: string;
  messaging: Messaging;
  storage: Storage;
  warehouse: Warehouse;
  onlineStore: OnlineStore;
  fleetSecret: SecretRef;
}

/** The IAM grants of one access of a function's account `member`. */
export function grantAccess(
  name: string,
  access: Access,
  member: pulumi.Output<string>,
  targets: AccessTargets,
  opts: pulumi.CustomResourceOptions,
): pulumi.Resource[] {
  const { project, messaging, storage, warehouse, onlineStore } = targets;
  const publish = (topic: gcp.pubsub.Topic) => [
    new gcp.pubsub.TopicIAMMember(
      name,
      { project, topic: topic.name, role: 'roles/pubsub.publisher', member },
      opts,
    ),
  ];
  const onDataset = (role: string) => [
    new gcp.bigquery.DatasetIamMember(
      name,
      { project, datasetId: warehouse.dataset.datasetId, role, member },
      opts,
    ),
  ];
  const onBucket = (bucket: gcp.storage.Bucket, role: string) => [
    new gcp.storage.BucketIAMMember(name, { bucket: bucket.name, role, member }, opts),
  ];
  const readSecret = (suffix: string, secret: SecretRef) =>
    new gcp.secretmanager.SecretIamMember(
      `${name}-${suffix}`,
      { project, secretId: secret.secretId, role: 'roles/secretmanager.secretAccessor', member },
      opts,
    );
  switch (access) {
    case 'publish:telemetry':
      return publish(messaging.telemetry);
    case 'publish:dead-letter':
      return publish(messaging.deadLetter);
    case 'publish:feature-rows':
      return publish(messaging.featureRows);
    case 'publish:alerts':
      return publish(messaging.alerts);
    case 'warehouse:write':
      return onDataset('roles/bigquery.dataEditor');
    case 'warehouse:read':
      return onDataset('roles/bigquery.dataViewer');
    case 'warehouse:query':
      // Query jobs run in the project; the data they read is granted on the dataset.
      return [new gcp.projects.IAMMember(name, { project, role: 'roles/bigquery.jobUser', member }, opts)];
    case 'features-bucket:create':
      // quarantine/ and late/ objects are written once (ifGenerationMatch: 0), never replaced.
      return onBucket(storage.features, 'roles/storage.objectCreator');
    case 'models:read':
      return onBucket(storage.models, 'roles/storage.objectViewer');
    case 'models:write':
      // Promotion replaces models/champion.json under a generation precondition (needs delete).
      return onBucket(storage.models, 'roles/storage.objectUser');
    case 'redis':
      return [readSecret('url', onlineStore.redisUrl), readSecret('ca', onlineStore.redisCa)];
    case 'fleet-secret':
      return [readSecret('secret', targets.fleetSecret)];
  }
}
