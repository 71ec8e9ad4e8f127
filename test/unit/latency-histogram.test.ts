// Freshness histograms: percentiles within the buckets' 9%, exact merges, and the log line the
// feature function writes and the local stack reads back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreshnessReport, readFreshnessLine } from '../../shared/freshness/freshness-report.js';
import { bucketIndex, LatencyHistogram } from '../../shared/freshness/latency-histogram.js';
import { createLogger } from '../../shared/logger.js';

const TOLERANCE = 2 ** (1 / 8) * (1 + 1e-9);
const latencies = fc.array(fc.double({ min: 1.01, max: 1e8, noNaN: true }), { minLength: 1, maxLength: 300 });

function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

function histogramOf(values: readonly number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

describe('LatencyHistogram', () => {
  it('puts every value over 1 ms in the bucket (2^(i/4), 2^((i+1)/4)]', () => {
    fc.assert(
      fc.property(fc.double({ min: 1.000001, max: 1e12, noNaN: true }), (ms) => {
        const i = bucketIndex(ms);
        expect(2 ** (i / 4)).toBeLessThan(ms);
        expect(ms).toBeLessThanOrEqual(2 ** ((i + 1) / 4));
      }),
    );
    expect(bucketIndex(2)).toBe(3);
    expect(bucketIndex(1024)).toBe(39);
  });

  it('reads p50 and p99 within 9% of the exact values', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        const histogram = histogramOf(values);
        for (const q of [0.5, 0.99]) {
          const ratio = histogram.quantile(q)! / exactQuantile(values, q);
          expect(ratio).toBeLessThanOrEqual(TOLERANCE);
          expect(ratio).toBeGreaterThanOrEqual(1 / TOLERANCE);
        }
        expect(histogram.quantile(0.5)!).toBeLessThanOrEqual(histogram.quantile(0.99)!);
      }),
    );
  });

  it('merges exactly: two halves merged encode as the whole', () => {
    fc.assert(
      fc.property(latencies, latencies, (a, b) => {
        const merged = histogramOf(a).merge(histogramOf(b)).encode();
        const whole = histogramOf([...a, ...b]).encode();
        expect({ ...merged, sum_ms: 0 }).toEqual({ ...whole, sum_ms: 0 });
        expect(Math.abs(merged.sum_ms - whole.sum_ms)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('decodes what it encodes, and nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5000, max: 1e9 }), { maxLength: 200 }), (values) => {
        const encoded = histogramOf(values).encode();
        expect(LatencyHistogram.decode(JSON.parse(JSON.stringify(encoded)))?.encode()).toEqual(encoded);
      }),
    );
    const valid = histogramOf([5, 50, 500]).encode();
    for (const broken of [
      null,
      'x',
      { ...valid, count: 4 },
      { ...valid, buckets: '1:x' },
      { ...valid, min_ms: null },
    ]) {
      expect(LatencyHistogram.decode(broken)).toBeUndefined();
    }
  });

  it('counts values of 1 ms or less, negative ones too, in the zero bucket', () => {
    const histogram = histogramOf([-250, 0, 1, 40]);
    expect(histogram.encode()).toMatchObject({ count: 4, zero_count: 3, min_ms: -250, max_ms: 40 });
    expect(histogram.quantile(0.5)).toBe(1);
    expect(new LatencyHistogram().quantile(0.5)).toBeNull();
  });
});

describe('FreshnessReport', () => {
  it('writes one line per interval that the local stack reads back', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } });
    const report = new FreshnessReport(logger, { intervalMs: 60_000 });
    report.online([1_000, 2_000], 2_500, 2_510);
    report.durable([1_000, 2_000], 2_500, 2_540);
    report.durable([3_000], undefined, 3_100);
    report.readings({ applied: 3, duplicates: 1, conflicts: 0, late: 2, rejected: 1 });
    report.flush();
    report.flush(); // nothing new: no line
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ severity: 'INFO', message: 'feature freshness' });
    const { histograms: read, readings } = readFreshnessLine(entry)!;
    expect(readings).toEqual({ applied: 3, duplicates: 1, conflicts: 0, late: 2, rejected: 1 });
    expect(read.event_to_durable.encode()).toMatchObject({ count: 3, min_ms: 100, max_ms: 1540 });
    expect(read.publish_to_durable.encode()).toMatchObject({ count: 2, min_ms: 40, max_ms: 40 });
    expect(read.event_to_online.encode()).toMatchObject({ count: 2, min_ms: 510, max_ms: 1510 });
    expect(read.publish_to_online.encode()).toMatchObject({ count: 2, min_ms: 10 });
    expect(readFreshnessLine({ message: 'telemetry message processed' })).toBeUndefined();
  });
});
