// The batch scanner that lets the gateway forward each reading as the exact text the device sent:
// for any JSON batch, however written, every span is the text of one element, in order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingSpans } from '../../shared/ingress/raw-reading-spans.js';

const slices = (text: string) => readingSpans(text)?.map(([start, end]) => text.slice(start, end)) ?? null;

/** JSON text of a value with random insignificant whitespace (what JSON.stringify never writes). */
function spaced(value: unknown, ws: () => string): string {
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => spaced(v, ws)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(
      ([k, v]) => `${JSON.stringify(k)}${ws()}:${ws()}${spaced(v, ws)}`,
    );
    return `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(value);
}

describe('reading spans', () => {
  it('slices every element of any batch, however written', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 8 }),
        fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r\n  '), { minLength: 1 }),
        (elements, spaces) => {
          let k = 0;
          const ws = () => spaces[k++ % spaces.length]!;
          const text = `${ws()}${spaced({ readings: elements }, ws)}${ws()}`;
          const got = slices(text)!;
          expect(got.map((s) => JSON.parse(s))).toEqual(JSON.parse(text).readings);
          expect(got.every((s) => s.trim() === s)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a single reading', '{"vehicle_id":"a","readings_count":1}', null],
    [
      'escapes and brackets inside strings',
      '{"readings":[{"a":"]},\\"["},"x\\\\"]}',
      ['{"a":"]},\\"["}', '"x\\\\"'],
    ],
    ['an escaped key', '{"\\u0072eadings":[1, 2]}', ['1', '2']],
    ['the last of two readings members, as JSON.parse', '{"readings":[1],"readings":[2,3]}', ['2', '3']],
    [
      'numbers kept as written',
      '{"readings":[{"n":1.50e+2,"big":123456789012345678901234567890}]}',
      ['{"n":1.50e+2,"big":123456789012345678901234567890}'],
    ],
    ['an empty batch', '{"readings":[ ]}', []],
    ['non-ASCII text', '{"readings":[{"note":"über 🚗"}]}', ['{"note":"über 🚗"}']],
  ])('handles %s', (_name, text, expected) => {
    expect(slices(text)).toEqual(expected);
  });

  it('scans a hostile 100k-deep element without recursion', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(slices(`{"readings":[${deep},1]}`)).toEqual([deep, '1']);
  });
});
