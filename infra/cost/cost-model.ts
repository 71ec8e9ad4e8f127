/**
 * The monthly cost of running fleet-features on Google Cloud for a fleet size and reading rate,
 * from list prices (prices-*.json) and measured operation counts (measured.json). Pure arithmetic:
 * the CLI (infra/cost/cli.ts) reads the files and prints. Free tiers are not deducted, discounts
 * (committed use) not applied: list prices for the steady state.
 */

/** Seconds in a billing month (730 hours, Google's convention for monthly estimates). */
export const SECONDS_PER_MONTH = 730 * 3600;
const DAYS_PER_MONTH = SECONDS_PER_MONTH / 86_400;
const TIB = 1024 ** 4;
const GIB = 1024 ** 3;

/** List prices in USD, one number each (the prices file adds a unit and a source to every one). */
export interface Prices {
  /** Pub/Sub throughput (publish and subscribe), per TiB. */
  pubsubThroughputPerTib: number;
  /** Pub/Sub Cloud Storage subscription throughput, per TiB. */
  pubsubCloudStorageSubscriptionPerTib: number;
  /** Bytes a publish or push request is billed at least. */
  pubsubMinBilledBytesPerRequest: number;
  /** Cloud Run functions (request-based billing, tier 1 region). */
  functionVcpuSecond: number;
  functionGibSecond: number;
  functionPerMillionRequests: number;
  /** Memorystore for Redis Standard tier (with its replica), per GB-hour, by capacity tier. */
  redisStandardGbHourByTier: readonly { maxGb: number; usd: number }[];
  /** Memorystore for Redis Cluster, one node of the configured node type, per hour. */
  redisClusterNodeHour: number;
  /** Writable keyspace of one cluster node of that type, in GB. */
  redisClusterNodeKeyspaceGb: number;
  /** BigQuery legacy streaming inserts: per 200 MB, each row counted at least 1 KB. */
  bigqueryStreamingPer200Mb: number;
  bigqueryStreamingMinRowBytes: number;
  bigqueryActiveStorageGibMonth: number;
  bigqueryLongTermStorageGibMonth: number;
  /** Cloud Storage, regional, per GB-month by class, and Class A operations per 1,000. */
  gcsStandardGbMonth: number;
  gcsNearlineGbMonth: number;
  gcsColdlineGbMonth: number;
  gcsClassAPer1000: number;
  gcsNearlineClassAPer1000: number;
  gcsColdlineClassAPer1000: number;
  /** Cloud Armor Standard and the external Application Load Balancer. */
  armorPolicyMonth: number;
  armorRuleMonth: number;
  armorPerMillionRequests: number;
  lbForwardingRuleHour: number;
  lbDataProcessingPerGib: number;
  /** Workflows internal steps per 1,000, Cloud Scheduler job per month. */
  workflowsPer1000Steps: number;
  schedulerJobMonth: number;
}

/** Operation counts, each measured (measured.json says by which command and when). */
export interface Measured {
  /** Redis CPU per message = fixed + perReading × readings in the message (two bench runs). */
  redisUsPerMessageFixed: number;
  redisUsPerReading: number;
  /** Node CPU of the feature function, same form. */
  nodeUsPerMessageFixed: number;
  nodeUsPerReading: number;
  redisBytesPerVehicle: number;
  /** Bytes of telemetry per reading in a raw message (the message's bytes / its readings). */
  rawBytesPerReading: number;
  /** Feature rows written per reading sent (1 unless readings are invalid or duplicates). */
  rowsPerReading: number;
  /** Bytes of one feature row as NDJSON (the feature-rows message and the features/ archive). */
  featureRowBytes: number;
  /** The same row's size in BigQuery terms (8 bytes a number, 2 + length a string, 0 a NULL). */
  bigqueryRowBytes: number;
}

/** How the fleet sends, and how the deployment is sized (infra/function-catalog.ts, infra/config.ts). */
export interface Scenario {
  vehicles: number;
  /** Readings per second per vehicle. */
  hz: number;
  /** Seconds of readings a vehicle buffers per message (1 reading per message when hz × this < 1). */
  uploadEveryS: number;
  /** Share of messages sent through the HTTPS ingest gateway (Cloud Armor + load balancer). */
  ingressShare: number;
}

export interface Deployment {
  functionVcpu: number;
  functionMemoryGib: number;
  /** CPU utilisation at which Cloud Run adds instances (its autoscaler targets about 60%). */
  functionTargetUtilization: number;
  /** Share of a Redis node's main thread the engine may use (headroom for replication, reads). */
  redisTargetUtilization: number;
  /** Share of a node's keyspace filled before another shard is added (alert at 80%). */
  redisMemoryFill: number;
  redisClusterReplicas: number;
  /** Smallest Memorystore for Redis instance the stack deploys, GB. */
  redisMinInstanceGb: number;
  /** BigQuery partitions expire after this many days; unmodified 90 days they are long-term. */
  bigqueryRetentionDays: number;
  /** Cloud Storage archive objects: cut every maxDurationS or at maxBytes (shared/archive-subscriptions.ts). */
  archiveMaxDurationS: number;
  archiveMaxBytes: number;
  /** Lifecycle: Standard → Nearline → Coldline at these ages (days). */
  nearlineAfterDays: number;
  coldlineAfterDays: number;
  /** Storage is shown as held this many months after launch (archives grow without bound). */
  archiveMonths: number;
  /** Cloud Armor rules on the ingest policy, and bytes of HTTP overhead per gateway request. */
  armorRules: number;
  gatewayRequestOverheadBytes: number;
  /**
   * Retraining: workflow runs per month and steps per run; trainings per month (runs that always
   * retrain; drift-triggered ones are counted as not retraining) and trainer seconds each.
   */
  workflowRunsPerMonth: number;
  workflowStepsPerRun: number;
  trainingsPerMonth: number;
  trainerSecondsPerRun: number;
  trainerVcpu: number;
  trainerMemoryGib: number;
  schedulerJobs: number;
}

export type ComponentName =
  | 'Pub/Sub telemetry (publish + push)'
  | 'Pub/Sub raw archive subscription'
  | 'Pub/Sub feature-rows + archive'
  | 'Functions: processTelemetry'
  | 'Functions: ingestGateway'
  | 'Memorystore (Redis)'
  | 'BigQuery streaming inserts'
  | 'BigQuery storage'
  | 'Cloud Storage objects (class A)'
  | 'Cloud Storage storage'
  | 'Cloud Armor + load balancer'
  | 'Workflows, Scheduler, trainer';

export interface ComponentCost {
  name: ComponentName;
  usdPerMonth: number;
  /** What the figure is made of, for the reader. */
  detail: string;
}

export interface RedisSizing {
  mode: 'instance' | 'cluster';
  /** Shards needed for the engine's CPU and for the vehicles' bytes. */
  shardsForCpu: number;
  shardsForMemory: number;
  shards: number;
  /** Cluster nodes (shards × (1 + replicas)), or the instance's capacity in GB. */
  nodes: number;
  instanceGb: number;
}

export interface CostEstimate {
  scenario: Scenario;
  readingsPerS: number;
  readingsPerMonth: number;
  messagesPerS: number;
  readingsPerMessage: number;
  functionInstances: number;
  redis: RedisSizing;
  components: ComponentCost[];
  totalUsdPerMonth: number;
  usdPerMillionReadings: number;
  dominant: ComponentCost;
}

const ceilPositive = (value: number) => Math.max(1, Math.ceil(value - 1e-9));

function redisSizing(
  scenario: Scenario,
  cpuSecondsPerS: number,
  measured: Measured,
  prices: Prices,
  deployment: Deployment,
): RedisSizing {
  const bytes = scenario.vehicles * measured.redisBytesPerVehicle;
  const shardsForCpu = ceilPositive(cpuSecondsPerS / deployment.redisTargetUtilization);
  const shardsForMemory = ceilPositive(
    bytes / (prices.redisClusterNodeKeyspaceGb * 1e9 * deployment.redisMemoryFill),
  );
  const shards = Math.max(shardsForCpu, shardsForMemory);
  const instanceGb = Math.max(
    deployment.redisMinInstanceGb,
    Math.ceil(bytes / 1e9 / deployment.redisMemoryFill),
  );
  if (shards === 1) return { mode: 'instance', shardsForCpu, shardsForMemory, shards, nodes: 0, instanceGb };
  return {
    mode: 'cluster',
    shardsForCpu,
    shardsForMemory,
    shards,
    nodes: shards * (1 + deployment.redisClusterReplicas),
    instanceGb: 0,
  };
}

function standardGbHour(prices: Prices, gb: number): number {
  const tier = prices.redisStandardGbHourByTier.find((t) => gb <= t.maxGb);
  if (tier === undefined) throw new RangeError(`no Memorystore capacity tier holds ${gb} GB`);
  return tier.usd;
}

export function estimateCost(input: {
  prices: Prices;
  measured: Measured;
  scenario: Scenario;
  deployment: Deployment;
}): CostEstimate {
  const { prices, measured, scenario, deployment: d } = input;
  const readingsPerS = scenario.vehicles * scenario.hz;
  const readingsPerMonth = readingsPerS * SECONDS_PER_MONTH;
  const readingsPerMessage = Math.max(1, scenario.hz * scenario.uploadEveryS);
  const messagesPerS = readingsPerS / readingsPerMessage;
  const messagesPerMonth = messagesPerS * SECONDS_PER_MONTH;
  const messageBytes = readingsPerMessage * measured.rawBytesPerReading;
  const gatewayMessages = messagesPerMonth * scenario.ingressShare;
  const components: ComponentCost[] = [];
  const add = (name: ComponentName, usdPerMonth: number, detail: string) =>
    components.push({ name, usdPerMonth, detail });

  // Devices publish one message per request (billed at least 1000 B); the gateway batches its
  // publishes. Each push delivery is one request.
  const billed = (bytes: number) => Math.max(prices.pubsubMinBilledBytesPerRequest, bytes);
  const publishBytes =
    (messagesPerMonth - gatewayMessages) * billed(messageBytes) + gatewayMessages * messageBytes;
  const pushBytes = messagesPerMonth * billed(messageBytes);
  add(
    'Pub/Sub telemetry (publish + push)',
    ((publishBytes + pushBytes) / TIB) * prices.pubsubThroughputPerTib,
    `${fmt(messagesPerMonth / 1e6)} M messages of ${fmt(messageBytes)} B (${fmt(readingsPerMessage)} readings), billed ≥ ${prices.pubsubMinBilledBytesPerRequest} B per request`,
  );
  const rawBytesPerMonth = messagesPerMonth * messageBytes;
  add(
    'Pub/Sub raw archive subscription',
    (rawBytesPerMonth / TIB) * prices.pubsubCloudStorageSubscriptionPerTib,
    `${fmt(rawBytesPerMonth / GIB)} GiB to raw/`,
  );
  const rowsPerMonth = readingsPerMonth * measured.rowsPerReading;
  const rowBytesPerMonth = rowsPerMonth * measured.featureRowBytes;
  add(
    'Pub/Sub feature-rows + archive',
    (rowBytesPerMonth / TIB) * (prices.pubsubThroughputPerTib + prices.pubsubCloudStorageSubscriptionPerTib),
    `${fmt(rowBytesPerMonth / GIB)} GiB of rows published (one message per flush) and archived to features/`,
  );

  // A function instance at steady load is busy all the time: billed instance time = wall time.
  const nodeCpuPerMessageS =
    (measured.nodeUsPerMessageFixed + measured.nodeUsPerReading * readingsPerMessage) / 1e6;
  const instancesFor = (cpuSecondsPerS: number) =>
    cpuSecondsPerS === 0 ? 0 : ceilPositive(cpuSecondsPerS / (d.functionVcpu * d.functionTargetUtilization));
  const instanceMonth =
    d.functionVcpu * prices.functionVcpuSecond + d.functionMemoryGib * prices.functionGibSecond;
  const functionInstances = instancesFor(messagesPerS * nodeCpuPerMessageS);
  add(
    'Functions: processTelemetry',
    functionInstances * instanceMonth * SECONDS_PER_MONTH +
      (messagesPerMonth / 1e6) * prices.functionPerMillionRequests,
    `${functionInstances} instance(s) of ${d.functionVcpu} vCPU / ${d.functionMemoryGib} GiB at ${fmt(messagesPerS * nodeCpuPerMessageS)} CPU-s/s, ${fmt(messagesPerMonth / 1e6)} M requests`,
  );
  if (scenario.ingressShare > 0) {
    const gatewayInstances = instancesFor(messagesPerS * scenario.ingressShare * nodeCpuPerMessageS);
    add(
      'Functions: ingestGateway',
      gatewayInstances * instanceMonth * SECONDS_PER_MONTH +
        (gatewayMessages / 1e6) * prices.functionPerMillionRequests,
      `${gatewayInstances} instance(s), ${fmt(gatewayMessages / 1e6)} M requests`,
    );
  }

  const redisUsPerMessage = measured.redisUsPerMessageFixed + measured.redisUsPerReading * readingsPerMessage;
  const redis = redisSizing(scenario, (messagesPerS * redisUsPerMessage) / 1e6, measured, prices, d);
  add(
    'Memorystore (Redis)',
    redis.mode === 'instance'
      ? redis.instanceGb * standardGbHour(prices, redis.instanceGb) * (SECONDS_PER_MONTH / 3600)
      : redis.nodes * prices.redisClusterNodeHour * (SECONDS_PER_MONTH / 3600),
    redis.mode === 'instance'
      ? `one Standard instance of ${redis.instanceGb} GB (${fmt((messagesPerS * redisUsPerMessage) / 1e4)}% of a core)`
      : `cluster of ${redis.shards} shards (${redis.shardsForCpu} for CPU, ${redis.shardsForMemory} for memory) × ${1 + d.redisClusterReplicas} nodes`,
  );

  add(
    'BigQuery streaming inserts',
    ((rowsPerMonth * Math.max(prices.bigqueryStreamingMinRowBytes, measured.bigqueryRowBytes)) / 200e6) *
      prices.bigqueryStreamingPer200Mb,
    `${fmt(rowsPerMonth / 1e6)} M rows of ${fmt(measured.bigqueryRowBytes)} B, billed ≥ ${prices.bigqueryStreamingMinRowBytes} B each`,
  );
  const rowBytesPerDay = (rowsPerMonth * measured.bigqueryRowBytes) / DAYS_PER_MONTH;
  const activeDays = Math.min(90, d.bigqueryRetentionDays);
  const longTermDays = Math.max(0, d.bigqueryRetentionDays - 90);
  add(
    'BigQuery storage',
    ((rowBytesPerDay * activeDays) / GIB) * prices.bigqueryActiveStorageGibMonth +
      ((rowBytesPerDay * longTermDays) / GIB) * prices.bigqueryLongTermStorageGibMonth,
    `${fmt((rowBytesPerDay * d.bigqueryRetentionDays) / GIB)} GiB held at ${d.bigqueryRetentionDays}-day partition expiry`,
  );

  // Each archive subscription cuts an object every maxDuration, or sooner at maxBytes.
  const objectsFor = (bytesPerMonth: number) =>
    bytesPerMonth === 0
      ? 0
      : Math.max(SECONDS_PER_MONTH / d.archiveMaxDurationS, Math.ceil(bytesPerMonth / d.archiveMaxBytes));
  const objectsPerMonth = objectsFor(rowBytesPerMonth) + objectsFor(rawBytesPerMonth);
  add(
    'Cloud Storage objects (class A)',
    (objectsPerMonth / 1000) *
      (prices.gcsClassAPer1000 + prices.gcsNearlineClassAPer1000 + prices.gcsColdlineClassAPer1000),
    `${fmt(objectsPerMonth)} objects/month (features/ + raw/), each written once and tiered twice`,
  );
  const archiveBytesPerDay = (rowBytesPerMonth + rawBytesPerMonth) / DAYS_PER_MONTH;
  const heldDays = d.archiveMonths * DAYS_PER_MONTH;
  const standardDays = Math.min(heldDays, d.nearlineAfterDays);
  const nearlineDays = Math.min(heldDays, d.coldlineAfterDays) - standardDays;
  const coldlineDays = Math.max(0, heldDays - d.coldlineAfterDays);
  add(
    'Cloud Storage storage',
    ((archiveBytesPerDay * standardDays) / 1e9) * prices.gcsStandardGbMonth +
      ((archiveBytesPerDay * nearlineDays) / 1e9) * prices.gcsNearlineGbMonth +
      ((archiveBytesPerDay * coldlineDays) / 1e9) * prices.gcsColdlineGbMonth,
    `${fmt((archiveBytesPerDay * heldDays) / 1e9)} GB held after ${d.archiveMonths} months (Standard ${d.nearlineAfterDays} d, Nearline to ${d.coldlineAfterDays} d, then Coldline)`,
  );

  if (scenario.ingressShare > 0) {
    const gatewayBytes = gatewayMessages * (messageBytes + d.gatewayRequestOverheadBytes);
    add(
      'Cloud Armor + load balancer',
      prices.armorPolicyMonth +
        d.armorRules * prices.armorRuleMonth +
        (gatewayMessages / 1e6) * prices.armorPerMillionRequests +
        prices.lbForwardingRuleHour * (SECONDS_PER_MONTH / 3600) +
        (gatewayBytes / GIB) * prices.lbDataProcessingPerGib,
      `${fmt(gatewayMessages / 1e6)} M requests, ${fmt(gatewayBytes / GIB)} GiB through the load balancer`,
    );
  }

  const trainerSeconds = d.trainingsPerMonth * d.trainerSecondsPerRun;
  add(
    'Workflows, Scheduler, trainer',
    ((d.workflowRunsPerMonth * d.workflowStepsPerRun) / 1000) * prices.workflowsPer1000Steps +
      d.schedulerJobs * prices.schedulerJobMonth +
      trainerSeconds *
        (d.trainerVcpu * prices.functionVcpuSecond + d.trainerMemoryGib * prices.functionGibSecond),
    `${fmt(d.workflowRunsPerMonth)} runs × ${d.workflowStepsPerRun} steps, ${d.schedulerJobs} job(s), ${fmt(trainerSeconds)} s of trainer`,
  );

  const totalUsdPerMonth = components.reduce((sum, c) => sum + c.usdPerMonth, 0);
  const dominant = components.reduce((top, c) => (c.usdPerMonth > top.usdPerMonth ? c : top));
  return {
    scenario,
    readingsPerS,
    readingsPerMonth,
    messagesPerS,
    readingsPerMessage,
    functionInstances,
    redis,
    components,
    totalUsdPerMonth,
    usdPerMillionReadings: totalUsdPerMonth / (readingsPerMonth / 1e6),
    dominant,
  };
}

/** A number for the detail text: integers grouped, small values with 3 significant digits. */
export function fmt(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** The fleet sizes of the growth table: 1k to 1M vehicles, by factors of 10. */
export const GROWTH_VEHICLES = [1_000, 10_000, 100_000, 1_000_000] as const;
