/**
 * HTTP surface: maps BigQuery REST v2 paths (`/bigquery/v2/projects/{p}/...`, also without the
 * `/bigquery/v2` prefix, which is how the client calls a BIGQUERY_EMULATOR_HOST) to the service and
 * writes JSON answers and Google-style JSON errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BigQueryApiError, invalid, notFound, notImplemented } from './api-error.js';
import type { BigQueryService } from './bigquery-service.js';

/** BigQuery's request size limit for insertAll. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

type Json = Record<string, unknown>;

interface RouteContext {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<Json>;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Returns the JSON to send, or undefined for an empty 204. */
  handle: (context: RouteContext) => Promise<Json | undefined> | Json | undefined;
}

const SEGMENT = '([^/]+)';

function routes(service: BigQueryService): Route[] {
  const route = (method: string, path: string, handle: Route['handle']): Route => ({
    method,
    pattern: new RegExp(`^/projects/${path.replaceAll('{}', SEGMENT)}$`),
    handle,
  });
  return [
    route('GET', '{}/datasets', ({ params: [p], query }) => service.listDatasets(p as string, query)),
    route('POST', '{}/datasets', async ({ params: [p], body }) =>
      service.insertDataset(p as string, await body()),
    ),
    route('GET', '{}/datasets/{}', ({ params: [p, d] }) => service.getDataset(p as string, d as string)),
    route('DELETE', '{}/datasets/{}', async ({ params: [p, d], query }) => {
      await service.deleteDataset(p as string, d as string, query.get('deleteContents') === 'true');
      return undefined;
    }),
    route('GET', '{}/datasets/{}/tables', ({ params: [p, d], query }) =>
      service.listTables(p as string, d as string, query),
    ),
    route('POST', '{}/datasets/{}/tables', async ({ params: [p, d], body }) =>
      service.insertTable(p as string, d as string, await body()),
    ),
    route('GET', '{}/datasets/{}/tables/{}', ({ params: [p, d, t] }) =>
      service.getTable(p as string, d as string, t as string),
    ),
    route('DELETE', '{}/datasets/{}/tables/{}', async ({ params: [p, d, t] }) => {
      await service.deleteTable(p as string, d as string, t as string);
      return undefined;
    }),
    route('POST', '{}/datasets/{}/tables/{}/insertAll', async ({ params: [p, d, t], body }) =>
      service.insertAll(p as string, d as string, t as string, await body()),
    ),
    route('GET', '{}/datasets/{}/tables/{}/data', ({ params: [p, d, t], query }) =>
      service.listTableData(p as string, d as string, t as string, query),
    ),
    route('GET', '{}/jobs', ({ params: [p], query }) => service.listJobs(p as string, query)),
    route('POST', '{}/jobs', async ({ params: [p], body }) => service.insertJob(p as string, await body())),
    route('GET', '{}/jobs/{}', ({ params: [p, j], query }) =>
      service.getJob(p as string, j as string, query),
    ),
    route('POST', '{}/jobs/{}/cancel', ({ params: [p, j], query }) =>
      service.cancelJob(p as string, j as string, query),
    ),
    route('DELETE', '{}/jobs/{}/delete', ({ params: [p, j], query }) => {
      service.deleteJob(p as string, j as string, query);
      return undefined;
    }),
    route('POST', '{}/queries', async ({ params: [p], body }) => service.query(p as string, await body())),
    route('GET', '{}/queries/{}', ({ params: [p, j], query }) =>
      service.getQueryResults(p as string, j as string, query),
    ),
  ];
}

async function readJsonBody(request: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw invalid(`Request payload size exceeds the limit: ${MAX_BODY_BYTES} bytes.`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('Invalid JSON payload received.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('Invalid JSON payload received. Expected an object.');
  }
  return parsed as Json;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

async function dispatch(
  table: Route[],
  request: IncomingMessage,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/upload/')) throw notImplemented('Media upload (load jobs)');
  const path = url.pathname.replace(/^\/bigquery\/v2(?=\/)/, '');
  let pathMatched = false;
  for (const route of table) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== request.method) continue;
    let params: string[];
    try {
      params = match.slice(1).map((segment) => decodeURIComponent(segment));
    } catch {
      throw invalid(`Invalid path: ${url.pathname}`);
    }
    const result = await route.handle({ params, query: url.searchParams, body: () => readJsonBody(request) });
    return result === undefined ? { status: 204, body: undefined } : { status: 200, body: result };
  }
  if (pathMatched || /^\/projects\/[^/]+\/(datasets|jobs|queries)/.test(path)) {
    throw notImplemented(`${request.method} ${path}`);
  }
  throw notFound(`URL ${url.pathname}`);
}

export function createBigQueryHttpServer(service: BigQueryService): Server {
  const table = routes(service);
  const server = createServer((request, response) => {
    dispatch(table, request).then(
      ({ status, body }) => send(response, status, body),
      (error: unknown) => {
        const apiError =
          error instanceof BigQueryApiError
            ? error
            : new BigQueryApiError(
                500,
                'backendError',
                `Internal error in the BigQuery stand-in: ${String(error)}`,
                undefined,
                {
                  cause: error,
                },
              );
        // Drain an unread body so the keep-alive connection stays usable.
        request.resume();
        send(response, apiError.httpStatus, apiError.toResponseBody());
      },
    );
  });
  // Like Google's front ends, keep idle connections well past Node's 5 s client-side reuse window:
  // with equal timeouts a client reuses a socket the server is closing ("socket hang up").
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
