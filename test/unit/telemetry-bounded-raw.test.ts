import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundedJson,
  boundRaw,
  RAW_MAX_CHARS,
  RAW_MAX_DEPTH,
  RAW_PREVIEW_CHARS,
} from '../../shared/telemetry/bounded-raw.js';

/** Nesting depth as bounded-raw counts it (a scalar is 0), without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function nestedArrays(depth: number): unknown[] {
  const root: unknown[] = [];
  let node = root;
  for (let i = 1; i < depth; i++) {
    const child: unknown[] = [];
    node.push(child);
    node = child;
  }
  return root;
}

describe('boundedJson', () => {
  it('writes exactly what JSON.stringify writes for any JSON value within the limits', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = boundedJson(value, { maxChars: 1e9, maxDepth: 1000 });
        expect(result).toEqual({ text: JSON.stringify(value), complete: true });
      }),
      { numRuns: 2000 },
    );
  });

  it('stops at either limit with a prefix of the JSON text, and is complete only within both', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 8 }),
        (value, maxChars, maxDepth) => {
          const full = JSON.stringify(value);
          const result = boundedJson(value, { maxChars, maxDepth });
          const within = full.length <= maxChars && depthOf(value) <= maxDepth;
          expect(result.complete).toBe(within);
          if (within) expect(result.text).toBe(full);
          else expect(full.startsWith(result.text.slice(0, maxChars))).toBe(true);
          expect(result.text.length).toBeLessThanOrEqual(7 * maxChars + 32);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handles 100k levels, 100k keys and 1 MB strings in bounded time', () => {
    const manyKeys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    for (const value of [
      nestedArrays(100_000),
      manyKeys,
      'x'.repeat(1_000_000),
      { ['y'.repeat(1_000_000)]: 1 },
    ]) {
      const started = performance.now();
      const result = boundedJson(value, { maxChars: RAW_MAX_CHARS, maxDepth: RAW_MAX_DEPTH });
      expect(result.complete).toBe(false);
      expect(result.text.length).toBeLessThan(8 * RAW_MAX_CHARS);
      expect(performance.now() - started).toBeLessThan(200);
    }
  });

  it('never keeps what is not plain JSON data, and never throws on it', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const throwingGetter = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    const throwingProxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    for (const value of [
      10n,
      undefined,
      Symbol('s'),
      () => 1,
      new Date(0),
      new Map([[1, 2]]),
      { nested: [1, 2n] },
      cyclic,
      throwingGetter,
      throwingProxy,
    ]) {
      const result = boundedJson(value, { maxChars: RAW_MAX_CHARS, maxDepth: RAW_MAX_DEPTH });
      expect(result.complete).toBe(false);
      const bounded = boundRaw(value);
      expect(bounded.rawTruncated).toBe(true);
      expect(() => JSON.stringify(bounded)).not.toThrow();
    }
  });
});

describe('boundRaw', () => {
  it('keeps a small, shallow value itself (the same object)', () => {
    const reading = { vehicle_id: 'veh-1', speed_kmh: 'fast', extra: { a: [1, 2, { b: null }] } };
    expect(boundRaw(reading)).toEqual({ raw: reading, rawTruncated: false });
    expect(boundRaw(reading).raw).toBe(reading);
  });

  it.each([
    ['an array 100k deep', nestedArrays(100_000), '['],
    ['an array one level too deep', nestedArrays(RAW_MAX_DEPTH + 1), '['],
    [
      'an object of 20k keys',
      Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])),
      '{"k0":0,',
    ],
    [
      'a reading with a 1 MB field',
      { vehicle_id: 'veh-1', note: 'x'.repeat(1_000_000) },
      '{"vehicle_id":"veh-1","note":"xxx',
    ],
  ])('replaces %s with a preview of its JSON text', (_name, value, start) => {
    const { raw, rawTruncated } = boundRaw(value);
    expect(rawTruncated).toBe(true);
    expect(typeof raw).toBe('string');
    expect((raw as string).length).toBeLessThanOrEqual(RAW_PREVIEW_CHARS);
    expect(raw as string).toMatch(new RegExp(`^${start.replace(/[[{]/g, '\\$&')}`));
  });

  it('keeps text (undecodable input) whole when short, else its start', () => {
    expect(boundRaw('{"vehicle_id": ')).toEqual({ raw: '{"vehicle_id": ', rawTruncated: false });
    const long = `{${'x'.repeat(RAW_MAX_CHARS)}`;
    expect(boundRaw(long)).toEqual({ raw: long.slice(0, RAW_PREVIEW_CHARS), rawTruncated: true });
  });
});
