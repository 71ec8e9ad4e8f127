/**
 * BigQuery stand-in: a local HTTP server speaking the subset of the BigQuery REST API v2 that
 * `@google-cloud/bigquery` (9.x) uses for this project, backed by an embedded DuckDB database.
 * Point the official client at it with `new BigQuery({ projectId, apiEndpoint: standin.url })`.
 *
 * Supported (paths under `/bigquery/v2/projects/{project}/`; the same paths without the
 * `/bigquery/v2` prefix also work, which is what the client sends under BIGQUERY_EMULATOR_HOST):
 * - datasets: insert (409 if it exists), get (404), list, delete (`deleteContents`; 400
 *   `resourceInUse` when not empty). One DuckDB schema per dataset.
 * - tables: insert with `schema.fields` of STRING, INT64/INTEGER, FLOAT64/FLOAT, NUMERIC/DECIMAL
 *   (DuckDB DECIMAL(38,9)), BOOL/BOOLEAN, TIMESTAMP (TIMESTAMPTZ in UTC), DATE, DATETIME, JSON;
 *   modes NULLABLE/REQUIRED; `timePartitioning` and `clustering` validated and kept as metadata;
 *   get (with numRows), list, delete.
 * - logical views: tables.insert with `view: { query, useLegacySql: false }` (GoogleSQL; legacy SQL
 *   views answer 501), one DuckDB view over the rewritten query, with the query's result columns
 *   as the view's schema; get/list report `type: 'VIEW'`; queries read views like tables;
 *   tabledata.list and insertAll on a view fail with 400 `invalid`, as in BigQuery; delete drops it.
 * - tabledata.insertAll with BigQuery's per-row errors (`invalid` with the field as `location`,
 *   `stopped` for valid rows when another row is invalid and `skipInvalidRows` is false),
 *   `ignoreUnknownValues`, and insertId de-duplication within `insertIdWindowMs`
 *   (default 10 minutes; BigQuery's own is best effort over about a minute). tabledata.list.
 * - query jobs: jobs.insert, jobs.query, jobs.get, jobs.list, jobs.cancel, jobs.delete,
 *   jobs.getQueryResults with maxResults/pageToken/startIndex; named (`@name`) and positional (`?`)
 *   parameters of scalar types bound as DuckDB prepared-statement parameters; TIMESTAMP results as
 *   the request asks (`formatOptions.useInt64Timestamp`, which the client sends, ISO8601_STRING, or
 *   float seconds); dry runs. The SQL subset and its rewrite are described in `query-rewrite.ts`.
 *
 * Not supported (clear 4xx/501 errors, never a silently different answer): legacy SQL, DML, DDL
 * and scripting, arrays/structs (REPEATED and RECORD fields, UNNEST, ARRAY, STRUCT), BYTES, TIME,
 * GEOGRAPHY, BIGNUMERIC and parameterized column types, load/copy/extract jobs and uploads,
 * destination tables, sessions, table/dataset patch and update, materialized views, view options
 * other than the query (UDF resources, privacy policy), view column descriptions, range
 * partitioning, templateSuffix, IAM, routines and models, wildcard tables, INFORMATION_SCHEMA,
 * functions outside the rewrite's allowlist. Partitioning is not enforced (no _PARTITIONTIME pseudo-column, no
 * requirePartitionFilter check, no expiration), and dataset/table names are case-insensitive in
 * DuckDB, so two ids differing only in case clash (409). Known dialect differences are listed in
 * README.md.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  type FaultInjector,
  injectInsertAllFaults,
  interceptRequests,
} from '../fault-injection/fault-injector.js';
import { BigQueryService } from './bigquery-service.js';
import { createBigQueryHttpServer } from './http-routes.js';
import { Warehouse } from './warehouse.js';

export interface BigQueryStandin {
  /** `http://127.0.0.1:PORT`, for `new BigQuery({ apiEndpoint })`. */
  url: string;
  /** The DuckDB database: a file path, or ':memory:'. */
  dbPath: string;
  close(): Promise<void>;
}

export interface BigQueryStandinOptions {
  /** DuckDB database file (parent folders are created) or ':memory:'. */
  dbPath: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A project queries may name besides the job's own (`project.dataset.table`). */
  defaultProjectId?: string;
  /** insertId de-duplication window; default 10 minutes. */
  insertIdWindowMs?: number;
  /** Fails a configurable share of insertAll requests (the chaos suite; local/fault-injection). */
  faults?: FaultInjector;
}

const DEFAULT_INSERT_ID_WINDOW_MS = 10 * 60 * 1000;

export async function startBigQueryStandin(options: BigQueryStandinOptions): Promise<BigQueryStandin> {
  const warehouse = await Warehouse.open(options.dbPath);
  let url = '';
  const service = new BigQueryService(warehouse, {
    ...(options.defaultProjectId !== undefined ? { defaultProjectId: options.defaultProjectId } : {}),
    insertIdWindowMs: options.insertIdWindowMs ?? DEFAULT_INSERT_ID_WINDOW_MS,
    baseUrl: () => url,
  });
  const server = createBigQueryHttpServer(
    options.faults ? injectInsertAllFaults(service, options.faults) : service,
  );
  if (options.faults) {
    interceptRequests(server, options.faults, (request) =>
      request.method === 'POST' && /\/insertAll(\?|$)/.test(request.url ?? '') ? 'insert_all' : 'read',
    );
  }
  try {
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    await once(server, 'listening');
  } catch (error) {
    await warehouse.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${hostname}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    dbPath: options.dbPath,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((done, fail) =>
          server.close((error) => (error ? fail(error) : done())),
        );
        server.closeAllConnections();
        await closed;
        await warehouse.close();
      })();
      return closing;
    },
  };
}
