// What a stand-in does to a request when faults are injected: the plan (shares of requests to fail,
// and how) and the pure decision per request. Only writes are ever faulted (BigQuery insertAll,
// GCS uploads and object changes): reads stay exact so the reconciliation after a run sees the
// truth. The I/O half (intercepting requests, the admin endpoint) is fault-injector.ts.

import { z } from 'zod';

export const FaultPlanSchema = z
  .object({
    /** Share of writes answered with an error status and not served. */
    errorShare: z.number().min(0).max(1).default(0),
    /** The statuses used for errorShare, drawn uniformly. */
    errorStatuses: z
      .array(z.union([z.literal(500), z.literal(503)]))
      .min(1)
      .default([500, 503]),
    /** Share of writes held `holdMs`, then dropped (socket closed) without being served. */
    timeoutShare: z.number().min(0).max(1).default(0),
    /**
     * Share of writes served, then their answer lost (socket closed): the write happened but the
     * client sees a failure and retries, the case that makes duplicates.
     */
    lostResponseShare: z.number().min(0).max(1).default(0),
    holdMs: z.number().int().min(0).max(120_000).default(2_000),
    /**
     * BigQuery insertAll only: share of requests answered with per-row `insertErrors` (reason
     * backendError) for some of their rows, which are not inserted, as Google answers.
     */
    partialShare: z.number().min(0).max(1).default(0),
    /** Share of a partially failed request's rows that fail (at least one). */
    partialRowShare: z.number().gt(0).max(1).default(0.3),
  })
  .refine((p) => p.errorShare + p.timeoutShare + p.lostResponseShare + p.partialShare <= 1, {
    message: 'errorShare + timeoutShare + lostResponseShare + partialShare must not exceed 1',
  });

export type FaultPlan = z.infer<typeof FaultPlanSchema>;

export const NO_FAULTS: FaultPlan = FaultPlanSchema.parse({});

/** What the stand-in does with a request. */
export type FaultDecision =
  | { kind: 'serve' }
  | { kind: 'error'; status: 500 | 503 }
  | { kind: 'timeout'; holdMs: number }
  | { kind: 'lost_response' }
  | { kind: 'partial'; rowShare: number };

/** The kind of request, as the stand-in classifies it. */
export type FaultTarget = 'read' | 'write' | 'insert_all';

/** One uniform draw in [0, 1) per call. */
export type Draw = () => number;

export function decideFault(plan: FaultPlan, target: FaultTarget, draw: Draw): FaultDecision {
  if (target === 'read') return { kind: 'serve' };
  const x = draw();
  let edge = plan.errorShare;
  if (x < edge) {
    const status = plan.errorStatuses[Math.floor(draw() * plan.errorStatuses.length)] ?? 500;
    return { kind: 'error', status };
  }
  edge += plan.timeoutShare;
  if (x < edge) return { kind: 'timeout', holdMs: plan.holdMs };
  edge += plan.lostResponseShare;
  if (x < edge) return { kind: 'lost_response' };
  edge += plan.partialShare;
  if (x < edge && target === 'insert_all') return { kind: 'partial', rowShare: plan.partialRowShare };
  return { kind: 'serve' };
}

/** Indices (ascending) of the rows a partial failure fails: about `rowShare` of them, at least one. */
export function pickFailedRows(rowCount: number, rowShare: number, draw: Draw): number[] {
  if (rowCount === 0) return [];
  const failed: number[] = [];
  for (let i = 0; i < rowCount; i++) if (draw() < rowShare) failed.push(i);
  if (failed.length === 0) failed.push(Math.floor(draw() * rowCount));
  return failed;
}

/** What a stand-in did, counted (reported by the chaos suite). */
export interface FaultCounts {
  writes: number;
  errors: number;
  timeouts: number;
  lostResponses: number;
  partials: number;
  failedRows: number;
}

export function emptyFaultCounts(): FaultCounts {
  return { writes: 0, errors: 0, timeouts: 0, lostResponses: 0, partials: 0, failedRows: 0 };
}
