import type { BigQuery } from '@google-cloud/bigquery';
import type { SqlQuery, SqlValue, Warehouse } from '../ports/warehouse.js';
import { toSinkError } from './google-api-error.js';

/**
 * Warehouse over BigQuery (or the BigQuery stand-in) with the official client: standard SQL, typed
 * named parameters, every page of the result. Errors become FleetErrors: transient_sink for what a
 * retry may fix (5xx, 429, network), sink_rejected for the rest (a bad query, a missing table).
 */
export class BigQueryWarehouse implements Warehouse {
  readonly #client: BigQuery;
  readonly #location: string | undefined;

  constructor(client: BigQuery, options: { location?: string } = {}) {
    this.#client = client;
    this.#location = options.location;
  }

  async query(query: SqlQuery): Promise<Record<string, SqlValue>[]> {
    const params: Record<string, unknown> = {};
    const types: Record<string, string> = {};
    for (const [name, param] of Object.entries(query.params)) {
      params[name] = param.type === 'TIMESTAMP' ? this.#client.timestamp(param.value) : param.value;
      types[name] = param.type;
    }
    try {
      const [rows] = await this.#client.query({
        query: query.sql,
        params,
        types,
        useLegacySql: false,
        ...(this.#location === undefined ? {} : { location: this.#location }),
      });
      return (rows as Record<string, unknown>[]).map(toSqlValues);
    } catch (error) {
      throw toSinkError(error, 'BigQuery query failed');
    }
  }
}

/** The client's cell objects (BigQueryTimestamp and friends carry `.value`) as plain values. */
function toSqlValues(row: Record<string, unknown>): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const [key, value] of Object.entries(row)) {
    if (
      value === null ||
      typeof value === 'number' ||
      typeof value === 'string' ||
      typeof value === 'boolean'
    ) {
      out[key] = value;
    } else if (typeof value === 'object' && typeof (value as { value?: unknown }).value === 'string') {
      out[key] = (value as { value: string }).value;
    } else {
      out[key] = String(value);
    }
  }
  return out;
}
