import { performance } from 'node:perf_hooks';
import type { FleetConfig } from '../config.js';
import { FleetError, isTransient } from '../errors.js';
import type { FeatureSink } from '../ports/feature-sink.js';
import type { FeatureRow } from '../rows/feature-row.js';

export interface GroupCommitOptions {
  /** A group is flushed as soon as it holds this many rows. */
  maxRows: number;
  /** ...or this long after its first write, whichever comes first. */
  maxMs: number;
}

export interface GroupCommitStats {
  /** Flushes finished, successful or not. */
  flushes: number;
  failedFlushes: number;
  /** Rows in successful flushes. */
  rows: number;
  /** Rows waiting for the next flush. */
  pendingRows: number;
  inFlightFlushes: number;
  lastFlushRows: number;
  lastFlushMs: number;
}

interface Caller {
  rows: readonly FeatureRow[];
  resolve(): void;
  reject(error: unknown): void;
}

interface Group {
  callers: Caller[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Group commit over one or more sinks. Concurrent `write` calls on an instance join the open group;
 * the group is flushed when it reaches `maxRows` or `maxMs` after its first write, and one flush
 * writes all of its rows to every sink in parallel (BigQuery gets multi-row inserts, the
 * feature-rows topic one message per flush). A caller's promise settles only after the flush: it
 * resolves when its rows are durable in every sink and rejects otherwise.
 *
 * A caller's rows are never split across groups (a call larger than maxRows is a group of its
 * own), so each caller has exactly one flush to answer to. Flushes may overlap: a full group is
 * flushed at once while the previous flush is still writing.
 *
 * Errors: a sink failure fails every caller of the flush, except a `sink_rejected` naming its rows
 * (metadata.rejectedEventIds, meaning all other rows were written), which fails only the callers
 * owning those rows. When a caller has several errors the transient one wins, so it retries until
 * only permanent failures remain.
 */
export class GroupCommitSink implements FeatureSink {
  readonly name: string;
  readonly #sinks: readonly FeatureSink[];
  readonly #options: GroupCommitOptions;
  #open: Group | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;
  readonly #stats: GroupCommitStats = {
    flushes: 0,
    failedFlushes: 0,
    rows: 0,
    pendingRows: 0,
    inFlightFlushes: 0,
    lastFlushRows: 0,
    lastFlushMs: 0,
  };

  constructor(sinks: readonly FeatureSink[], options: GroupCommitOptions) {
    if (sinks.length === 0) throw new FleetError('internal', 'GroupCommitSink needs at least one sink');
    if (!(options.maxRows >= 1) || !(options.maxMs >= 0)) {
      throw new FleetError('internal', `invalid group commit options ${JSON.stringify(options)}`);
    }
    this.#sinks = sinks;
    this.#options = options;
    this.name = `group(${sinks.map((sink) => sink.name).join('+')})`;
  }

  /** With the flush limits from configuration (SINK_FLUSH_MAX_ROWS, SINK_FLUSH_MAX_MS). */
  static fromConfig(sinks: readonly FeatureSink[], config: Pick<FleetConfig, 'sink'>): GroupCommitSink {
    return new GroupCommitSink(sinks, { maxRows: config.sink.flushMaxRows, maxMs: config.sink.flushMaxMs });
  }

  write(rows: readonly FeatureRow[]): Promise<void> {
    if (this.#closed) return Promise.reject(new FleetError('internal', `${this.name} is closed`));
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const open = this.#open;
      // Flush the open group first if these rows would overflow it: they are never split.
      if (open !== undefined && open.rows + rows.length > this.#options.maxRows) this.#flushOpen();
      const group = this.#openGroup();
      group.callers.push({ rows, resolve, reject });
      group.rows += rows.length;
      this.#stats.pendingRows += rows.length;
      if (group.rows >= this.#options.maxRows) this.#flushOpen();
    });
  }

  /** Flushes the open group now and waits until every flush started so far has finished. */
  async flush(): Promise<void> {
    this.#flushOpen();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Refuses new writes and drains: resolves when every accepted row has been flushed. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  #openGroup(): Group {
    if (this.#open !== undefined) return this.#open;
    const group: Group = { callers: [], rows: 0, timer: undefined };
    // Not unref'd: a pending write must keep the process alive until its rows are durable.
    group.timer = setTimeout(() => {
      if (this.#open === group) this.#flushOpen();
    }, this.#options.maxMs);
    this.#open = group;
    return group;
  }

  #flushOpen(): void {
    const group = this.#open;
    if (group === undefined) return;
    this.#open = undefined;
    clearTimeout(group.timer);
    this.#stats.pendingRows -= group.rows;
    const flush = this.#flush(group).finally(() => {
      this.#inFlight.delete(flush);
      this.#stats.inFlightFlushes = this.#inFlight.size;
    });
    this.#inFlight.add(flush);
    this.#stats.inFlightFlushes = this.#inFlight.size;
  }

  async #flush(group: Group): Promise<void> {
    const rows = group.callers.flatMap((caller) => caller.rows);
    const started = performance.now();
    const results = await Promise.allSettled(
      this.#sinks.map(async (sink) => {
        await sink.write(rows);
      }),
    );
    const errors = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    this.#stats.flushes += 1;
    this.#stats.lastFlushRows = rows.length;
    this.#stats.lastFlushMs = performance.now() - started;
    if (errors.length === 0) this.#stats.rows += rows.length;
    else this.#stats.failedFlushes += 1;

    for (const caller of group.callers) {
      const error = callerError(caller, errors);
      if (error === undefined) caller.resolve();
      else caller.reject(error);
    }
  }
}

/** The error a caller sees from a flush's sink errors, or undefined when its rows are durable. */
function callerError(caller: Caller, errors: readonly unknown[]): unknown {
  const relevant = errors.filter((error) => {
    const rejectedIds = rejectedEventIdsOf(error);
    return rejectedIds === undefined || caller.rows.some((row) => rejectedIds.has(row.event_id));
  });
  return relevant.find(isTransient) ?? relevant[0];
}

function rejectedEventIdsOf(error: unknown): Set<string> | undefined {
  if (!(error instanceof FleetError) || error.code !== 'sink_rejected') return undefined;
  const ids = error.metadata.rejectedEventIds;
  return Array.isArray(ids) ? new Set(ids.filter((id): id is string => typeof id === 'string')) : undefined;
}
