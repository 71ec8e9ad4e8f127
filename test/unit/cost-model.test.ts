// The cost model's arithmetic on a small fixed example: fixed prices and measured counts in, exact
// figures out (each expected value is written as the pricing rule it applies). Offline.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  measuredFrom,
  newestPricesFile,
  parseMeasuredFile,
  parsePricesFile,
  pricesFrom,
} from '../../infra/cost/cost-inputs.js';
import {
  type ComponentName,
  type CostEstimate,
  type Deployment,
  estimateCost,
  type Measured,
  type Prices,
  SECONDS_PER_MONTH,
} from '../../infra/cost/cost-model.js';

const S = SECONDS_PER_MONTH; // 2,628,000
const TIB = 1024 ** 4;
const GIB = 1024 ** 3;

const prices: Prices = {
  pubsubThroughputPerTib: 40,
  pubsubCloudStorageSubscriptionPerTib: 50,
  pubsubMinBilledBytesPerRequest: 1000,
  functionVcpuSecond: 0.00002,
  functionGibSecond: 0.000002,
  functionPerMillionRequests: 0.4,
  redisStandardGbHourByTier: [
    { maxGb: 4, usd: 0.05 },
    { maxGb: 10, usd: 0.03 },
  ],
  redisClusterNodeHour: 0.1,
  redisClusterNodeKeyspaceGb: 5,
  bigqueryStreamingPer200Mb: 0.01,
  bigqueryStreamingMinRowBytes: 1024,
  bigqueryActiveStorageGibMonth: 0.02,
  bigqueryLongTermStorageGibMonth: 0.01,
  gcsStandardGbMonth: 0.02,
  gcsNearlineGbMonth: 0.01,
  gcsColdlineGbMonth: 0.004,
  gcsClassAPer1000: 0.005,
  gcsNearlineClassAPer1000: 0.01,
  gcsColdlineClassAPer1000: 0.02,
  armorPolicyMonth: 5,
  armorRuleMonth: 1,
  armorPerMillionRequests: 0.75,
  lbForwardingRuleHour: 0.025,
  lbDataProcessingPerGib: 0.008,
  workflowsPer1000Steps: 0.01,
  schedulerJobMonth: 0.1,
};

const measured: Measured = {
  redisUsPerMessageFixed: 30,
  redisUsPerReading: 20,
  nodeUsPerMessageFixed: 40,
  nodeUsPerReading: 20,
  redisBytesPerVehicle: 20_000,
  rawBytesPerReading: 150,
  rowsPerReading: 1,
  featureRowBytes: 1000,
  bigqueryRowBytes: 400,
};

const deployment: Deployment = {
  functionVcpu: 1,
  functionMemoryGib: 1,
  functionTargetUtilization: 0.6,
  redisTargetUtilization: 0.5,
  redisMemoryFill: 0.8,
  redisClusterReplicas: 1,
  redisMinInstanceGb: 1,
  bigqueryRetentionDays: 100,
  archiveMaxDurationS: 600,
  archiveMaxBytes: 1e11,
  nearlineAfterDays: 30,
  coldlineAfterDays: 90,
  archiveMonths: 12,
  armorRules: 7,
  gatewayRequestOverheadBytes: 600,
  workflowRunsPerMonth: 30,
  workflowStepsPerRun: 10,
  trainingsPerMonth: 30,
  trainerSecondsPerRun: 100,
  trainerVcpu: 1,
  trainerMemoryGib: 2,
  schedulerJobs: 1,
};

const cost = (estimate: CostEstimate, name: ComponentName) =>
  estimate.components.find((c) => c.name === name)?.usdPerMonth;

describe('estimateCost: 1,000 vehicles at 1 Hz, 5-second uploads, no ingest gateway', () => {
  const estimate = estimateCost({
    prices,
    measured,
    deployment,
    scenario: { vehicles: 1000, hz: 1, uploadEveryS: 5, ingressShare: 0 },
  });
  // 1,000 readings/s → 2.628e9 readings and 5.256e8 messages (5 readings, 750 B) a month.
  const readings = 1000 * S;
  const messages = 200 * S;

  it('counts readings and messages', () => {
    expect(estimate.readingsPerMonth).toBe(2.628e9);
    expect(estimate.messagesPerS).toBe(200);
    expect(estimate.readingsPerMessage).toBe(5);
  });

  it.each<[ComponentName, number]>([
    // 750-byte messages are billed 1000 B per publish request and per push.
    ['Pub/Sub telemetry (publish + push)', ((2 * messages * 1000) / TIB) * 40],
    ['Pub/Sub raw archive subscription', ((messages * 750) / TIB) * 50],
    ['Pub/Sub feature-rows + archive', ((readings * 1000) / TIB) * (40 + 50)],
    // 200 messages/s × 140 µs = 0.028 CPU-s/s: one instance (1 vCPU, 1 GiB) all month + requests.
    ['Functions: processTelemetry', (0.00002 + 0.000002) * S + (messages / 1e6) * 0.4],
    // 200 × 130 µs = 0.026 of a core, 20 MB: one 1 GB instance at the M1 price.
    ['Memorystore (Redis)', 1 * 0.05 * 730],
    // 400-byte rows are billed 1 KB each.
    ['BigQuery streaming inserts', ((readings * 1024) / 200e6) * 0.01],
    // 86.4 M rows a day of 400 B: 90 days active, 10 days long-term.
    ['BigQuery storage', ((86_400_000 * 400 * 90) / GIB) * 0.02 + ((86_400_000 * 400 * 10) / GIB) * 0.01],
    // Both archives cut an object every 600 s (far below 1e11 bytes): 2 × 4,380 objects, each
    // written (Standard) and moved to Nearline and Coldline.
    ['Cloud Storage objects (class A)', ((2 * 4380) / 1000) * (0.005 + 0.01 + 0.02)],
    // 99.36 GB a day (rows 86.4 GB + raw 12.96 GB): 30 days Standard, 60 Nearline, 275 Coldline.
    ['Cloud Storage storage', 99.36 * 30 * 0.02 + 99.36 * 60 * 0.01 + 99.36 * 275 * 0.004],
    // 30 runs × 10 steps, one job, 3,000 s of a 1 vCPU / 2 GiB trainer.
    ['Workflows, Scheduler, trainer', 0.003 + 0.1 + 3000 * (0.00002 + 2 * 0.000002)],
  ])('%s', (name, expected) => {
    expect(cost(estimate, name)).toBeCloseTo(expected, 6);
  });

  it('has no gateway, Cloud Armor or load balancer when nothing comes through the gateway', () => {
    expect(cost(estimate, 'Functions: ingestGateway')).toBeUndefined();
    expect(cost(estimate, 'Cloud Armor + load balancer')).toBeUndefined();
  });

  it('sums the components, divides by the readings and names the largest', () => {
    const sum = estimate.components.reduce((total, c) => total + c.usdPerMonth, 0);
    expect(estimate.totalUsdPerMonth).toBeCloseTo(sum, 9);
    expect(estimate.usdPerMillionReadings).toBeCloseTo(sum / 2628, 9);
    // $268: 525.6 M push requests at $0.40 a million outweigh the feature rows' 2.39 TiB × $90.
    expect(estimate.dominant.name).toBe('Functions: processTelemetry');
  });
});

describe('estimateCost: 100,000 vehicles, half through the ingest gateway', () => {
  const estimate = estimateCost({
    prices,
    measured,
    deployment,
    scenario: { vehicles: 100_000, hz: 1, uploadEveryS: 5, ingressShare: 0.5 },
  });
  const gatewayMessages = 10_000 * S;

  it('sizes Redis by CPU: 20,000 messages/s × 130 µs = 2.6 cores at 50% → 6 shards of 2 nodes', () => {
    expect(estimate.redis).toMatchObject({
      mode: 'cluster',
      shardsForCpu: 6,
      shardsForMemory: 1,
      shards: 6,
      nodes: 12,
    });
    expect(cost(estimate, 'Memorystore (Redis)')).toBeCloseTo(12 * 0.1 * 730, 6);
  });

  it('sizes the feature function by CPU: 20,000 × 140 µs = 2.8 CPU-s/s at 60% → 5 instances', () => {
    expect(estimate.functionInstances).toBe(5);
  });

  it('prices the gateway, Cloud Armor and the load balancer for the gateway share', () => {
    // 10,000 messages/s × 140 µs = 1.4 CPU-s/s → 3 instances.
    expect(cost(estimate, 'Functions: ingestGateway')).toBeCloseTo(
      3 * (0.00002 + 0.000002) * S + (gatewayMessages / 1e6) * 0.4,
      6,
    );
    expect(cost(estimate, 'Cloud Armor + load balancer')).toBeCloseTo(
      5 +
        7 * 1 +
        (gatewayMessages / 1e6) * 0.75 +
        0.025 * 730 +
        ((gatewayMessages * (750 + 600)) / GIB) * 0.008,
      6,
    );
    // Devices' own publishes are billed 1000 B each; the gateway's batched publishes their 750 B.
    expect(cost(estimate, 'Pub/Sub telemetry (publish + push)')).toBeCloseTo(
      ((gatewayMessages * 1000 + gatewayMessages * 750 + 2 * gatewayMessages * 1000) / TIB) * 40,
      6,
    );
  });
});

describe('cost inputs', () => {
  const dir = resolve(import.meta.dirname, '../../infra/cost');

  it('reads CPU per message as a line through the two bench runs (1 and N readings per call)', () => {
    const entry = (value: number) => ({ value, unit: 'x', command: 'npm run bench', date: '2026-12-01' });
    const file = parseMeasuredFile(
      JSON.stringify({
        entries: {
          redisCpuUsPerReadingSingle: entry(54.7),
          redisCpuUsPerReadingBatched: entry(28.4),
          nodeCpuUsPerReadingSingle: entry(57),
          nodeCpuUsPerReadingBatched: entry(30),
          batchedReadingsPerCall: entry(5),
          redisBytesPerVehicle: entry(21_504),
          devUploadEveryS: entry(5),
          devReadings: entry(6000),
          devMessages: entry(1200),
          devRawBytes: entry(900_000),
          devFeatureRows: entry(5400),
          devFeatureBytes: entry(6_480_000),
          devFeatureObjects: entry(1),
          devBigqueryBytesPerRow: entry(425),
        },
      }),
    );
    const m = measuredFrom(file);
    // 5 readings cost 142 µs, 1 reading 54.7 µs: 21.825 µs a reading on 32.875 µs a call.
    expect(m.redisUsPerReading).toBeCloseTo(21.825, 9);
    expect(m.redisUsPerMessageFixed).toBeCloseTo(32.875, 9);
    expect(m.nodeUsPerReading).toBeCloseTo(23.25, 9);
    expect(m.rawBytesPerReading).toBe(150);
    expect(m.rowsPerReading).toBe(0.9);
    expect(m.featureRowBytes).toBe(1200);
  });

  it('the shipped prices file gives every price a unit, a source URL and whether it was seen or assumed', async () => {
    const path = await newestPricesFile(dir);
    const file = parsePricesFile(await readFile(path, 'utf8'), path);
    expect(path).toMatch(/prices-\d{4}-\d{2}-\d{2}\.json$/);
    expect(Object.values(file.prices).every((p) => p.source.startsWith('https://'))).toBe(true);
    expect(Object.keys(pricesFrom(file)).sort()).toEqual(Object.keys(prices).sort());
  });

  it('the shipped measured file names the command and date of every figure', async () => {
    const file = parseMeasuredFile(await readFile(join(dir, 'measured.json'), 'utf8'));
    for (const entry of Object.values(file.entries)) {
      expect(entry.command).toMatch(/^npm run (bench|dev)|tsx /);
    }
  });
});
