import { afterEach, describe, expect, it, vi } from 'vitest';
import { FleetError } from '../../shared/errors.js';
import type { FeatureSink } from '../../shared/ports/feature-sink.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { GroupCommitSink } from '../../shared/runtime/group-commit-sink.js';
import { featureRowFixture, featureRowFixtures } from '../helpers/feature-row-fixtures.js';

/**
 * The unit under test is the batching, so the wrapped sink is an in-memory recorder: it keeps each
 * write's event_ids, can fail the next write, and can hold writes open until released.
 */
class RecordingSink implements FeatureSink {
  readonly writes: string[][] = [];
  readonly #failures: unknown[] = [];
  #gate: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(readonly name = 'recorder') {}

  async write(rows: readonly FeatureRow[]): Promise<void> {
    const failure = this.#failures.shift();
    await this.#gate;
    if (failure !== undefined) throw failure;
    this.writes.push(rows.map((row) => row.event_id));
  }

  failNextWrite(error: unknown): void {
    this.#failures.push(error);
  }

  holdWrites(): void {
    this.#gate = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  releaseWrites(): void {
    this.#release?.();
    this.#gate = undefined;
  }
}

function track(promise: Promise<void>): { settled: () => boolean; result: Promise<'ok' | unknown> } {
  let settled = false;
  const result = promise.then(
    () => 'ok' as const,
    (error: unknown) => error,
  );
  void result.finally(() => {
    settled = true;
  });
  return { settled: () => settled, result };
}

const transient = () => new FleetError('transient_sink', 'backend unavailable');

afterEach(() => {
  vi.useRealTimers();
});

describe('GroupCommitSink', () => {
  it('turns 100 concurrent single-row writes into a few flushes bounded by maxRows', async () => {
    const sink = new RecordingSink();
    const group = new GroupCommitSink([sink], { maxRows: 25, maxMs: 60_000 });
    const rows = featureRowFixtures('burst', 100);

    await Promise.all(rows.map((row) => group.write([row])));

    expect(sink.writes.map((w) => w.length)).toEqual([25, 25, 25, 25]);
    expect(sink.writes.flat().sort()).toEqual(rows.map((r) => r.event_id).sort());
    expect(group.stats()).toMatchObject({ flushes: 4, failedFlushes: 0, rows: 100, pendingRows: 0 });
  });

  it('never splits a caller across flushes and never exceeds maxRows when calls fit', async () => {
    const sink = new RecordingSink();
    const group = new GroupCommitSink([sink], { maxRows: 10, maxMs: 60_000 });
    const calls = Array.from({ length: 40 }, (_, c) => featureRowFixtures(`call${c}`, 1 + (c % 4)));

    await Promise.all(calls.map((rows) => group.write(rows)));

    const total = calls.reduce((n, rows) => n + rows.length, 0);
    expect(sink.writes.flat()).toHaveLength(total);
    for (const write of sink.writes) expect(write.length).toBeLessThanOrEqual(10);
    expect(sink.writes.length).toBeLessThan(total / 4);
    for (const rows of calls) {
      const flush = sink.writes.find((w) => w.includes(rows[0]!.event_id))!;
      expect(flush).toEqual(expect.arrayContaining(rows.map((r) => r.event_id)));
    }
  });

  it('flushes a call larger than maxRows as one group of its own', async () => {
    const sink = new RecordingSink();
    const group = new GroupCommitSink([sink], { maxRows: 10, maxMs: 60_000 });

    const small = group.write(featureRowFixtures('small', 3));
    const large = group.write(featureRowFixtures('large', 25));
    await Promise.all([small, large]);

    expect(sink.writes.map((w) => w.length)).toEqual([3, 25]);
  });

  it('flushes a lone write when maxMs has passed since it arrived', async () => {
    vi.useFakeTimers();
    const sink = new RecordingSink();
    const group = new GroupCommitSink([sink], { maxRows: 500, maxMs: 50 });
    const write = track(group.write([featureRowFixture('lone', 1)]));

    await vi.advanceTimersByTimeAsync(49);
    expect(sink.writes).toHaveLength(0);
    expect(write.settled()).toBe(false);
    expect(group.stats().pendingRows).toBe(1);

    await vi.advanceTimersByTimeAsync(1);
    expect(await write.result).toBe('ok');
    expect(sink.writes).toEqual([['lone:1']]);
    expect(group.stats()).toMatchObject({ flushes: 1, rows: 1, pendingRows: 0, lastFlushRows: 1 });
  });

  it('writes every group to every sink and resolves only once all of them are done', async () => {
    const bigquery = new RecordingSink('bq');
    const gcs = new RecordingSink('gcs');
    const group = new GroupCommitSink([bigquery, gcs], { maxRows: 4, maxMs: 60_000 });
    gcs.holdWrites();

    const writes = featureRowFixtures('both', 4).map((row) => track(group.write([row])));
    await vi.waitFor(() => expect(bigquery.writes).toHaveLength(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => w.settled())).toEqual([false, false, false, false]);

    gcs.releaseWrites();
    expect(await Promise.all(writes.map((w) => w.result))).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(gcs.writes).toEqual(bigquery.writes);
    expect(group.name).toBe('group(bq+gcs)');
  });

  it('rejects exactly the callers of a failed flush, and a later write succeeds', async () => {
    const bigquery = new RecordingSink('bq');
    const gcs = new RecordingSink('gcs');
    const group = new GroupCommitSink([bigquery, gcs], { maxRows: 3, maxMs: 60_000 });
    const failure = transient();
    gcs.failNextWrite(failure);

    const failed = featureRowFixtures('first', 3).map((row) => group.write([row]));
    const passed = featureRowFixtures('second', 3).map((row) => group.write([row]));
    const failedResults = await Promise.allSettled(failed);
    const passedResults = await Promise.allSettled(passed);

    expect(failedResults.map((r) => (r.status === 'rejected' ? r.reason : 'ok'))).toEqual([
      failure,
      failure,
      failure,
    ]);
    expect(passedResults.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const later = group.write([featureRowFixture('later', 1)]);
    await group.flush();
    await expect(later).resolves.toBeUndefined();
    expect(gcs.writes).toEqual([['second:0', 'second:1', 'second:2'], ['later:1']]);
    expect(group.stats()).toMatchObject({ flushes: 3, failedFlushes: 1, rows: 4 });
  });

  it('fails only the owner of a row a sink rejected, and prefers a transient error when both apply', async () => {
    const bigquery = new RecordingSink('bq');
    const gcs = new RecordingSink('gcs');
    const group = new GroupCommitSink([bigquery, gcs], { maxRows: 3, maxMs: 60_000 });
    const rejection = new FleetError('sink_rejected', 'row bad:1 is invalid', {
      transient: false,
      metadata: { rejectedEventIds: ['bad:1'] },
    });
    bigquery.failNextWrite(rejection);

    const [good0, bad, good2] = await Promise.allSettled([
      group.write([featureRowFixture('good', 0)]),
      group.write([featureRowFixture('bad', 1)]),
      group.write([featureRowFixture('good', 2)]),
    ]);
    expect([good0.status, good2.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(bad).toEqual({ status: 'rejected', reason: rejection });

    const outage = transient();
    bigquery.failNextWrite(rejection);
    gcs.failNextWrite(outage);
    const results = await Promise.allSettled([
      group.write([featureRowFixture('good', 3)]),
      group.write([featureRowFixture('bad', 1)]),
      group.write([featureRowFixture('good', 4)]),
    ]);
    expect(results.map((r) => (r.status === 'rejected' ? r.reason : 'ok'))).toEqual([outage, outage, outage]);
  });

  it('drains pending rows on close and refuses writes afterwards', async () => {
    const sink = new RecordingSink();
    const group = new GroupCommitSink([sink], { maxRows: 500, maxMs: 60_000 });
    const pending = featureRowFixtures('drain', 5).map((row) => track(group.write([row])));

    await group.close();

    expect(pending.map((w) => w.settled())).toEqual([true, true, true, true, true]);
    expect(sink.writes).toEqual([['drain:0', 'drain:1', 'drain:2', 'drain:3', 'drain:4']]);
    await expect(group.write([featureRowFixture('drain', 9)])).rejects.toMatchObject({ code: 'internal' });
  });
});
