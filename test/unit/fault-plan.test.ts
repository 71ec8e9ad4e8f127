// The stand-ins' fault plan (local/fault-injection/fault-plan.ts): which requests fail and how.

import { describe, expect, it } from 'vitest';
import {
  decideFault,
  FaultPlanSchema,
  NO_FAULTS,
  pickFailedRows,
} from '../../local/fault-injection/fault-plan.js';
import { createSeededRandom } from '../../local/simulator/seeded-random.js';

const draws = (...values: number[]) => {
  const queue = [...values];
  return () => queue.shift() ?? 0.999;
};

describe('fault plan', () => {
  it('never faults reads, and serves everything without a plan', () => {
    const plan = FaultPlanSchema.parse({ errorShare: 1 });
    expect(decideFault(plan, 'read', draws(0))).toEqual({ kind: 'serve' });
    expect(decideFault(NO_FAULTS, 'write', draws(0))).toEqual({ kind: 'serve' });
  });

  it.each([
    [0.05, { kind: 'error', status: 503 }],
    [0.15, { kind: 'timeout', holdMs: 1500 }],
    [0.25, { kind: 'lost_response' }],
    [0.35, { kind: 'partial', rowShare: 0.5 }],
    [0.5, { kind: 'serve' }],
  ])('a draw of %s on insertAll gives %j', (x, expected) => {
    const plan = FaultPlanSchema.parse({
      errorShare: 0.1,
      errorStatuses: [503],
      timeoutShare: 0.1,
      holdMs: 1500,
      lostResponseShare: 0.1,
      partialShare: 0.1,
      partialRowShare: 0.5,
    });
    expect(decideFault(plan, 'insert_all', draws(x, 0))).toEqual(expected);
  });

  it('fails rows partially only on insertAll', () => {
    const plan = FaultPlanSchema.parse({ partialShare: 1 });
    expect(decideFault(plan, 'write', draws(0.5))).toEqual({ kind: 'serve' });
  });

  it('fails about the planned share of requests', () => {
    const plan = FaultPlanSchema.parse({ errorShare: 0.05, timeoutShare: 0.02, lostResponseShare: 0.03 });
    const random = createSeededRandom(7);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const { kind } = decideFault(plan, 'write', () => random.next());
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    expect(kinds.get('error')! / 20_000).toBeCloseTo(0.05, 2);
    expect(kinds.get('timeout')! / 20_000).toBeCloseTo(0.02, 2);
    expect(kinds.get('lost_response')! / 20_000).toBeCloseTo(0.03, 2);
  });

  it('refuses shares that add up to more than everything', () => {
    expect(() => FaultPlanSchema.parse({ errorShare: 0.6, timeoutShare: 0.6 })).toThrow(/must not exceed 1/);
  });

  it('fails at least one row of a partially failed insert, each at most once, in order', () => {
    expect(pickFailedRows(5, 0.0001, draws(0.9, 0.9, 0.9, 0.9, 0.9, 0.5))).toEqual([2]);
    expect(pickFailedRows(4, 0.5, draws(0.1, 0.9, 0.2, 0.9))).toEqual([0, 2]);
    expect(pickFailedRows(0, 0.5, draws())).toEqual([]);
  });
});
