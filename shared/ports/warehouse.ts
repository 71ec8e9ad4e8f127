/**
 * The analytical warehouse the retraining loop reads features from (BigQuery in production, the
 * BigQuery stand-in locally). Queries are GoogleSQL that runs unchanged on both; values always go
 * in as typed parameters, never into the SQL text.
 */
export type SqlParam =
  | { type: 'TIMESTAMP'; value: string }
  | { type: 'INT64'; value: number }
  | { type: 'FLOAT64'; value: number }
  | { type: 'STRING'; value: string }
  | { type: 'BOOL'; value: boolean };

export interface SqlQuery {
  sql: string;
  params: Readonly<Record<string, SqlParam>>;
}

/** A result cell: INT64 and FLOAT64 as numbers, BOOL as boolean, TIMESTAMP as ISO 8601 text. */
export type SqlValue = number | string | boolean | null;

export interface Warehouse {
  /** Runs a query to completion; every result row. Transient failures throw FleetError transient_sink. */
  query(query: SqlQuery): Promise<Record<string, SqlValue>[]>;
}

/** `project.dataset.table` of the features table. */
export interface FeatureTableRef {
  projectId: string;
  dataset: string;
  table: string;
}
