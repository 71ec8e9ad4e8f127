/**
 * BigQuery: the dataset, the `features` table (schema from the row contract, FEATURE_COLUMNS in
 * shared/rows/feature-row.ts; daily partitions on event_ts, clustered by vehicle_id, partitions
 * expire after partitionExpirationDays) and the identity view `features_by_identity` that training
 * sets and users read (one row per reading identity; its SQL is the feature sink's, identityViewSql).
 * Training sets are parameterised queries over that view (shared/model/training-set.ts), not views.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { identityViewId, identityViewSql } from '../shared/adapters/bigquery-feature-sink.js';
import { FEATURE_COLUMNS } from '../shared/rows/feature-row.js';
import type { InfraConfig } from './config.js';

/** The features table id (BIGQUERY_FEATURES_TABLE's default). */
export const FEATURES_TABLE = 'features';

/** The table schema as BigQuery's JSON (the provider takes a string). */
export function featuresTableSchema(): string {
  return JSON.stringify(
    FEATURE_COLUMNS.map(({ name, type, mode, description }) => ({ name, type, mode, description })),
  );
}

export interface WarehouseArgs {
  config: InfraConfig;
  dependsOn: pulumi.Resource[];
}

export class Warehouse extends pulumi.ComponentResource {
  readonly dataset: gcp.bigquery.Dataset;
  readonly table: gcp.bigquery.Table;
  readonly identityView: gcp.bigquery.Table;

  constructor(name: string, args: WarehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Warehouse', name, {}, opts);
    const { config } = args;
    const child = { parent: this, dependsOn: args.dependsOn };
    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      {
        project: config.project,
        datasetId: config.datasetId,
        location: config.bigqueryLocation,
        description: 'fleet-features: rolling-window feature rows',
        deleteContentsOnDestroy: !config.protectData,
        labels: { app: 'fleet-features' },
      },
      child,
    );
    this.table = new gcp.bigquery.Table(
      `${name}-features`,
      {
        project: config.project,
        datasetId: this.dataset.datasetId,
        tableId: FEATURES_TABLE,
        description: 'Rolling-window feature rows, one per applied telemetry reading (fleet-features).',
        schema: featuresTableSchema(),
        timePartitioning: {
          type: 'DAY',
          field: 'event_ts',
          expirationMs: config.partitionExpirationDays * 86_400_000,
        },
        clusterings: ['vehicle_id'],
        deletionProtection: config.protectData,
      },
      child,
    );
    this.identityView = new gcp.bigquery.Table(
      `${name}-features-by-identity`,
      {
        project: config.project,
        datasetId: this.dataset.datasetId,
        tableId: identityViewId(FEATURES_TABLE),
        description:
          'Feature rows, one per reading identity (vehicle_id, event_ts): the first processed copy (fleet-features).',
        view: {
          query: identityViewSql({
            projectId: config.project,
            dataset: config.datasetId,
            table: FEATURES_TABLE,
          }),
          useLegacySql: false,
        },
        deletionProtection: false,
      },
      { ...child, dependsOn: [...args.dependsOn, this.table] },
    );
    this.registerOutputs({ table: this.table.id, view: this.identityView.id });
  }
}
