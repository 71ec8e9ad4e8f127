/**
 * Buckets: features (the archives features/ and raw/, late/ readings and quarantine/, all written by
 * the pipeline into FEATURES_BUCKET), models (MODELS_BUCKET: the registry, versioned) and the
 * functions' source archives. Every bucket has uniform bucket-level access and public access
 * prevention enforced; the features bucket tiers its archives and deletes quarantine/ by age.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.js';

/** Prefixes the pipeline writes in the features bucket (archive subscriptions, late archive). */
export const ARCHIVE_PREFIXES = ['features/', 'raw/', 'late/'] as const;
/** Invalid readings (shared/adapters/dead-letter-quarantine.ts): kept for a while, then deleted. */
export const QUARANTINE_PREFIX = 'quarantine/';

type LifecycleRule = gcp.types.input.storage.BucketLifecycleRule;

/** Tiering of the archives and expiry of quarantine/, from config (pure: the tests read it too). */
export function featuresLifecycle(config: InfraConfig): LifecycleRule[] {
  const tier = (age: number, storageClass: string, from: string[]): LifecycleRule => ({
    action: { type: 'SetStorageClass', storageClass },
    condition: { age, matchesPrefixes: [...ARCHIVE_PREFIXES], matchesStorageClasses: from },
  });
  return [
    tier(config.featuresNearlineDays, 'NEARLINE', ['STANDARD']),
    tier(config.featuresColdlineDays, 'COLDLINE', ['STANDARD', 'NEARLINE']),
    tier(config.featuresArchiveDays, 'ARCHIVE', ['STANDARD', 'NEARLINE', 'COLDLINE']),
    {
      action: { type: 'Delete' },
      condition: { age: config.quarantineDeleteDays, matchesPrefixes: [QUARANTINE_PREFIX] },
    },
  ];
}

export interface StorageArgs {
  config: InfraConfig;
  dependsOn: pulumi.Resource[];
}

export class Storage extends pulumi.ComponentResource {
  readonly features: gcp.storage.Bucket;
  readonly models: gcp.storage.Bucket;
  readonly functionSource: gcp.storage.Bucket;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('fleet-features:infra:Storage', name, {}, opts);
    const { config } = args;
    const child = { parent: this, dependsOn: args.dependsOn };
    const bucket = (suffix: string, extra: Partial<gcp.storage.BucketArgs>) =>
      new gcp.storage.Bucket(
        `${name}-${suffix}`,
        {
          project: config.project,
          name: `${config.project}-${suffix}`,
          location: config.region.toUpperCase(),
          uniformBucketLevelAccess: true,
          publicAccessPrevention: 'enforced',
          forceDestroy: !config.protectData,
          labels: { app: 'fleet-features' },
          ...extra,
        },
        child,
      );
    this.features = bucket('fleet-features', { lifecycleRules: featuresLifecycle(config) });
    this.models = bucket('fleet-models', {
      versioning: { enabled: true },
      lifecycleRules: [
        {
          action: { type: 'Delete' },
          condition: { withState: 'ARCHIVED', daysSinceNoncurrentTime: config.modelsNoncurrentDeleteDays },
        },
      ],
    });
    this.functionSource = bucket('fleet-fn-source', {
      // Only build input: nothing in it outlives the stack.
      forceDestroy: true,
    });
    this.registerOutputs({
      features: this.features.name,
      models: this.models.name,
      functionSource: this.functionSource.name,
    });
  }
}
