/**
 * The cost model's inputs from their files: list prices (prices-<date>.json, each with its source)
 * and measured operation counts (measured.json, each with the command and date it came from),
 * validated here; the model itself (cost-model.ts) takes plain numbers.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Measured, Prices } from './cost-model.js';

const PriceEntry = z.object({
  usd: z.number().nonnegative(),
  unit: z.string().min(1),
  source: z.url(),
  basis: z.enum(['seen', 'assumption']),
});
const TieredPriceEntry = PriceEntry.extend({
  usd: z.array(z.object({ maxGb: z.number().positive(), usd: z.number().nonnegative() })).min(1),
});

const PricesFile = z.object({
  date: z.iso.date(),
  currency: z.literal('USD'),
  region: z.string(),
  basis: z.string(),
  prices: z
    .object({
      pubsubThroughputPerTib: PriceEntry,
      pubsubCloudStorageSubscriptionPerTib: PriceEntry,
      pubsubMinBilledBytesPerRequest: PriceEntry,
      functionVcpuSecond: PriceEntry,
      functionGibSecond: PriceEntry,
      functionPerMillionRequests: PriceEntry,
      redisStandardGbHourByTier: TieredPriceEntry,
      redisClusterNodeHour: PriceEntry,
      redisClusterNodeKeyspaceGb: PriceEntry,
      bigqueryStreamingPer200Mb: PriceEntry,
      bigqueryStreamingMinRowBytes: PriceEntry,
      bigqueryActiveStorageGibMonth: PriceEntry,
      bigqueryLongTermStorageGibMonth: PriceEntry,
      gcsStandardGbMonth: PriceEntry,
      gcsNearlineGbMonth: PriceEntry,
      gcsColdlineGbMonth: PriceEntry,
      gcsClassAPer1000: PriceEntry,
      gcsNearlineClassAPer1000: PriceEntry,
      gcsColdlineClassAPer1000: PriceEntry,
      armorPolicyMonth: PriceEntry,
      armorRuleMonth: PriceEntry,
      armorPerMillionRequests: PriceEntry,
      lbForwardingRuleHour: PriceEntry,
      lbDataProcessingPerGib: PriceEntry,
      workflowsPer1000Steps: PriceEntry,
      schedulerJobMonth: PriceEntry,
    })
    .strict(),
});
export type PricesFile = z.infer<typeof PricesFile>;

const MeasuredEntry = z.object({
  value: z.number().positive(),
  unit: z.string().min(1),
  command: z.string().min(1),
  date: z.iso.date(),
  note: z.string().optional(),
});

const MeasuredFile = z.object({
  about: z.string().optional(),
  entries: z
    .object({
      /** npm run bench, one reading per message (BENCH json: redis_cpu_us_per_reading, node_cpu_us_per_reading). */
      redisCpuUsPerReadingSingle: MeasuredEntry,
      nodeCpuUsPerReadingSingle: MeasuredEntry,
      /** npm run bench, per-vehicle uploads (batched_*; batched_readings_per_call readings per call). */
      redisCpuUsPerReadingBatched: MeasuredEntry,
      nodeCpuUsPerReadingBatched: MeasuredEntry,
      batchedReadingsPerCall: MeasuredEntry,
      redisBytesPerVehicle: MeasuredEntry,
      /** A dev run (npm run dev): what the simulator published and what the archives hold. */
      devUploadEveryS: MeasuredEntry,
      devReadings: MeasuredEntry,
      devMessages: MeasuredEntry,
      devRawBytes: MeasuredEntry,
      devFeatureRows: MeasuredEntry,
      devFeatureBytes: MeasuredEntry,
      devFeatureObjects: MeasuredEntry,
      devBigqueryBytesPerRow: MeasuredEntry,
    })
    .strict(),
});
export type MeasuredFile = z.infer<typeof MeasuredFile>;

export class CostInputError extends Error {
  readonly code = 'cost_input_invalid';
}

function parse<T>(schema: z.ZodType<T>, text: string, file: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CostInputError(`${file}: not JSON (${(error as Error).message})`);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new CostInputError(`${file}: ${z.prettifyError(result.error)}`);
  return result.data;
}

export function parsePricesFile(text: string, file = 'prices file'): PricesFile {
  return parse(PricesFile, text, file);
}

export function parseMeasuredFile(text: string, file = 'measured.json'): MeasuredFile {
  return parse(MeasuredFile, text, file);
}

export function pricesFrom(file: PricesFile): Prices {
  const p = file.prices;
  const { redisStandardGbHourByTier, ...flat } = p;
  const numbers = Object.fromEntries(Object.entries(flat).map(([key, entry]) => [key, entry.usd])) as Omit<
    Prices,
    'redisStandardGbHourByTier'
  >;
  return { ...numbers, redisStandardGbHourByTier: redisStandardGbHourByTier.usd };
}

/**
 * CPU per message = fixed + perReading × readings, through the two bench runs: one reading per
 * message, and `batchedReadingsPerCall` readings per call.
 */
function perMessageLine(single: number, batched: number, readingsPerCall: number) {
  if (readingsPerCall <= 1) throw new CostInputError('batchedReadingsPerCall must be more than 1');
  const perReading = (batched * readingsPerCall - single) / (readingsPerCall - 1);
  return { fixed: single - perReading, perReading };
}

export function measuredFrom(file: MeasuredFile): Measured {
  const e = file.entries;
  const redis = perMessageLine(
    e.redisCpuUsPerReadingSingle.value,
    e.redisCpuUsPerReadingBatched.value,
    e.batchedReadingsPerCall.value,
  );
  const node = perMessageLine(
    e.nodeCpuUsPerReadingSingle.value,
    e.nodeCpuUsPerReadingBatched.value,
    e.batchedReadingsPerCall.value,
  );
  return {
    redisUsPerMessageFixed: redis.fixed,
    redisUsPerReading: redis.perReading,
    nodeUsPerMessageFixed: node.fixed,
    nodeUsPerReading: node.perReading,
    redisBytesPerVehicle: e.redisBytesPerVehicle.value,
    rawBytesPerReading: e.devRawBytes.value / e.devReadings.value,
    rowsPerReading: e.devFeatureRows.value / e.devReadings.value,
    featureRowBytes: e.devFeatureBytes.value / e.devFeatureRows.value,
    bigqueryRowBytes: e.devBigqueryBytesPerRow.value,
  };
}

/** The newest prices-YYYY-MM-DD.json in `dir`. */
export async function newestPricesFile(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => /^prices-\d{4}-\d{2}-\d{2}\.json$/.test(name)).sort();
  const newest = names.at(-1);
  if (newest === undefined) throw new CostInputError(`no prices-YYYY-MM-DD.json in ${dir}`);
  return join(dir, newest);
}

export async function readCostInputs(dir: string, pricesPath?: string) {
  const pricesFile = pricesPath ?? (await newestPricesFile(dir));
  const measuredPath = join(dir, 'measured.json');
  const prices = parsePricesFile(await readFile(pricesFile, 'utf8'), pricesFile);
  const measured = parseMeasuredFile(await readFile(measuredPath, 'utf8'), measuredPath);
  return { pricesFile, prices, measuredPath, measured };
}
