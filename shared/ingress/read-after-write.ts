import { scoreRows } from '../features/risk-scoring.js';
import type { Logger } from '../logger.js';
import type { ModelScoring } from '../ports/model-scoring.js';
import type { ReadingRef, ReadingState, ReadingStatusReader } from '../ports/reading-status.js';
import { buildFeatureRow, type FeatureRow } from '../rows/feature-row.js';
import type { TelemetryReading } from '../telemetry/telemetry-reading.js';
import { encodeReadingArg, READING_ARG_BYTES } from '../windows/window-snapshot.js';

/**
 * `?wait=true`: the gateway answers once the feature function has applied the readings, with their
 * rows, by watching the window store's dedupe state (a read-only script), never by calling the
 * function. A row is read while the store still holds it (from the apply until the row is durable
 * in every sink) and built with the very code and bytes the function wrote to the warehouse, then
 * scored with the model version stored with it, as the function scored it.
 *
 *   applied    applied by this request; `row` is its row (null when the row became durable before
 *              the gateway looked: it is in the warehouse)
 *   duplicate  applied before this request (a retry): `row` while the store still holds it
 *   conflict   another version of the reading was applied first; it stands
 *   late       beyond the vehicle's allowed lateness: archived as late, no row
 *   pending    not applied within the wait timeout (the reading is accepted all the same)
 */
export type WaitStatus = 'applied' | 'duplicate' | 'conflict' | 'late' | 'pending';

export interface WaitedReading {
  index: number | null;
  event_id: string;
  status: WaitStatus;
  row: FeatureRow | null;
}

export interface WaitOutcome {
  /** Every reading reached a final status before the timeout. */
  complete: boolean;
  waitedMs: number;
  readings: WaitedReading[];
}

export interface ReadAfterWriteDeps {
  readingStatus: ReadingStatusReader;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
  timeoutMs: number;
  pollMs: number;
  /** The model registry's scorers; rows stored with a model version are scored with it. */
  models?: ModelScoring;
}

export interface WaitedInput {
  index: number | null;
  reading: TelemetryReading;
}

export function readingRef(reading: TelemetryReading): ReadingRef {
  return {
    eventTsMs: reading.event_ts_ms,
    fingerprint: encodeReadingArg(reading).readUInt32LE(READING_ARG_BYTES - 4),
  };
}

function rowOf(vehicleId: string, state: Extract<ReadingState, { state: 'stored' }>): FeatureRow {
  const { stored } = state;
  const row = buildFeatureRow(
    { ...stored.reading, event_id: stored.eventId, vehicle_id: vehicleId },
    stored.snapshot,
  );
  row.model_version = stored.modelVersion;
  return row;
}

/** A state seen before publishing: what was settled by earlier sends. */
function settledBefore(
  vehicleId: string,
  state: ReadingState,
): Omit<WaitedReading, 'index' | 'event_id'> | null {
  switch (state.state) {
    case 'stored':
      return { status: 'duplicate', row: rowOf(vehicleId, state) };
    case 'applied':
      return { status: 'duplicate', row: null };
    case 'conflict':
    case 'late':
      return { status: state.state, row: null };
    case 'pending':
      return null;
  }
}

/** A state seen after publishing. */
function settledAfter(
  vehicleId: string,
  state: ReadingState,
): Omit<WaitedReading, 'index' | 'event_id'> | null {
  switch (state.state) {
    case 'stored':
      return { status: 'applied', row: rowOf(vehicleId, state) };
    case 'applied':
      return { status: 'applied', row: null };
    case 'conflict':
    case 'late':
      return { status: state.state, row: null };
    case 'pending':
      return null;
  }
}

/**
 * Watches one vehicle's readings: `before()` prior to publishing (earlier sends settle some at
 * once), `until()` after. A store that cannot be read only ends the wait early: the readings are
 * accepted whatever happens here.
 */
export class ReadAfterWrite {
  private readonly refs: ReadingRef[];
  private readonly results: (WaitedReading | null)[];
  private readonly startedMs: number;

  constructor(
    private readonly deps: ReadAfterWriteDeps,
    private readonly vehicleId: string,
    private readonly inputs: readonly WaitedInput[],
  ) {
    this.refs = inputs.map((input) => readingRef(input.reading));
    this.results = inputs.map(() => null);
    this.startedMs = deps.clock();
  }

  async before(): Promise<void> {
    const states = await this.read();
    if (states !== null) this.settle(states, settledBefore);
  }

  async until(): Promise<WaitOutcome> {
    const deadline = this.startedMs + this.deps.timeoutMs;
    // Bounded by count as well as by the clock: a clock that stands still must not wait forever.
    let polls = Math.ceil(this.deps.timeoutMs / this.deps.pollMs) + 1;
    while (this.results.includes(null) && this.deps.clock() < deadline && polls-- > 0) {
      await this.deps.sleep(Math.min(this.deps.pollMs, Math.max(0, deadline - this.deps.clock())));
      const states = await this.read();
      if (states === null) break;
      this.settle(states, settledAfter);
    }
    const readings = this.inputs.map(
      (input, i): WaitedReading =>
        this.results[i] ?? {
          index: input.index,
          event_id: input.reading.event_id,
          status: 'pending',
          row: null,
        },
    );
    await this.score(readings.flatMap((r) => (r.row === null ? [] : [r.row])));
    return {
      complete: !this.results.includes(null),
      waitedMs: this.deps.clock() - this.startedMs,
      readings,
    };
  }

  /** risk_score as the function computed it; a registry that cannot be read leaves rows unscored. */
  private async score(rows: FeatureRow[]): Promise<void> {
    if (this.deps.models === undefined || rows.every((row) => row.model_version === null)) return;
    try {
      await scoreRows(rows, this.deps.models);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'wait=true: cannot load the model to score the rows');
      for (const row of rows) row.model_version = null;
    }
  }

  private settle(
    states: ReadingState[],
    judge: (vehicleId: string, state: ReadingState) => Omit<WaitedReading, 'index' | 'event_id'> | null,
  ): void {
    states.forEach((state, i) => {
      if (this.results[i] !== null) return;
      const settled = judge(this.vehicleId, state);
      const input = this.inputs[i]!;
      if (settled !== null)
        this.results[i] = { index: input.index, event_id: input.reading.event_id, ...settled };
    });
  }

  /** Only the readings not settled yet are asked about. */
  private async read(): Promise<ReadingState[] | null> {
    const open = this.refs.flatMap((_ref, i) => (this.results[i] === null ? [i] : []));
    if (open.length === 0) return [];
    try {
      const states = await this.deps.readingStatus.readingStates(
        this.vehicleId,
        open.map((i) => this.refs[i]!),
      );
      const all: ReadingState[] = this.refs.map(() => ({ state: 'pending' }));
      open.forEach((i, k) => {
        all[i] = states[k]!;
      });
      return all;
    } catch (error) {
      this.deps.logger.warn(
        { err: error, vehicle_id: this.vehicleId },
        'wait=true: cannot read the window store',
      );
      return null;
    }
  }
}
