// Samples a running local stack's pipeline health once a second: what landed, from DevProgress's
// polls (the warehouse, the bucket's prefixes and the dead-letter topic, through the official
// clients), and freshness and the readings' fate from the feature function's own `feature
// freshness` log lines. The dashboard draws the samples; the dev summary prints the last one.

import type { LatencyName } from '../../shared/freshness/freshness-report.js';
import type { DevProgress } from './dev-progress.js';
import type { FreshnessLogReader } from './freshness-log-reader.js';
import type { LatencySummary, PipelineHealth, PipelineHealthSource } from './pipeline-health.js';

const DEFAULT_INTERVAL_MS = 1000;
/** Ten minutes of one-second samples. */
const MAX_SAMPLES = 600;

export class PipelineHealthSampler implements PipelineHealthSource {
  readonly #progress: DevProgress;
  readonly #freshness: FreshnessLogReader;
  readonly #intervalMs: number;
  readonly #samples: PipelineHealth[] = [];
  readonly #eventClockSpeedup: number;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<PipelineHealth> | undefined;

  constructor(deps: {
    progress: DevProgress;
    freshness: FreshnessLogReader;
    /** How much faster than the wall the devices' clocks run (the simulator's --speedup; 1 without it). */
    eventClockSpeedup?: number;
    intervalMs?: number;
  }) {
    this.#progress = deps.progress;
    this.#freshness = deps.freshness;
    this.#eventClockSpeedup = deps.eventClockSpeedup ?? 1;
    this.#intervalMs = deps.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.#samples.push(this.#compose(new Date()));
  }

  /** Samples every interval from now on (the progress must be started too: it does the polling). */
  start(): void {
    this.#timer ??= setInterval(() => void this.sample(), this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  current(): PipelineHealth {
    return this.#samples.at(-1)!;
  }

  history(): readonly PipelineHealth[] {
    return this.#samples;
  }

  /** Reads the logs appended since the last sample and records a new sample (also the summary's last word). */
  sample(): Promise<PipelineHealth> {
    this.#sampling ??= this.#freshness
      .read()
      .catch(() => {}) // a log being rotated or not there yet: the next tick reads it
      .then(() => {
        const sample = this.#compose(new Date());
        this.#samples.push(sample);
        if (this.#samples.length > MAX_SAMPLES) this.#samples.shift();
        return sample;
      })
      .finally(() => {
        this.#sampling = undefined;
      });
    return this.#sampling;
  }

  #compose(at: Date): PipelineHealth {
    const landed = this.#progress.counts();
    const published = this.#progress.publishedCounts();
    const previous = this.#samples.at(-1);
    const seconds = previous === undefined ? 0 : (at.getTime() - Date.parse(previous.at)) / 1000;
    const perS = (now: number, before: number | undefined) =>
      seconds > 0 && before !== undefined ? Math.max(0, (now - before) / seconds) : 0;
    const freshness = this.#freshness.summary();
    const latency = (name: LatencyName): LatencySummary => freshness[name];
    return {
      at: at.toISOString(),
      readingsPublished: published.readings,
      readingsPerS: perS(published.readings, previous?.readingsPublished),
      rows: landed.rows,
      distinctRows: landed.distinctRows,
      rowsPerS: perS(landed.rows, previous?.rows),
      freshness: {
        eventToDurable: latency('event_to_durable'),
        publishToDurable: latency('publish_to_durable'),
        eventToOnline: latency('event_to_online'),
        publishToOnline: latency('publish_to_online'),
        eventClockSpeedup: this.#eventClockSpeedup,
      },
      deadLettered: landed.deadLettered,
      late: this.#freshness.readings().late,
      quarantined: landed.quarantineObjects,
      archive: {
        featureObjects: landed.featureObjects,
        rawObjects: landed.rawObjects,
        rowsPerObject: landed.featureObjects > 0 ? landed.rows / landed.featureObjects : null,
      },
      backlog: Math.max(0, published.expectedRows - landed.distinctRows),
    };
  }
}
