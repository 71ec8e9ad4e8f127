import { describe, expect, it } from 'vitest';
import { type BatchLimits, TextObjectBatch } from '../../local/servers/cloud-storage-subscription-batch.js';

// How the local Cloud Storage subscription cuts objects: by bytes, by message count, by duration,
// and what the text format writes.

const limits: BatchLimits = { maxBytes: 1000, maxMessages: 1000, maxDurationMs: 60_000 };

/** Feeds messages the way the writer does and returns the objects' messages (handles). */
function cut(sizes: readonly number[], batchLimits: BatchLimits): number[][] {
  const objects: number[][] = [];
  let open: TextObjectBatch<number> | undefined;
  const finalize = () => {
    if (open !== undefined) objects.push(open.handles);
    open = undefined;
  };
  sizes.forEach((size, i) => {
    if (open !== undefined && !open.accepts(size)) finalize();
    open ??= new TextObjectBatch<number>(0, batchLimits);
    open.add(Buffer.alloc(size, 'x'), i);
    if (open.full) finalize();
  });
  finalize();
  return objects;
}

describe('TextObjectBatch', () => {
  it('joins message data with a newline between messages and none at the end', () => {
    const batch = new TextObjectBatch<string>(0, limits);
    batch.add(Buffer.from('{"a":1}'), 'm1');
    batch.add(Buffer.from('{"a":2}\n{"a":3}'), 'm2');
    batch.add(Buffer.from(''), 'm3');

    expect(batch.body().toString()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(batch.bytes).toBe(batch.body().length);
    expect(batch.handles).toEqual(['m1', 'm2', 'm3']);
  });

  it('keeps the bytes as sent, invalid UTF-8 included', () => {
    const batch = new TextObjectBatch<number>(0, limits);
    const raw = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);
    batch.add(raw, 1);
    batch.add(raw, 2);
    expect(batch.body()).toEqual(Buffer.concat([raw, Buffer.from('\n'), raw]));
  });

  it.each([
    // 10 messages of 99 bytes: 99 + 9 × 100 = 999 bytes fit, the 11th starts a new object.
    ['exactly what fits in max bytes', Array(11).fill(99), [10, 1]],
    // An object that reaches max bytes exactly is finalized at once.
    ['max bytes reached exactly', [499, 500, 10], [2, 1]],
    // A message larger than max bytes goes out alone, as the reference allows.
    ['a message over max bytes, alone', [10, 5000, 10], [1, 1, 1]],
  ])('cuts by bytes: %s', (_, sizes, expected) => {
    const objects = cut(sizes as number[], limits);
    expect(objects.map((o) => o.length)).toEqual(expected);
    expect(objects.flat()).toEqual(sizes.map((_, i) => i));
  });

  it('cuts by message count', () => {
    const objects = cut(Array(2500).fill(1), { ...limits, maxBytes: 1_000_000 });
    expect(objects.map((o) => o.length)).toEqual([1000, 1000, 500]);
  });

  it('expires max duration after the object was opened, not after its last message', () => {
    const batch = new TextObjectBatch<number>(10_000, limits);
    batch.add(Buffer.from('x'), 1);
    expect(batch.expired(69_999)).toBe(false);
    expect(batch.expired(70_000)).toBe(true);
  });
});
