/**
 * The stack's configuration, read and validated in one place. Keys and defaults are declared in
 * Pulumi.yaml (`config:`); the schema below holds the same defaults (a test keeps the two equal) so
 * the program also runs from code, as the tests run it. Secrets stay Outputs and never leave as
 * plain values.
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { FUNCTION_FOLDERS, type FunctionFolder } from './function-catalog.js';

const region = z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'must be a Google Cloud region');
const days = z.coerce.number().int().positive();
const memory = z.string().regex(/^\d+(Mi|Gi)$/, 'a size like 512Mi or 2Gi');
/** An IAM member (user:, group:, serviceAccount:, domain:), never allUsers/allAuthenticatedUsers. */
const privateMember = z
  .string()
  .regex(/^(user|group|serviceAccount|domain):\S+$/, 'user:, group:, serviceAccount: or domain: member');

/** Per-function overrides of the catalog's defaults (infra/function-catalog.ts). */
const FunctionSettingsSchema = z
  .object({
    memory: memory.optional(),
    cpu: z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .optional(),
    concurrency: z.number().int().min(1).max(1000).optional(),
    minInstances: z.number().int().min(0).max(1000).optional(),
    maxInstances: z.number().int().min(1).max(1000).optional(),
    timeoutS: z.number().int().min(1).max(3600).optional(),
  })
  .strict();
export type FunctionSettingsOverride = z.infer<typeof FunctionSettingsSchema>;

export const InfraConfigSchema = z
  .object({
    region: region.default('us-central1'),
    /** The ingest load balancer's hostname; its managed certificate is issued for it. */
    domain: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a DNS name'),
    bigqueryLocation: z.string().min(2).default('US'),
    datasetId: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/)
      .default('fleet_features'),
    partitionExpirationDays: days.default(400),
    /** Tiering of the features bucket (features/, raw/, late/); quarantine/ is deleted. */
    featuresNearlineDays: days.default(30),
    featuresColdlineDays: days.default(90),
    featuresArchiveDays: days.default(365),
    quarantineDeleteDays: days.default(30),
    /** Superseded model objects (noncurrent versions) are deleted after this long. */
    modelsNoncurrentDeleteDays: days.default(90),
    /** instance: Memorystore for Redis; cluster: Memorystore for Redis Cluster (past one shard). */
    redisMode: z.enum(['instance', 'cluster']).default('instance'),
    redisTier: z.enum(['BASIC', 'STANDARD_HA']).default('STANDARD_HA'),
    redisMemoryGb: z.coerce.number().int().min(1).max(300).default(5),
    redisVersion: z.string().default('REDIS_7_2'),
    redisClusterShards: z.coerce.number().int().min(1).max(250).default(3),
    redisClusterReplicas: z.coerce.number().int().min(0).max(2).default(1),
    redisClusterNodeType: z.string().default('REDIS_STANDARD_SMALL'),
    /**
     * The cluster's AOF fsync. ALWAYS keeps every acknowledged dedupe mark across a node restart (the
     * guarantee `npm run chaos` tests); EVERYSEC may lose the last second of them. The single
     * instance offers RDB snapshots only (hourly here).
     */
    redisClusterAofFsync: z.enum(['ALWAYS', 'EVERYSEC']).default('ALWAYS'),
    subnetCidr: z
      .string()
      .regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/)
      .default('10.20.0.0/20'),
    /**
     * Pub/Sub delivery of telemetry-raw to processTelemetry. Invalid readings are dead-lettered by the
     * function at once; these attempts are for transient failures, so they outlast a Redis failover
     * or a deploy: 20 attempts with backoff 1 s doubling to 60 s span about 15 minutes.
     */
    maxDeliveryAttempts: z.coerce.number().int().min(5).max(100).default(20),
    ackDeadlineS: z.coerce.number().int().min(10).max(600).default(60),
    minBackoffS: z.coerce.number().int().min(0).max(600).default(1),
    maxBackoffS: z.coerce.number().int().min(0).max(600).default(60),
    messageRetentionDays: z.coerce.number().int().min(1).max(31).default(7),
    /** Cloud Armor on the ingest load balancer. */
    armorBanCount: z.coerce.number().int().min(1).max(10_000).default(2000),
    armorBanIntervalS: z.coerce.number().int().positive().default(300),
    armorBanDurationS: z.coerce.number().int().positive().default(600),
    armorDeviceThrottleCount: z.coerce.number().int().min(1).max(1_000_000).default(600),
    armorDeviceThrottleIntervalS: z.coerce.number().int().positive().default(60),
    /** Alerts: empty for no email channel (the policies exist either way). */
    alertEmail: z.union([z.literal(''), z.email()]).default(''),
    alertErrorRatio: z.coerce.number().gt(0).lt(1).default(0.01),
    alertOldestUnackedS: z.coerce.number().int().positive().default(300),
    alertRedisMemoryRatio: z.coerce.number().gt(0).lt(1).default(0.8),
    /** Function settings (names in shared/config.ts), passed to the functions' environment. */
    allowedLatenessS: z.coerce.number().int().positive().default(600),
    maxFutureSkewS: z.coerce.number().int().positive().default(300),
    alertRiskThreshold: z.coerce.number().gt(0).lt(1).default(0.8),
    ingestRatePerS: z.coerce.number().positive().default(20),
    ingestBurst: z.coerce.number().int().positive().default(1000),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** During a fleet-secret rotation: the version still accepted as INGEST_FLEET_SECRET_PREVIOUS. */
    ingestFleetSecretVersion: z
      .string()
      .regex(/^(\d+|latest)$/)
      .optional(),
    ingestFleetSecretPreviousVersion: z.string().regex(/^\d+$/).optional(),
    /** Who may call the internal features API (IAM members; never public). */
    featuresApiInvokers: z.array(privateMember).default([]),
    /** Where `npm run bundle` put the functions: <bundlesDir>/<function folder>/index.js. */
    bundlesDir: z.string().min(1).default('dist/bundles'),
    /** Deletion protection on the table, buckets' force-destroy off, Redis deletion protection. */
    protectData: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
      .default(true),
    functions: z.partialRecord(z.enum(FUNCTION_FOLDERS), FunctionSettingsSchema).default({}),
  })
  .strict();

export type InfraSettings = z.infer<typeof InfraConfigSchema>;

export interface InfraConfig extends InfraSettings {
  project: string;
  /** INGEST_FLEET_SECRET's first version (Secret Manager `ingest-fleet-secret`). */
  ingestFleetSecret: pulumi.Output<string>;
  /** The Redis Cluster ACL user's password (cluster mode only). */
  redisClusterPassword: pulumi.Output<string> | undefined;
}

/** Keys read as structured values (YAML objects or lists) rather than strings. */
const OBJECT_KEYS = new Set(['functions', 'featuresApiInvokers']);
const SECRET_KEYS = ['ingestFleetSecret', 'redisClusterPassword'] as const;

export class InfraConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'InfraConfigError';
  }
}

/** Validates plain settings (the tests call this with literals); throws naming every problem. */
export function parseInfraSettings(raw: Record<string, unknown>): InfraSettings {
  const parsed = InfraConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new InfraConfigError(`invalid stack configuration: ${problems.join('; ')}`);
  }
  const settings = parsed.data;
  if (settings.featuresNearlineDays >= settings.featuresColdlineDays) {
    throw new InfraConfigError('featuresNearlineDays must be less than featuresColdlineDays');
  }
  if (settings.featuresColdlineDays >= settings.featuresArchiveDays) {
    throw new InfraConfigError('featuresColdlineDays must be less than featuresArchiveDays');
  }
  if (settings.minBackoffS > settings.maxBackoffS) {
    throw new InfraConfigError('minBackoffS must not exceed maxBackoffS');
  }
  return settings;
}

/** The stack's configuration (`pulumi config`), validated. */
export function readInfraConfig(): InfraConfig {
  const config = new pulumi.Config();
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(InfraConfigSchema.shape)) {
    const value = OBJECT_KEYS.has(key) ? config.getObject<unknown>(key) : config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  const settings = parseInfraSettings(raw);
  const [fleetSecretKey, clusterPasswordKey] = SECRET_KEYS;
  const requiredSecret = (key: string) => {
    try {
      return config.requireSecret(key);
    } catch {
      throw new InfraConfigError(
        `${key} is required: pulumi config set --secret ${key} "$(openssl rand -hex 32)"`,
      );
    }
  };
  return {
    ...settings,
    project: new pulumi.Config('gcp').require('project'),
    ingestFleetSecret: requiredSecret(fleetSecretKey),
    redisClusterPassword: settings.redisMode === 'cluster' ? requiredSecret(clusterPasswordKey) : undefined,
  };
}

export type { FunctionFolder };
