/**
 * Table definitions: validates a `tables.insert` body's schema, time partitioning and clustering the
 * way BigQuery does, and maps each column to its DuckDB type. Pure.
 *
 * Type mapping (BigQuery → DuckDB):
 *   STRING → VARCHAR, INT64/INTEGER → BIGINT, FLOAT64/FLOAT → DOUBLE,
 *   NUMERIC/DECIMAL → DECIMAL(38,9) (exact, BigQuery's NUMERIC precision and scale),
 *   BOOL/BOOLEAN → BOOLEAN, TIMESTAMP → TIMESTAMPTZ (session time zone pinned to UTC),
 *   DATE → DATE, DATETIME → TIMESTAMP (civil, no zone), JSON → JSON (text).
 * Types are reported back under their legacy names (INTEGER, FLOAT, BOOLEAN), as the API does.
 */
import { invalid, notImplemented } from './api-error.js';
import { assertFieldName, quoteIdentifier } from './resource-ids.js';

export type ColumnType =
  | 'STRING'
  | 'INTEGER'
  | 'FLOAT'
  | 'NUMERIC'
  | 'BOOLEAN'
  | 'TIMESTAMP'
  | 'DATE'
  | 'DATETIME'
  | 'JSON';

export type ColumnMode = 'NULLABLE' | 'REQUIRED';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  mode: ColumnMode;
  description?: string;
}

export interface TimePartitioning {
  type: 'DAY' | 'HOUR' | 'MONTH' | 'YEAR';
  field?: string;
  expirationMs?: string;
  requirePartitionFilter?: boolean;
}

export interface Clustering {
  fields: string[];
}

const TYPE_ALIASES: Record<string, ColumnType> = {
  STRING: 'STRING',
  INT64: 'INTEGER',
  INTEGER: 'INTEGER',
  FLOAT64: 'FLOAT',
  FLOAT: 'FLOAT',
  NUMERIC: 'NUMERIC',
  DECIMAL: 'NUMERIC',
  BOOL: 'BOOLEAN',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
  DATETIME: 'DATETIME',
  JSON: 'JSON',
};

/** Real BigQuery types this stand-in does not store. */
const UNSUPPORTED_TYPES = new Set([
  'BYTES',
  'TIME',
  'GEOGRAPHY',
  'BIGNUMERIC',
  'BIGDECIMAL',
  'RECORD',
  'STRUCT',
  'RANGE',
  'INTERVAL',
]);

const DUCKDB_TYPES: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  INTEGER: 'BIGINT',
  FLOAT: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMPTZ',
  DATE: 'DATE',
  DATETIME: 'TIMESTAMP',
  JSON: 'JSON',
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function normalizeField(raw: unknown): ColumnSpec {
  if (!isRecord(raw) || typeof raw.name !== 'string') {
    throw invalid('Invalid schema: every field needs a string "name".');
  }
  const name = raw.name;
  assertFieldName(name);
  const requestedType = typeof raw.type === 'string' ? raw.type.toUpperCase() : '';
  if (requestedType === '') throw invalid(`Field ${name}: a type is required.`);
  if (raw.fields !== undefined || UNSUPPORTED_TYPES.has(requestedType)) {
    throw notImplemented(`Field ${name}: type ${raw.fields !== undefined ? 'RECORD' : requestedType}`);
  }
  const type = TYPE_ALIASES[requestedType];
  if (!type) throw invalid(`Invalid value for type: ${requestedType} is not a valid value`);
  for (const parameter of ['maxLength', 'precision', 'scale'] as const) {
    if (raw[parameter] !== undefined)
      throw notImplemented(`Field ${name}: parameterized type (${parameter})`);
  }
  const requestedMode = typeof raw.mode === 'string' ? raw.mode.toUpperCase() : 'NULLABLE';
  if (requestedMode === 'REPEATED') throw notImplemented(`Field ${name}: mode REPEATED`);
  if (requestedMode !== 'NULLABLE' && requestedMode !== 'REQUIRED') {
    throw invalid(`Invalid value for mode: ${requestedMode} is not a valid value`);
  }
  return {
    name,
    type,
    mode: requestedMode,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
  };
}

export function normalizeSchema(schema: unknown): ColumnSpec[] {
  const fields = isRecord(schema) ? schema.fields : undefined;
  if (!Array.isArray(fields) || fields.length === 0) {
    // BigQuery allows schemaless tables; DuckDB cannot create a table without columns.
    throw notImplemented('A table without schema.fields');
  }
  const columns = fields.map(normalizeField);
  const seen = new Set<string>();
  for (const column of columns) {
    const key = column.name.toLowerCase();
    if (seen.has(key)) throw invalid(`Field ${column.name} already exists in schema`);
    seen.add(key);
  }
  return columns;
}

function findColumn(columns: ColumnSpec[], name: string): ColumnSpec | undefined {
  const key = name.toLowerCase();
  return columns.find((column) => column.name.toLowerCase() === key);
}

export function normalizeTimePartitioning(raw: unknown, columns: ColumnSpec[]): TimePartitioning {
  if (!isRecord(raw)) throw invalid('Invalid timePartitioning: an object is expected.');
  const type = typeof raw.type === 'string' ? raw.type.toUpperCase() : '';
  if (type !== 'DAY' && type !== 'HOUR' && type !== 'MONTH' && type !== 'YEAR') {
    throw invalid(`Invalid value for timePartitioning.type: "${String(raw.type)}" is not a valid value`);
  }
  const result: TimePartitioning = { type };
  if (raw.field !== undefined) {
    const column = typeof raw.field === 'string' ? findColumn(columns, raw.field) : undefined;
    if (!column) {
      throw invalid(
        `The field specified for time partitioning cannot be found in the schema. Invalid field: ${String(raw.field)}.`,
      );
    }
    if (column.type !== 'TIMESTAMP' && column.type !== 'DATE' && column.type !== 'DATETIME') {
      throw invalid(
        `The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: ${column.type}.`,
      );
    }
    if (column.type === 'DATE' && type === 'HOUR') {
      throw invalid(
        `Partitioning field ${column.name} is a DATE; HOUR partitioning needs TIMESTAMP or DATETIME.`,
      );
    }
    result.field = column.name;
  }
  if (raw.expirationMs !== undefined) {
    const ms = String(raw.expirationMs);
    if (!/^\d+$/.test(ms)) throw invalid(`Invalid timePartitioning.expirationMs: ${ms}`);
    result.expirationMs = ms;
  }
  if (typeof raw.requirePartitionFilter === 'boolean')
    result.requirePartitionFilter = raw.requirePartitionFilter;
  return result;
}

export function normalizeClustering(raw: unknown, columns: ColumnSpec[]): Clustering {
  const fields = isRecord(raw) ? raw.fields : undefined;
  if (!Array.isArray(fields) || fields.length === 0) {
    throw invalid('Clustering must specify at least one field in clustering.fields.');
  }
  if (fields.length > 4) throw invalid('Too many clustering fields: 4 is the maximum.');
  return {
    fields: fields.map((field) => {
      const column = typeof field === 'string' ? findColumn(columns, field) : undefined;
      if (!column) {
        throw invalid(
          `The field specified for clustering cannot be found in the schema. Invalid field: ${String(field)}.`,
        );
      }
      if (column.type === 'FLOAT' || column.type === 'JSON') {
        throw invalid(`Field ${column.name} of type ${column.type} is not supported for clustering.`);
      }
      return column.name;
    }),
  };
}

/** Column list for `CREATE TABLE`; names passed `assertFieldName`, REQUIRED becomes NOT NULL. */
export function columnDefinitionsSql(columns: ColumnSpec[]): string {
  return columns
    .map(
      (column) =>
        `${quoteIdentifier(column.name)} ${DUCKDB_TYPES[column.type]}${column.mode === 'REQUIRED' ? ' NOT NULL' : ''}`,
    )
    .join(', ');
}

export function schemaResource(columns: ColumnSpec[]): { fields: ColumnSpec[] } {
  return { fields: columns.map((column) => ({ ...column })) };
}
