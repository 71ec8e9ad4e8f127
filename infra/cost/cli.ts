// `npm run cost -- --vehicles 100000 --hz 1`: the monthly cost of fleet-features on Google Cloud per
// component, the cost per million readings, the dominant component and how the cost grows from 1k to
// 1M vehicles. Offline: list prices from infra/cost/prices-<date>.json, operation counts from
// infra/cost/measured.json, sizes from the infra's defaults (infra/function-catalog.ts,
// infra/config.ts) and the archive settings (shared/archive-subscriptions.ts).

import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { archiveSubscriptions } from '../../shared/archive-subscriptions.js';
import { parseSchedules, ticksBetween } from '../../shared/schedules/timetable.js';
import { InfraConfigSchema } from '../config.js';
import { FUNCTION_CATALOG } from '../function-catalog.js';
import { CostInputError, measuredFrom, pricesFrom, readCostInputs } from './cost-inputs.js';
import {
  type CostEstimate,
  type Deployment,
  estimateCost,
  fmt,
  GROWTH_VEHICLES,
  type Scenario,
} from './cost-model.js';

const USAGE = `usage: npm run cost -- [options]
  --vehicles N        fleet size (default 100000)
  --hz R              readings per second per vehicle (default 1)
  --upload-every S    seconds of readings per message (default: the measured dev run's)
  --ingress-share R   share of messages through the HTTPS ingest gateway, 0..1 (default 0)
  --prices FILE       a prices file (default: the newest infra/cost/prices-*.json)
  --json              one JSON object instead of tables
  --help`;

class UsageError extends Error {}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(Number.isFinite(value) && value > 0)) throw new UsageError(`--${name} must be a positive number`);
  return value;
}

/** A size like 512Mi or 2Gi, in GiB. */
function gib(size: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(size);
  if (match === null) throw new CostInputError(`cannot read memory size ${size}`);
  return Number(match[1]) / (match[2] === 'Mi' ? 1024 : 1);
}

async function deploymentDefaults(repoRoot: string): Promise<Deployment> {
  const infra = InfraConfigSchema.parse({ domain: 'ingest.example.com' });
  const feature = FUNCTION_CATALOG['process-telemetry'].resources;
  const trainer = FUNCTION_CATALOG.trainer.resources;
  const archive = archiveSubscriptions({ telemetry: 'telemetry-raw', featureRows: 'feature-rows' }).features;
  const schedules = parseSchedules(await readFile(join(repoRoot, 'workflows/schedules.yaml'), 'utf8'));
  const now = Date.now();
  const monthMs = 730 * 3600 * 1000;
  const runsOf = (list: typeof schedules) =>
    list.reduce((sum, s) => sum + ticksBetween(s, now, now + monthMs).length, 0);
  return {
    functionVcpu: Number(feature.cpu),
    functionMemoryGib: gib(feature.memory),
    functionTargetUtilization: 0.6,
    redisTargetUtilization: 0.5,
    redisMemoryFill: infra.alertRedisMemoryRatio,
    redisClusterReplicas: infra.redisClusterReplicas,
    redisMinInstanceGb: infra.redisMemoryGb,
    bigqueryRetentionDays: infra.partitionExpirationDays,
    archiveMaxDurationS: archive.maxDurationS,
    archiveMaxBytes: archive.maxBytes,
    nearlineAfterDays: infra.featuresNearlineDays,
    coldlineAfterDays: infra.featuresColdlineDays,
    archiveMonths: 12,
    // Rate-based ban, device throttle, four preconfigured WAF rules, the default rule (infra/edge.ts).
    armorRules: 7,
    gatewayRequestOverheadBytes: 600,
    workflowRunsPerMonth: runsOf(schedules),
    workflowStepsPerRun: 40,
    trainingsPerMonth: runsOf(schedules.filter((s) => s.retrain === 'always')),
    trainerSecondsPerRun: 120,
    trainerVcpu: Number(trainer.cpu),
    trainerMemoryGib: gib(trainer.memory),
    schedulerJobs: schedules.length,
  };
}

const usd = (v: number) =>
  v >= 100 ? `$${Math.round(v).toLocaleString('en-US')}` : `$${v.toFixed(v >= 1 ? 2 : 4)}`;

function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function redisText(e: CostEstimate): string {
  return e.redis.mode === 'instance'
    ? `1 instance, ${e.redis.instanceGb} GB`
    : `${e.redis.shards} shards, ${e.redis.nodes} nodes`;
}

function report(estimate: CostEstimate, growth: CostEstimate[], sources: string): string {
  const { scenario: s } = estimate;
  const rows = [...estimate.components]
    .sort((a, b) => b.usdPerMonth - a.usdPerMonth)
    .map((c) => [
      c.name,
      usd(c.usdPerMonth),
      `${((100 * c.usdPerMonth) / estimate.totalUsdPerMonth).toFixed(1)}%`,
      c.detail,
    ]);
  rows.push(['total', usd(estimate.totalUsdPerMonth), '100%', '']);
  const growthRows = growth.map((g) => [
    g.scenario.vehicles.toLocaleString('en-US'),
    fmt(g.readingsPerS),
    usd(g.totalUsdPerMonth),
    usd(g.usdPerMillionReadings),
    redisText(g),
    String(g.functionInstances),
    `${g.dominant.name} (${((100 * g.dominant.usdPerMonth) / g.totalUsdPerMonth).toFixed(0)}%)`,
  ]);
  return [
    `fleet-features on Google Cloud: ${s.vehicles.toLocaleString('en-US')} vehicles × ${s.hz} Hz = ${fmt(estimate.readingsPerS)} readings/s, ${fmt(estimate.readingsPerMessage)} readings per message, ${(100 * s.ingressShare).toFixed(0)}% through the ingest gateway`,
    sources,
    '',
    table(['component', '$/month', 'share', 'what'], rows, new Set([1, 2])),
    '',
    `cost per million readings: ${usd(estimate.usdPerMillionReadings)}`,
    `dominant: ${estimate.dominant.name}, ${((100 * estimate.dominant.usdPerMonth) / estimate.totalUsdPerMonth).toFixed(0)}% of the total`,
    '',
    `How it grows (${s.hz} Hz, ${fmt(estimate.readingsPerMessage)} readings per message):`,
    table(
      [
        'vehicles',
        'readings/s',
        '$/month',
        '$/M readings',
        'Memorystore',
        'feature fn instances',
        'dominant',
      ],
      growthRows,
      new Set([0, 1, 2, 3, 5]),
    ),
  ].join('\n');
}

const OPTIONS = {
  vehicles: { type: 'string' },
  hz: { type: 'string' },
  'upload-every': { type: 'string' },
  'ingress-share': { type: 'string' },
  prices: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    values = parseArgs({ args: process.argv.slice(2), options: OPTIONS }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const repoRoot = resolve(import.meta.dirname, '../..');
  const inputs = await readCostInputs(
    join(repoRoot, 'infra/cost'),
    values.prices === undefined ? undefined : resolve(values.prices),
  );
  const prices = pricesFrom(inputs.prices);
  const measured = measuredFrom(inputs.measured);
  const deployment = await deploymentDefaults(repoRoot);
  let scenario: Scenario;
  try {
    const ingressShare = values['ingress-share'] === undefined ? 0 : Number(values['ingress-share']);
    if (!(ingressShare >= 0 && ingressShare <= 1)) throw new UsageError('--ingress-share must be in 0..1');
    scenario = {
      vehicles: positive('vehicles', values.vehicles, 100_000),
      hz: positive('hz', values.hz, 1),
      uploadEveryS: positive(
        'upload-every',
        values['upload-every'],
        inputs.measured.entries.devUploadEveryS.value,
      ),
      ingressShare,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  const estimate = estimateCost({ prices, measured, scenario, deployment });
  const growth = [...new Set([...GROWTH_VEHICLES, scenario.vehicles])]
    .sort((a, b) => a - b)
    .map((vehicles) => estimateCost({ prices, measured, scenario: { ...scenario, vehicles }, deployment }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ estimate, growth, deployment, measured })}\n`);
    return 0;
  }
  const priceEntries = Object.values(inputs.prices.prices);
  const seen = priceEntries.filter((p) => p.basis === 'seen').length;
  const sources = `prices ${relative(repoRoot, inputs.pricesFile)} (${seen} of ${priceEntries.length} seen on Google's pricing pages, the rest marked as assumptions); operation counts ${relative(repoRoot, inputs.measuredPath)}`;
  process.stdout.write(`${report(estimate, growth, sources)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cost failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
