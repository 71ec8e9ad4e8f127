// Progress of `npm run dev` on the terminal: readings published, feature rows in the warehouse,
// objects in the bucket (the archives' and the rare direct ones), messages the archive writers hold
// for their open objects, dead-lettered readings. Counts come from the stand-ins through the same
// official clients production uses, so they show what landed, not what was attempted.

import { setTimeout as sleep } from 'node:timers/promises';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import cliProgress from 'cli-progress';
import type { FleetConfig } from '../../shared/config.js';

export interface LandedCounts {
  rows: number;
  distinctRows: number;
  featureObjects: number;
  rawObjects: number;
  quarantineObjects: number;
  lateObjects: number;
  deadLettered: number;
}

export class DevProgress {
  private publishedCount = 0;
  private expectedRowsPublished = 0;
  private landed: LandedCounts = {
    rows: 0,
    distinctRows: 0,
    featureObjects: 0,
    rawObjects: 0,
    quarantineObjects: 0,
    lateObjects: 0,
    deadLettered: 0,
  };
  private readonly deadLetters: Subscription;
  private readonly bar: cliProgress.SingleBar;
  private timer: NodeJS.Timeout | undefined;
  private showBar = false;
  private polling = false;

  constructor(
    private readonly deps: {
      bigquery: BigQuery;
      storage: Storage;
      config: FleetConfig;
      pubsub: PubSub;
      watchSubscription: string;
      /** Messages received by the archive writers and not yet in a written object. */
      archivePending?: () => { features: number; raw: number };
    },
  ) {
    this.deadLetters = deps.pubsub.subscription(deps.watchSubscription);
    this.bar = new cliProgress.SingleBar(
      {
        format:
          'readings published {value} | feature rows {rows} | archive objects features/ {featureObjects} raw/ {rawObjects} (messages held for open objects {featuresPending} / {rawPending}) | quarantine/ {quarantineObjects} late/ {lateObjects} | dead-lettered {deadLettered}',
        noTTYOutput: true,
        notTTYSchedule: 5000,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** Starts counting (and, unless `bar` is false, drawing the progress line); idempotent. */
  start(options: { bar?: boolean } = {}): void {
    if (this.timer !== undefined) return;
    this.deadLetters.on('message', (message: Message) => {
      this.landed.deadLettered++;
      message.ack();
    });
    this.deadLetters.on('error', () => {});
    this.showBar = options.bar ?? true;
    if (this.showBar) this.bar.start(0, 0, this.#barPayload());
    this.timer = setInterval(() => void this.poll(), 1000);
  }

  /** `expectedRows`: how many of them are to become rows (first sends, in order or not, not late). */
  published(readings: number, expectedRows = 0): void {
    this.publishedCount += readings;
    this.expectedRowsPublished += expectedRows;
    if (this.showBar) this.bar.update(this.publishedCount, this.#barPayload());
  }

  publishedCounts(): { readings: number; expectedRows: number } {
    return { readings: this.publishedCount, expectedRows: this.expectedRowsPublished };
  }

  counts(): LandedCounts {
    return { ...this.landed };
  }

  async poll(): Promise<LandedCounts> {
    if (this.polling) return this.counts();
    this.polling = true;
    try {
      const { config, bigquery, storage } = this.deps;
      const [rows] = await bigquery.query({
        query: `SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM \`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\``,
      });
      const bucket = storage.bucket(config.featuresBucket);
      const countObjects = async (prefix: string) =>
        (await bucket.getFiles({ prefix, autoPaginate: true }))[0].length;
      const [featureObjects, rawObjects, quarantineObjects, lateObjects] = await Promise.all([
        countObjects('features/'),
        countObjects('raw/'),
        countObjects('quarantine/'),
        countObjects('late/'),
      ]);
      const first = rows[0] as { n: number; d: number } | undefined;
      Object.assign(this.landed, {
        rows: Number(first?.n ?? 0),
        distinctRows: Number(first?.d ?? 0),
        featureObjects,
        rawObjects,
        quarantineObjects,
        lateObjects,
      });
      if (this.showBar) this.bar.update(this.publishedCount, this.#barPayload());
    } catch {
      // A poll that fails (a stand-in busy) is retried on the next tick.
    } finally {
      this.polling = false;
    }
    return this.counts();
  }

  /** Until every expected row has landed and the counts stop moving (or the timeout). */
  /**
   * Waits until every expected row is in (and the counts have settled), as long as the pipeline
   * makes progress: false after `stallMs` without any count moving, or after `maxMs` in all. A
   * high-rate run drains for as long as it needs (the emulator's push delivery is the local limit).
   */
  async waitForDrain(options: { expectedRows: number; stallMs: number; maxMs: number }): Promise<boolean> {
    const deadline = Date.now() + options.maxMs;
    let previous = '';
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      const counts = await this.poll();
      const key = JSON.stringify(counts);
      if (key !== previous) {
        previous = key;
        stableSince = Date.now();
      }
      if (counts.distinctRows >= options.expectedRows && Date.now() - stableSince >= 3000) return true;
      if (Date.now() - stableSince >= options.stallMs) return false;
      await sleep(500);
    }
    return false;
  }

  #barPayload(): Record<string, number> {
    const pending = this.deps.archivePending?.() ?? { features: 0, raw: 0 };
    return { ...this.landed, featuresPending: pending.features, rawPending: pending.raw };
  }

  /** Stops drawing the progress line (before a summary is printed); counting goes on until `stop`. */
  endBar(): void {
    if (this.showBar) this.bar.stop();
    this.showBar = false;
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.endBar();
    this.deadLetters.removeAllListeners('message');
    return this.deadLetters.close().catch(() => {});
  }
}
