/**
 * A latency histogram with fixed exponential buckets: OpenTelemetry's exponential histogram at
 * scale 2 (four buckets per doubling; bucket i holds (2^(i/4), 2^((i+1)/4)] ms). Buckets never
 * move, so histograms from any instance and any interval merge exactly by adding counts, and a
 * percentile read back is within 9% (2^(1/8)) of the exact one whatever the range. Values of 1 ms
 * or less (a negative one too: a device clock ahead of ours) count in a zero bucket. The same
 * buckets are a Cloud Monitoring distribution with exponential buckets (growth factor 2^(1/4),
 * scale 1 ms), should a deployment export them as a metric. Pure.
 */

export const HISTOGRAM_SCALE = 2;
const PER_DOUBLING = 2 ** HISTOGRAM_SCALE;

/** As written in a log line: the exact count, sum, min and max, derived percentiles, sparse buckets. */
export interface EncodedHistogram {
  count: number;
  sum_ms: number;
  min_ms: number | null;
  max_ms: number | null;
  /** Estimated from the buckets (see `quantile`); for log-based metrics and for people reading it. */
  p50_ms: number | null;
  p99_ms: number | null;
  /** Values ≤ 1 ms. */
  zero_count: number;
  /** "index:count" pairs, space separated, ascending (one string: loggers cut long arrays). */
  buckets: string;
}

export class LatencyHistogram {
  count = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = Number.NEGATIVE_INFINITY;
  zeroCount = 0;
  readonly #buckets = new Map<number, number>();

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.count += 1;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    if (ms <= 1) this.zeroCount += 1;
    else {
      const index = bucketIndex(ms);
      this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + 1);
    }
  }

  merge(other: LatencyHistogram): this {
    this.count += other.count;
    this.sumMs += other.sumMs;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
    this.zeroCount += other.zeroCount;
    for (const [index, n] of other.#buckets) this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + n);
    return this;
  }

  /**
   * The q-quantile (0 < q ≤ 1): the bucket holding the ⌈q·count⌉-th smallest value, read as its
   * geometric middle and kept within [min, max]; null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    const clamp = (ms: number) => Math.min(this.maxMs, Math.max(this.minMs, ms));
    if (rank <= this.zeroCount) return clamp(1);
    let seen = this.zeroCount;
    for (const index of [...this.#buckets.keys()].sort((a, b) => a - b)) {
      seen += this.#buckets.get(index)!;
      if (seen >= rank) return clamp(2 ** ((index + 0.5) / PER_DOUBLING));
    }
    return this.maxMs;
  }

  encode(): EncodedHistogram {
    const empty = this.count === 0;
    const round = (ms: number | null) => (ms === null ? null : Math.round(ms));
    return {
      count: this.count,
      sum_ms: Math.round(this.sumMs),
      min_ms: empty ? null : round(this.minMs),
      max_ms: empty ? null : round(this.maxMs),
      p50_ms: round(this.quantile(0.5)),
      p99_ms: round(this.quantile(0.99)),
      zero_count: this.zeroCount,
      buckets: [...this.#buckets]
        .sort(([a], [b]) => a - b)
        .map(([index, n]) => `${index}:${n}`)
        .join(' '),
    };
  }

  /** Reads what `encode` wrote; undefined for anything else (a log line is text from outside). */
  static decode(value: unknown): LatencyHistogram | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const v = value as Partial<Record<keyof EncodedHistogram, unknown>>;
    const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
    if (!isCount(v.count) || !isCount(v.zero_count) || typeof v.sum_ms !== 'number') return undefined;
    if (typeof v.buckets !== 'string' || !/^(-?\d+:\d+( -?\d+:\d+)*)?$/.test(v.buckets)) return undefined;
    const histogram = new LatencyHistogram();
    let total = v.zero_count;
    for (const pair of v.buckets === '' ? [] : v.buckets.split(' ')) {
      const [index, n] = pair.split(':').map(Number) as [number, number];
      histogram.#buckets.set(index, (histogram.#buckets.get(index) ?? 0) + n);
      total += n;
    }
    if (total !== v.count) return undefined;
    if (v.count > 0 && (typeof v.min_ms !== 'number' || typeof v.max_ms !== 'number')) return undefined;
    histogram.count = v.count;
    histogram.sumMs = v.sum_ms;
    histogram.zeroCount = v.zero_count;
    if (v.count > 0) {
      histogram.minMs = v.min_ms as number;
      histogram.maxMs = v.max_ms as number;
    }
    return histogram;
  }
}

/** The bucket of a value over 1 ms: i with 2^(i/4) < ms ≤ 2^((i+1)/4). */
export function bucketIndex(ms: number): number {
  let index = Math.ceil(Math.log2(ms) * PER_DOUBLING) - 1;
  // log2 rounds: settle the edges exactly.
  if (2 ** (index / PER_DOUBLING) >= ms) index -= 1;
  else if (2 ** ((index + 1) / PER_DOUBLING) < ms) index += 1;
  return index;
}
