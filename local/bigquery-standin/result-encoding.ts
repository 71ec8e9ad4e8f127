/**
 * DuckDB result columns and values → BigQuery result schema and the REST row shape
 * `{ f: [{ v: "…" }] }` (every scalar a string, NULL as null). Pure.
 *
 * TIMESTAMP cells are kept as epoch microseconds and rendered per request, because the format is the
 * caller's choice: the Node client asks for `formatOptions.useInt64Timestamp=true` (int64 microseconds
 * as a string) on both jobs.query and getQueryResults; ISO8601_STRING and the API's legacy default
 * (float seconds) are honoured too.
 */
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  type DuckDBType,
  DuckDBTypeId,
  DuckDBUUIDValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { invalidQuery } from './api-error.js';
import {
  formatDate,
  formatDatetime,
  formatTime,
  formatTimestampFloatSeconds,
  formatTimestampIso,
} from './bigquery-time.js';
import type { ColumnSpec, ColumnType } from './table-schema.js';

export type ResultType = ColumnType | 'TIME' | 'BYTES';

export interface ResultField {
  name: string;
  type: ResultType;
  mode: 'NULLABLE' | 'REQUIRED';
}

/** A stored result cell: text, or epoch microseconds for TIMESTAMP columns. */
export type ResultCell = string | bigint | null;

export type TimestampOutput = 'INT64' | 'ISO8601_STRING' | 'FLOAT64';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function resultType(type: DuckDBType, column: string): ResultType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'BOOLEAN';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.SQLNULL:
      return 'INTEGER';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'FLOAT';
    case DuckDBTypeId.DECIMAL:
      return 'NUMERIC';
    case DuckDBTypeId.VARCHAR:
      return type.alias === 'JSON' ? 'JSON' : 'STRING';
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return 'STRING';
    case DuckDBTypeId.DATE:
      return 'DATE';
    case DuckDBTypeId.TIMESTAMP:
      return 'DATETIME';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'TIMESTAMP';
    case DuckDBTypeId.TIME:
      return 'TIME';
    case DuckDBTypeId.BLOB:
      return 'BYTES';
    default:
      throw invalidQuery(
        `Result column ${column} has DuckDB type ${type.toString()}, which the BigQuery stand-in cannot return (arrays, structs, intervals and other non-scalar types are not supported)`,
      );
  }
}

/**
 * BigQuery names unnamed expressions `f0_`, `f1_`, …; DuckDB names them after the expression text.
 * A DuckDB name that is not a valid BigQuery field name came from an unnamed expression.
 */
export function describeResultColumns(names: readonly string[], types: readonly DuckDBType[]): ResultField[] {
  let anonymous = 0;
  return names.map((name, index) => {
    const fieldName = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `f${anonymous++}_`;
    return { name: fieldName, type: resultType(types[index] as DuckDBType, name), mode: 'NULLABLE' };
  });
}

/** Table columns as result fields (tabledata.list). */
export function tableResultFields(columns: readonly ColumnSpec[]): ResultField[] {
  return columns.map((column) => ({ name: column.name, type: column.type, mode: column.mode }));
}

function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return String(value);
}

function trimDecimal(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

export function encodeResultValue(field: ResultField, value: DuckDBValue): ResultCell {
  if (value === null) return null;
  const mismatch = () =>
    invalidQuery(`Result column ${field.name}: unexpected ${typeof value} value for type ${field.type}`);
  switch (field.type) {
    case 'BOOLEAN':
      return String(value);
    case 'INTEGER': {
      if (typeof value !== 'bigint' && typeof value !== 'number') throw mismatch();
      const integer = BigInt(value);
      if (integer < INT64_MIN || integer > INT64_MAX) {
        throw invalidQuery(`Integer overflow: ${integer} in column ${field.name} does not fit INT64`);
      }
      return integer.toString();
    }
    case 'FLOAT':
      if (typeof value !== 'number') throw mismatch();
      return formatFloat(value);
    case 'NUMERIC':
      if (!(value instanceof DuckDBDecimalValue)) throw mismatch();
      return trimDecimal(value.toString());
    case 'STRING':
    case 'JSON':
      return value instanceof DuckDBUUIDValue ? value.toString() : String(value);
    case 'DATE':
      if (!(value instanceof DuckDBDateValue) || !value.isFinite) throw mismatch();
      return formatDate(value.days);
    case 'DATETIME':
      if (!(value instanceof DuckDBTimestampValue) || !value.isFinite) throw mismatch();
      return formatDatetime(value.micros);
    case 'TIMESTAMP':
      if (!(value instanceof DuckDBTimestampTZValue) || !value.isFinite) throw mismatch();
      return value.micros;
    case 'TIME':
      if (!(value instanceof DuckDBTimeValue)) throw mismatch();
      return formatTime(value.micros);
    case 'BYTES':
      if (!(value instanceof DuckDBBlobValue)) throw mismatch();
      return Buffer.from(value.bytes).toString('base64');
  }
}

/** The timestamp rendering a request asked for; the API's own default is float seconds. */
export function timestampOutput(options: {
  timestampOutputFormat?: unknown;
  useInt64Timestamp?: unknown;
}): TimestampOutput {
  const format = typeof options.timestampOutputFormat === 'string' ? options.timestampOutputFormat : '';
  if (format === 'ISO8601_STRING' || format === 'INT64' || format === 'FLOAT64') return format;
  const useInt64 = options.useInt64Timestamp;
  return useInt64 === true || useInt64 === 'true' ? 'INT64' : 'FLOAT64';
}

function renderTimestamp(micros: bigint, output: TimestampOutput): string {
  if (output === 'INT64') return micros.toString();
  if (output === 'ISO8601_STRING') return formatTimestampIso(micros);
  return formatTimestampFloatSeconds(micros);
}

export function renderRows(
  rows: readonly (readonly ResultCell[])[],
  output: TimestampOutput,
): { f: { v: string | null }[] }[] {
  return rows.map((row) => ({
    f: row.map((cell) => ({ v: typeof cell === 'bigint' ? renderTimestamp(cell, output) : cell })),
  }));
}
