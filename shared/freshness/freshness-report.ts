/**
 * Freshness of the feature function, measured where it happens: for every row, the time from the
 * reading's event time and from its message's Pub/Sub publish time to the row being durable (the
 * flush's BigQuery insert and feature-rows message both acknowledged) and to its vector being
 * online (the Redis apply returned, before the row is durable).
 *
 * Volume: at 10k rows/s one line per row, or per flush (a flush every 10 ms per instance at the
 * default SINK_FLUSH_MAX_MS: up to 100 lines/s), would make freshness one of the pipeline's larger
 * costs (Cloud Logging bills ingestion per GiB). So each instance writes one line per interval
 * (FRESHNESS_REPORT_MS, default 10 s, and only when rows were written): four exponential
 * histograms with exact counts, sums, min and max. Histograms of any instances and intervals merge
 * exactly (shared/freshness/latency-histogram.ts), which is how the local stack reads them. For
 * Cloud Logging log-based metrics the line has `message: "feature freshness"` and per histogram
 * `count`, `sum_ms`, `p50_ms`, `p99_ms` and `max_ms`: a distribution metric over
 * `jsonPayload.freshness.publish_to_durable.p99_ms` charts each instance-interval's p99.
 */
import type { Logger } from '../logger.js';
import { type EncodedHistogram, HISTOGRAM_SCALE, LatencyHistogram } from './latency-histogram.js';

export const FRESHNESS_LOG_MESSAGE = 'feature freshness';

export const LATENCIES = [
  'event_to_durable',
  'publish_to_durable',
  'event_to_online',
  'publish_to_online',
] as const;
export type LatencyName = (typeof LATENCIES)[number];

/** What became of the readings of the interval's messages (counts, for log-based counter metrics too). */
export interface ReadingCounts {
  applied: number;
  duplicates: number;
  conflicts: number;
  /** Beyond the allowed lateness: archived under late/, no row. */
  late: number;
  /** Invalid: dead-lettered and quarantined. */
  rejected: number;
}

/** The `freshness` field of a line. */
export interface FreshnessFields extends Record<LatencyName, EncodedHistogram> {
  scale: number;
  interval_ms: number;
  readings: ReadingCounts;
}

const noReadings = (): ReadingCounts => ({ applied: 0, duplicates: 0, conflicts: 0, late: 0, rejected: 0 });

export type FreshnessHistograms = Record<LatencyName, LatencyHistogram>;

/** Each latency over no rows yet. */
export const emptyHistograms = (): FreshnessHistograms => ({
  event_to_durable: new LatencyHistogram(),
  publish_to_durable: new LatencyHistogram(),
  event_to_online: new LatencyHistogram(),
  publish_to_online: new LatencyHistogram(),
});

/** What the feature service tells about one message's rows. */
export interface FreshnessRecorder {
  /** Rows applied now (their vectors online at `atMs`): their event times, and the message's publish time. */
  online(eventTsMs: readonly number[], publishTimeMs: number | undefined, atMs: number): void;
  /** Rows durable at `atMs`. */
  durable(eventTsMs: readonly number[], publishTimeMs: number | undefined, atMs: number): void;
  /** A message's readings, once it is done. */
  readings(counts: ReadingCounts): void;
}

export class FreshnessReport implements FreshnessRecorder {
  #histograms = emptyHistograms();
  #readings = noReadings();
  #timer: NodeJS.Timeout | undefined;
  readonly #logger: Logger;
  readonly #intervalMs: number;

  constructor(logger: Logger, options: { intervalMs: number }) {
    this.#logger = logger;
    this.#intervalMs = options.intervalMs;
  }

  online(eventTsMs: readonly number[], publishTimeMs: number | undefined, atMs: number): void {
    this.#record('event_to_online', 'publish_to_online', eventTsMs, publishTimeMs, atMs);
  }

  durable(eventTsMs: readonly number[], publishTimeMs: number | undefined, atMs: number): void {
    this.#record('event_to_durable', 'publish_to_durable', eventTsMs, publishTimeMs, atMs);
  }

  readings(counts: ReadingCounts): void {
    for (const key of Object.keys(counts) as (keyof ReadingCounts)[]) this.#readings[key] += counts[key];
    this.#schedule();
  }

  /** Writes the line for what was recorded since the last one (nothing when nothing was). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const histograms = this.#histograms;
    const readings = this.#readings;
    this.#histograms = emptyHistograms();
    this.#readings = noReadings();
    const none = (Object.values(readings) as number[]).every((n) => n === 0);
    if (none && LATENCIES.every((name) => histograms[name].count === 0)) return;
    const freshness = { scale: HISTOGRAM_SCALE, interval_ms: this.#intervalMs, readings } as FreshnessFields;
    for (const name of LATENCIES) freshness[name] = histograms[name].encode();
    this.#logger.info({ freshness }, FRESHNESS_LOG_MESSAGE);
  }

  #record(
    fromEvent: LatencyName,
    fromPublish: LatencyName,
    eventTsMs: readonly number[],
    publishTimeMs: number | undefined,
    atMs: number,
  ): void {
    if (eventTsMs.length === 0) return;
    const byEvent = this.#histograms[fromEvent];
    for (const ts of eventTsMs) byEvent.record(atMs - ts);
    if (publishTimeMs !== undefined) {
      const byPublish = this.#histograms[fromPublish];
      for (let i = 0; i < eventTsMs.length; i++) byPublish.record(atMs - publishTimeMs);
    }
    this.#schedule();
  }

  #schedule(): void {
    // Unref'd: an idle instance is not kept alive for a report (it loses at most one interval).
    this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs).unref();
  }
}

export interface FreshnessLine {
  histograms: FreshnessHistograms;
  readings: ReadingCounts;
}

/** A `feature freshness` line (a parsed JSON log entry) read back; undefined for any other line. */
export function readFreshnessLine(entry: unknown): FreshnessLine | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { message, freshness } = entry as { message?: unknown; freshness?: unknown };
  if (message !== FRESHNESS_LOG_MESSAGE) return undefined;
  if (typeof freshness !== 'object' || freshness === null) return undefined;
  if ((freshness as { scale?: unknown }).scale !== HISTOGRAM_SCALE) return undefined;
  const histograms = emptyHistograms();
  for (const name of LATENCIES) {
    const decoded = LatencyHistogram.decode((freshness as Record<string, unknown>)[name]);
    if (decoded === undefined) return undefined;
    histograms[name] = decoded;
  }
  const counts = (freshness as { readings?: unknown }).readings;
  if (typeof counts !== 'object' || counts === null) return undefined;
  const readings = noReadings();
  for (const key of Object.keys(readings) as (keyof ReadingCounts)[]) {
    const n = (counts as Record<string, unknown>)[key];
    if (!Number.isSafeInteger(n) || (n as number) < 0) return undefined;
    readings[key] = n as number;
  }
  return { histograms, readings };
}
