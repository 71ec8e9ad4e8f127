// Fault injection for the local stand-ins, by configuration: a stand-in started with a FaultInjector
// puts it in front of its own request handler (one line in its index.ts). Its normal handlers never
// know. The plan can change while it runs: in-process with configure(), or over HTTP with
// `POST /_fault` (a JSON FaultPlan; `{}` turns faults off) and `GET /_fault` (plan and counts).

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createSeededRandom } from '../simulator/seeded-random.js';
import {
  decideFault,
  emptyFaultCounts,
  type FaultCounts,
  type FaultDecision,
  type FaultPlan,
  FaultPlanSchema,
  type FaultTarget,
  NO_FAULTS,
  pickFailedRows,
} from './fault-plan.js';

export const FAULT_ADMIN_PATH = '/_fault';

export class FaultInjector {
  #plan: FaultPlan = NO_FAULTS;
  #counts: FaultCounts = emptyFaultCounts();
  readonly #random;
  /** Partial failures decided for insertAll requests and not yet applied by the service wrapper. */
  #partialsPending: number[] = [];

  constructor(options: { seed?: number; plan?: Partial<FaultPlan> } = {}) {
    this.#random = createSeededRandom(options.seed ?? 1);
    if (options.plan) this.configure(options.plan);
  }

  /** Replaces the plan (unset fields take their defaults: no faults). Throws on an invalid plan. */
  configure(plan: Partial<FaultPlan>): FaultPlan {
    this.#plan = FaultPlanSchema.parse(plan);
    return this.#plan;
  }

  get plan(): FaultPlan {
    return this.#plan;
  }

  counts(): FaultCounts {
    return { ...this.#counts };
  }

  decide(target: FaultTarget): FaultDecision {
    const decision = decideFault(this.#plan, target, () => this.#random.next());
    if (target !== 'read') this.#counts.writes++;
    if (decision.kind === 'error') this.#counts.errors++;
    else if (decision.kind === 'timeout') this.#counts.timeouts++;
    else if (decision.kind === 'lost_response') this.#counts.lostResponses++;
    else if (decision.kind === 'partial') this.#counts.partials++;
    return decision;
  }

  /** Queues a partial failure for the next insertAll the service runs (see injectInsertAllFaults). */
  queuePartial(rowShare: number): void {
    this.#partialsPending.push(rowShare);
  }

  takePartial(): number | undefined {
    return this.#partialsPending.shift();
  }

  failedRows(rowCount: number, rowShare: number): number[] {
    const failed = pickFailedRows(rowCount, rowShare, () => this.#random.next());
    this.#counts.failedRows += failed.length;
    return failed;
  }
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Puts `injector` in front of the server's request listeners. `classify` says what a request is
 * (only writes are faulted); a 'partial' decision is served, and the stand-in's insertAll wrapper
 * (injectInsertAllFaults) fails some of its rows.
 */
export function interceptRequests(
  server: Server,
  injector: FaultInjector,
  classify: (request: IncomingMessage) => FaultTarget,
): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const serve: RequestListener = (request, response) => {
    for (const listener of listeners) listener.call(server, request, response);
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if ((request.url ?? '').split('?')[0] === FAULT_ADMIN_PATH) {
      void answerAdmin(injector, request, response);
      return;
    }
    const decision = injector.decide(classify(request));
    switch (decision.kind) {
      case 'serve':
        return serve(request, response);
      case 'partial':
        injector.queuePartial(decision.rowShare);
        return serve(request, response);
      case 'error': {
        request.resume();
        const body = JSON.stringify({
          error: {
            code: decision.status,
            message: `Injected fault: ${decision.status}`,
            errors: [{ reason: 'backendError', message: `Injected fault: ${decision.status}` }],
          },
        });
        response.writeHead(decision.status, { 'content-type': 'application/json; charset=UTF-8' }).end(body);
        return;
      }
      case 'timeout':
        request.resume();
        setTimeout(() => request.socket.destroy(), decision.holdMs).unref();
        return;
      case 'lost_response': {
        // Served in full; whatever it answers is thrown away with the connection.
        const drop = () => {
          request.socket.destroy();
          return response;
        };
        response.writeHead = drop as unknown as ServerResponse['writeHead'];
        response.write = (() => true) as unknown as ServerResponse['write'];
        response.end = drop as unknown as ServerResponse['end'];
        return serve(request, response);
      }
    }
  });
}

async function answerAdmin(
  injector: FaultInjector,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const send = (status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  try {
    if (request.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8').trim();
      injector.configure(text === '' ? {} : (JSON.parse(text) as Partial<FaultPlan>));
    } else if (request.method !== 'GET') {
      return send(405, { error: 'GET or POST' });
    }
    send(200, { plan: injector.plan, counts: injector.counts() });
  } catch (error) {
    send(400, { error: (error as Error).message });
  }
}

type InsertAll = (
  projectId: string,
  datasetId: string,
  tableId: string,
  body: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/**
 * Wraps the BigQuery stand-in service's insertAll so that a request the injector decides to fail
 * partially has some rows answered with insertErrors (reason backendError, not inserted) while the
 * others are inserted, as BigQuery answers a transient per-row failure.
 */
export function injectInsertAllFaults<S extends { insertAll: InsertAll }>(
  service: S,
  injector: FaultInjector,
): S {
  const insertAll = service.insertAll.bind(service);
  service.insertAll = async (projectId, datasetId, tableId, body) => {
    const rows = Array.isArray(body.rows) ? (body.rows as unknown[]) : [];
    const rowShare = injector.takePartial();
    if (rowShare === undefined || rows.length === 0) return insertAll(projectId, datasetId, tableId, body);
    const failed = new Set(injector.failedRows(rows.length, rowShare));
    const kept = rows.map((row, index) => ({ row, index })).filter(({ index }) => !failed.has(index));
    const answer =
      kept.length === 0
        ? { kind: 'bigquery#tableDataInsertAllResponse' }
        : await insertAll(projectId, datasetId, tableId, { ...body, rows: kept.map((k) => k.row) });
    const served = ((answer.insertErrors as { index: number; errors: unknown[] }[] | undefined) ?? []).map(
      (entry) => ({ ...entry, index: kept[entry.index]!.index }),
    );
    const injected = [...failed].map((index) => ({
      index,
      errors: [{ reason: 'backendError', location: '', debugInfo: '', message: 'Injected per-row fault' }],
    }));
    return { ...answer, insertErrors: [...served, ...injected].sort((a, b) => a.index - b.index) };
  };
  return service;
}
