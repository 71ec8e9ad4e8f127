import {
  BigQuery,
  type BigQueryOptions,
  type Dataset,
  type InsertRow,
  type TableField,
} from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import pRetry, { AbortError } from 'p-retry';
import type { FleetConfig } from '../config.js';
import { FleetError } from '../errors.js';
import type { FeatureSink } from '../ports/feature-sink.js';
import { FEATURE_COLUMNS, type FeatureRow } from '../rows/feature-row.js';
import { httpStatusOf, toSinkError } from './google-api-error.js';

/** BigQuery's streaming-insert guidance: up to 500 rows and well under the 10 MB request limit. */
export const MAX_ROWS_PER_INSERT = 500;
export const MAX_BYTES_PER_INSERT = 9 * 1024 * 1024;

/**
 * insertAll per-row reasons that are worth retrying. `stopped` marks a valid row that was not
 * inserted only because another row of the request was invalid; the others are BigQuery-side.
 */
const RETRYABLE_REASONS = new Set([
  'stopped',
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'timeout',
]);

export interface BigQueryFeatureSinkOptions {
  dataset: string;
  table: string;
  /** Dataset location (created there when missing). */
  location?: string;
  /** Drop partitions older than this many days; unset keeps them forever. */
  partitionExpirationDays?: number;
  maxRowsPerInsert?: number;
  maxBytesPerInsert?: number;
  /** Backoff for rows that failed with a retryable reason (p-retry options). */
  retry?: { retries?: number; minTimeoutMs?: number; maxTimeoutMs?: number };
}

interface RowFailure {
  eventId: string;
  reasons: string[];
  messages: string[];
}

/**
 * Feature rows streamed into BigQuery with `insertId = event_id` (best-effort de-duplication of
 * re-sent rows by BigQuery). A reading's identity is (vehicle_id, event_ts), not event_id: readers
 * use the `<table>_by_identity` view (identityViewSql), which keeps one row per identity.
 *
 * `write` resolves when every row is inserted. A partial failure retries only the rows that can
 * succeed; rows BigQuery calls invalid end the call with a non-transient `sink_rejected` naming
 * them (metadata.rejectedEventIds; every other row of the call was inserted). Anything else that
 * is retryable (5xx, 429, network, rows still failing after the retries) is `transient_sink`.
 */
export class BigQueryFeatureSink implements FeatureSink {
  readonly name = 'bigquery';
  readonly #client: BigQuery;
  readonly #options: BigQueryFeatureSinkOptions;
  readonly #maxRows: number;
  readonly #maxBytes: number;

  constructor(client: BigQuery, options: BigQueryFeatureSinkOptions) {
    this.#client = client;
    this.#options = options;
    this.#maxRows = options.maxRowsPerInsert ?? MAX_ROWS_PER_INSERT;
    this.#maxBytes = options.maxBytesPerInsert ?? MAX_BYTES_PER_INSERT;
  }

  get tableRef(): string {
    return `${this.#options.dataset}.${this.#options.table}`;
  }

  /** `dataset.<table>_by_identity`: the view training sets and users read. */
  get identityViewRef(): string {
    return `${this.#options.dataset}.${identityViewId(this.#options.table)}`;
  }

  /**
   * Creates the dataset, the features table and its identity view (identityViewSql) when missing:
   * schema from FEATURE_COLUMNS, daily partitions on event_ts, clustered by vehicle_id. Safe to
   * call from many instances at once (409 from a concurrent creator is success). An existing table
   * or view is left as it is.
   */
  async ensureTable(): Promise<void> {
    const { dataset: datasetId, table: tableId, location } = this.#options;
    const dataset = this.#client.dataset(datasetId, location === undefined ? {} : { location });
    try {
      const [datasetExists] = await dataset.exists();
      if (!datasetExists)
        await ignoreAlreadyExists(dataset.create(location === undefined ? {} : { location }));
      const [tableExists] = await dataset.table(tableId).exists();
      if (!tableExists) await this.#createTable(dataset);
      const viewId = identityViewId(tableId);
      const [viewExists] = await dataset.table(viewId).exists();
      if (viewExists) return;
      const projectId = await this.#client.getProjectId();
      await ignoreAlreadyExists(
        dataset.createTable(viewId, {
          description:
            'Feature rows, one per reading identity (vehicle_id, event_ts): the first processed copy (fleet-features).',
          view: {
            query: identityViewSql({ projectId, dataset: datasetId, table: tableId }),
            useLegacySql: false,
          },
        }),
      );
    } catch (error) {
      throw toSinkError(error, `BigQuery ${this.tableRef}: ensureTable failed`, { table: this.tableRef });
    }
  }

  async #createTable(dataset: Dataset): Promise<void> {
    const { table: tableId, partitionExpirationDays } = this.#options;
    await ignoreAlreadyExists(
      dataset.createTable(tableId, {
        description: 'Rolling-window feature rows, one per applied telemetry reading (fleet-features).',
        schema: { fields: featureTableFields() },
        timePartitioning: {
          type: 'DAY',
          field: 'event_ts',
          ...(partitionExpirationDays === undefined
            ? {}
            : { expirationMs: String(Math.round(partitionExpirationDays * 86_400_000)) }),
        },
        clustering: { fields: ['vehicle_id'] },
      }),
    );
  }

  async write(rows: readonly FeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    const chunks = chunkInsertRows(
      rows.map((row) => ({ insertId: row.event_id, json: row as unknown as Record<string, unknown> })),
      this.#maxRows,
      this.#maxBytes,
    );
    const results = await Promise.allSettled(chunks.map((chunk) => this.#insertChunk(chunk)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const rejected = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    // A transient failure wins: the caller retries, the inserted rows de-duplicate by insertId, and
    // the invalid ones come back as sink_rejected once nothing else stands in the way.
    if (errors.length > 0) throw toSinkError(errors[0], `BigQuery ${this.tableRef}: insert failed`);
    if (rejected.length > 0) {
      throw new FleetError(
        'sink_rejected',
        `BigQuery ${this.tableRef} rejected ${rejected.length} row(s): ` +
          rejected.map((f) => `${f.eventId} (${f.reasons.join(', ')}: ${f.messages.join('; ')})`).join(', '),
        {
          transient: false,
          metadata: { table: this.tableRef, rejectedEventIds: rejected.map((f) => f.eventId), rejected },
        },
      );
    }
  }

  /** Inserts one request's worth of rows; resolves with the rows BigQuery rejected as invalid. */
  async #insertChunk(chunk: InsertRow[]): Promise<RowFailure[]> {
    const table = this.#client.dataset(this.#options.dataset).table(this.#options.table);
    const rejected: RowFailure[] = [];
    let pending = chunk;
    let lastRetryable: RowFailure[] = [];
    const { retries = 3, minTimeoutMs = 100, maxTimeoutMs = 2_000 } = this.#options.retry ?? {};
    try {
      await pRetry(
        async () => {
          try {
            // partialRetries: 0, the client would otherwise resend invalid rows too.
            await table.insert(pending, { raw: true, partialRetries: 0 });
            pending = [];
          } catch (error) {
            const failures = partialFailuresOf(error);
            if (failures === undefined) {
              throw new AbortError(toSinkError(error, `BigQuery ${this.tableRef}: insertAll failed`));
            }
            const retryable = new Set<string>();
            lastRetryable = [];
            for (const failure of failures) {
              if (failure.reasons.every((reason) => RETRYABLE_REASONS.has(reason))) {
                retryable.add(failure.eventId);
                lastRetryable.push(failure);
              } else {
                rejected.push(failure);
              }
            }
            pending = pending.filter((row) => retryable.has(row.insertId ?? ''));
            if (pending.length > 0) throw new Error(`${pending.length} row(s) not inserted yet`);
          }
        },
        { retries, minTimeout: minTimeoutMs, maxTimeout: maxTimeoutMs, factor: 2, randomize: true },
      );
    } catch (error) {
      if (error instanceof FleetError) throw error;
      throw new FleetError(
        'transient_sink',
        `BigQuery ${this.tableRef}: ${pending.length} row(s) still failing after ${retries + 1} attempts`,
        {
          cause: error,
          metadata: {
            table: this.tableRef,
            failing: lastRetryable,
            rejectedEventIds: rejected.map((f) => f.eventId),
          },
        },
      );
    }
    return rejected;
  }
}

/** The identity view's table id: `features` → `features_by_identity`. */
export function identityViewId(table: string): string {
  return `${table}_by_identity`;
}

const DATASET_OR_TABLE_ID = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;
/** Project ids, also domain-scoped ones (`example.com:project`). */
const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,61}[a-z0-9]$/;

/**
 * GoogleSQL of the identity view: one row per reading identity (vehicle_id, event_ts in ms), the
 * first processed copy (processed_ts, then event_id). A reading is written twice only in rare
 * cases (a retry after a failed write, a vehicle state that expired, a crash); this is what
 * training sets and users read. Runs unchanged on BigQuery and on the local stand-in.
 */
export function identityViewSql(source: { projectId: string; dataset: string; table: string }): string {
  const { projectId, dataset, table } = source;
  if (!PROJECT_ID.test(projectId) || !DATASET_OR_TABLE_ID.test(dataset) || !DATASET_OR_TABLE_ID.test(table)) {
    throw new FleetError(
      'invalid_identifier',
      `Not a BigQuery table path: ${projectId}.${dataset}.${table}`,
      {
        metadata: { projectId, dataset, table },
      },
    );
  }
  return [
    'SELECT * EXCEPT (identity_rank)',
    'FROM (',
    '  SELECT *, ROW_NUMBER() OVER (PARTITION BY vehicle_id, event_ts ORDER BY processed_ts, event_id) AS identity_rank',
    `  FROM \`${projectId}.${dataset}.${table}\``,
    ')',
    'WHERE identity_rank = 1',
  ].join('\n');
}

/** FEATURE_COLUMNS as BigQuery table fields. */
export function featureTableFields(): TableField[] {
  return FEATURE_COLUMNS.map((column) => ({
    name: column.name,
    type: column.type,
    mode: column.mode,
    description: column.description,
  }));
}

/** Splits insert rows into requests of at most `maxRows` rows and about `maxBytes` of JSON. */
export function chunkInsertRows(
  rows: readonly InsertRow[],
  maxRows: number,
  maxBytes: number,
): InsertRow[][] {
  const chunks: InsertRow[][] = [];
  let current: InsertRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = Buffer.byteLength(JSON.stringify(row)) + 1;
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The per-row failures of a client PartialFailureError, or undefined for any other error. */
function partialFailuresOf(error: unknown): RowFailure[] | undefined {
  if (!(error instanceof Error) || error.name !== 'PartialFailureError') return undefined;
  const entries = (error as Error & { errors?: unknown }).errors;
  if (!Array.isArray(entries)) return undefined;
  return entries.map((entry: { row?: InsertRow; errors?: Array<{ reason?: string; message?: string }> }) => {
    const details = entry.errors ?? [];
    return {
      eventId: entry.row?.insertId ?? '(unknown)',
      reasons: details.map((d) => d.reason ?? 'unknown'),
      messages: details.map((d) => d.message ?? '').filter((m) => m !== ''),
    };
  });
}

async function ignoreAlreadyExists(creation: Promise<unknown>): Promise<void> {
  try {
    await creation;
  } catch (error) {
    if (httpStatusOf(error) !== 409) throw error;
  }
}

/**
 * A BigQuery client for the configured target: Google Cloud with Application Default Credentials,
 * or the local stand-in when `bigquery.apiEndpoint` is set, with an auth client that sends no
 * credentials (which the stand-in accepts; without it the client probes the GCE metadata server
 * for credentials and prints a MetadataLookupWarning).
 */
export function createBigQueryClient(
  config: Pick<FleetConfig, 'projectId' | 'bigquery'>,
  overrides: BigQueryOptions = {},
): BigQuery {
  return new BigQuery({
    projectId: config.projectId,
    location: config.bigquery.location,
    // Bounded client-side retries of whole requests (5xx, 429): a flush fails in seconds, not minutes.
    retryOptions: {
      autoRetry: true,
      maxRetries: 3,
      retryDelayMultiplier: 2,
      maxRetryDelay: 2,
      totalTimeout: 30,
    },
    ...(config.bigquery.apiEndpoint === undefined
      ? {}
      : { apiEndpoint: config.bigquery.apiEndpoint, authClient: new PassThroughClient() }),
    ...overrides,
  });
}

/** The features sink for a configuration (dataset, table and location from config). */
export function createBigQueryFeatureSink(
  config: Pick<FleetConfig, 'projectId' | 'bigquery'>,
  options: Omit<BigQueryFeatureSinkOptions, 'dataset' | 'table' | 'location'> = {},
  client: BigQuery = createBigQueryClient(config),
): BigQueryFeatureSink {
  return new BigQueryFeatureSink(client, {
    dataset: config.bigquery.dataset,
    table: config.bigquery.featuresTable,
    location: config.bigquery.location,
    ...options,
  });
}
