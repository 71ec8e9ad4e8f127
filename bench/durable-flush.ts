import type { WindowStore } from '../shared/ports/window-store.js';
import type { FeatureRow } from '../shared/rows/feature-row.js';

export interface FlushOptions {
  /** A flush starts when this many rows wait (SINK_FLUSH_MAX_ROWS)... */
  maxRows: number;
  /** ...or this long after the first of them (SINK_FLUSH_MAX_MS). */
  maxMs: number;
}

/**
 * What follows the engine in the feature function, without the sinks' I/O: rows are collected the
 * way the group commit collects them (a flush at `maxRows` rows or `maxMs` after the first), the
 * flush is durable at once, and then every message's rows are dropped from the window store
 * (markDurable per vehicle of the message, as feature-service.ts does once its write is durable).
 * So each reading costs Redis what it costs in production, and stored rows do not pile up.
 */
export class SimulatedDurableFlushes {
  private pending: (readonly FeatureRow[])[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  flushes = 0;
  markDurableCalls = 0;

  constructor(
    private readonly store: WindowStore,
    private readonly options: FlushOptions,
  ) {}

  /** One message's rows. */
  add(rows: readonly FeatureRow[]): void {
    if (rows.length === 0) return;
    this.pending.push(rows);
    this.pendingRows += rows.length;
    if (this.pendingRows >= this.options.maxRows) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxMs);
  }

  /** Flushes what waits and resolves once every markDurable has; rejects with the first failure. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failure !== null) throw this.failure;
  }

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const messages = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.flushes++;
    const done = Promise.all(messages.map((rows) => this.forget(rows))).then(
      () => {},
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }

  private forget(rows: readonly FeatureRow[]): Promise<unknown> {
    const byVehicle = new Map<string, number[]>();
    for (const row of rows) {
      const eventTs = Date.parse(row.event_ts);
      const list = byVehicle.get(row.vehicle_id);
      if (list) list.push(eventTs);
      else byVehicle.set(row.vehicle_id, [eventTs]);
    }
    this.markDurableCalls += byVehicle.size;
    return Promise.all(
      [...byVehicle].map(([vehicleId, eventTs]) => this.store.markDurable(vehicleId, eventTs)),
    );
  }
}
