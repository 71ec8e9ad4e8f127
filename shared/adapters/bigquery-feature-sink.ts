import { BigQuery, type BigQueryOptions, type InsertRow, type TableField } from '@google-cloud/bigquery';
import pRetry, { AbortError } from 'p-retry';
import type { FleetConfig } from '../config.js';
import { FleetError } from '../errors.js';
import { FEATURE_COLUMNS, type FeatureRow } from '../features/feature-row.js';
import type { FeatureSink } from '../ports/feature-sink.js';
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
 * re-sent rows by BigQuery; the features table is also safe to de-duplicate by event_id).
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

  /**
   * Creates the dataset and the features table when missing: schema from FEATURE_COLUMNS, daily
   * partitions on event_ts, clustered by vehicle_id. Safe to call from many instances at once
   * (409 from a concurrent creator is success). An existing table is left as it is.
   */
  async ensureTable(): Promise<void> {
    const { dataset: datasetId, table: tableId, location, partitionExpirationDays } = this.#options;
    const dataset = this.#client.dataset(datasetId, location === undefined ? {} : { location });
    try {
      const [datasetExists] = await dataset.exists();
      if (!datasetExists)
        await ignoreAlreadyExists(dataset.create(location === undefined ? {} : { location }));
      const table = dataset.table(tableId);
      const [tableExists] = await table.exists();
      if (tableExists) return;
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
    } catch (error) {
      throw toSinkError(error, `BigQuery ${this.tableRef}: ensureTable failed`, { table: this.tableRef });
    }
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
 * or the local stand-in when `bigquery.apiEndpoint` is set (without credentials the client sends
 * its requests unauthenticated, which the stand-in accepts).
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
    ...(config.bigquery.apiEndpoint === undefined ? {} : { apiEndpoint: config.bigquery.apiEndpoint }),
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
