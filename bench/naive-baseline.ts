import { Redis } from 'ioredis';
import { haversineKm } from '../shared/geo/haversine.js';
import type { TelemetryReading } from '../shared/telemetry/telemetry-reading.js';
import { WINDOWS } from '../shared/windows/window-spec.js';
import { replayConcurrently, summarizeLatencies } from './concurrent-replay.js';
import type { FleetReplay } from './fleet-generator.js';

/**
 * The common sorted-set approach the engine is compared with: per reading ZADD it to the vehicle's
 * sorted set (score = event time), ZREMRANGEBYSCORE what is older than the longest window, ZRANGE
 * the window, and aggregate the four windows in Node. Every command is its own awaited round trip
 * on a client without (auto-)pipelining. It has no dedupe marks and no stored rows: a duplicate
 * is absorbed only because ZADD of an identical member is a no-op. Measured as a running fleet
 * sees it: with an hour of history already in every vehicle's set (prefillNaiveHistory).
 */
export interface NaiveRunResult {
  readings: number;
  elapsedMs: number;
  readingsPerS: number;
  p50Ms: number;
  p99Ms: number;
}

const LONGEST_MS = Math.max(...WINDOWS.map((w) => w.lengthMs));

function member(r: TelemetryReading): string {
  return `${r.event_id}|${r.event_ts_ms}|${r.speed_kmh}|${r.engine_temp_c}|${r.gps_lat}|${r.gps_lon}`;
}

interface Point {
  ts: number;
  speed: number;
  temp: number;
  lat: number;
  lon: number;
}

function parseMember(text: string): Point {
  const f = text.split('|');
  return { ts: Number(f[1]), speed: Number(f[2]), temp: Number(f[3]), lat: Number(f[4]), lon: Number(f[5]) };
}

function stats(values: number[]): { mean: number; min: number; max: number; std: number } | null {
  if (values.length === 0) return null;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, min, max, std: Math.sqrt(squares / values.length) };
}

/** The four windows' aggregates over the points (sorted by time) ending at the reading's event time. */
export function aggregateWindows(points: Point[], eventTsMs: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const w of WINDOWS) {
    const inWindow = points.filter((p) => p.ts > eventTsMs - w.lengthMs && p.ts <= eventTsMs);
    let distance = 0;
    for (let i = 1; i < inWindow.length; i++) {
      const [a, b] = [inWindow[i - 1]!, inWindow[i]!];
      distance += haversineKm(a.lat, a.lon, b.lat, b.lon);
    }
    row[`count_${w.name}`] = inWindow.length;
    row[`speed_${w.name}`] = stats(inWindow.map((p) => p.speed));
    row[`temp_${w.name}`] = stats(inWindow.map((p) => p.temp));
    row[`distance_km_${w.name}`] = distance;
  }
  return row;
}

const keyOf = (vehicleId: string) => `naive:{${vehicleId}}`;

/** ZADDs deliveries [0, count) in deep pipelines (untimed): the history the timed readings meet. */
export async function prefillNaiveHistory(
  redisUrl: string,
  fleet: FleetReplay,
  count: number,
  onProgress?: (done: number) => void,
): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  try {
    await redis.connect();
    for (let first = 0; first < count; first += 10_000) {
      const pipeline = redis.pipeline();
      for (let i = first; i < Math.min(count, first + 10_000); i++) {
        const reading = fleet.reading(i);
        pipeline.zadd(keyOf(reading.vehicle_id), reading.event_ts_ms, member(reading));
      }
      await pipeline.exec();
      onProgress?.(Math.min(count, first + 10_000));
    }
  } finally {
    redis.disconnect();
  }
}

/** Replays deliveries [from, from + count) through the naive approach, timed. */
export async function runNaive(
  redisUrl: string,
  fleet: FleetReplay,
  options: { from: number; count: number; concurrency: number; onProgress?: (done: number) => void },
): Promise<NaiveRunResult> {
  const redis = new Redis(redisUrl, { enableAutoPipelining: false, lazyConnect: true });
  try {
    await redis.connect();
    const timing = await replayConcurrently(
      options.count,
      async (i) => {
        const reading = fleet.reading(options.from + i);
        const key = keyOf(reading.vehicle_id);
        const t = reading.event_ts_ms;
        await redis.zadd(key, t, member(reading));
        await redis.zremrangebyscore(key, '-inf', `(${t - LONGEST_MS}`);
        const window = await redis.zrangebyscore(key, `(${t - LONGEST_MS}`, t);
        aggregateWindows(window.map(parseMember), t);
      },
      {
        concurrency: options.concurrency,
        progressEvery: 500,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    return {
      readings: options.count,
      elapsedMs: timing.elapsedMs,
      readingsPerS: options.count / (timing.elapsedMs / 1000),
      ...summarizeLatencies(timing.latenciesMs),
    };
  } finally {
    redis.disconnect();
  }
}
