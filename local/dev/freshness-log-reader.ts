// Reads the feature function's `feature freshness` lines (shared/freshness/freshness-report.ts) from
// its log file as the file grows, and merges them: every instance's histograms since the stack
// started, so percentiles are over all rows, within the buckets' 9%.

import { open } from 'node:fs/promises';
import {
  emptyHistograms,
  type FreshnessHistograms,
  LATENCIES,
  type LatencyName,
  type ReadingCounts,
  readFreshnessLine,
} from '../../shared/freshness/freshness-report.js';
import type { LatencySummary } from './pipeline-health.js';

const READ_CHUNK_BYTES = 1 << 20;

export class FreshnessLogReader {
  readonly #path: string;
  #offset = 0;
  #partial = '';
  #reading: Promise<void> | undefined;
  readonly #histograms: FreshnessHistograms = emptyHistograms();
  readonly #readings: ReadingCounts = { applied: 0, duplicates: 0, conflicts: 0, late: 0, rejected: 0 };

  constructor(logPath: string) {
    this.#path = logPath;
  }

  /** Reads what was appended since the last call (concurrent calls share one read). */
  read(): Promise<void> {
    this.#reading ??= this.#readAppended().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  summary(): Record<LatencyName, LatencySummary> {
    const entries = LATENCIES.map((name) => {
      const histogram = this.#histograms[name];
      const ms = (q: number) => {
        const value = histogram.quantile(q);
        return value === null ? null : Math.round(value);
      };
      return [name, { count: histogram.count, p50Ms: ms(0.5), p99Ms: ms(0.99) }] as const;
    });
    return Object.fromEntries(entries) as Record<LatencyName, LatencySummary>;
  }

  readings(): ReadingCounts {
    return { ...this.#readings };
  }

  async #readAppended(): Promise<void> {
    const file = await open(this.#path, 'r').catch(() => undefined);
    if (file === undefined) return; // not written yet
    try {
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) return;
        this.#offset += bytesRead;
        const lines = (this.#partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of lines) this.#take(line);
      }
    } finally {
      await file.close();
    }
  }

  #take(line: string): void {
    // Cheap filter first: the file holds every line the function writes.
    if (!line.includes('"feature freshness"')) return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    const read = readFreshnessLine(entry);
    if (read === undefined) return;
    for (const name of LATENCIES) this.#histograms[name].merge(read.histograms[name]);
    for (const key of Object.keys(this.#readings) as (keyof ReadingCounts)[]) {
      this.#readings[key] += read.readings[key];
    }
  }
}
