/**
 * `queryParameters` of a query request → DuckDB prepared-statement bindings (values and types), so a
 * parameter value never becomes SQL text. Pure.
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBDecimalValue,
  type DuckDBType,
  type DuckDBValue,
  dateValue,
  TIMESTAMP,
  TIMESTAMPTZ,
  timestampTZValue,
  timestampValue,
  VARCHAR,
} from '@duckdb/node-api';
import { type BigQueryApiError, invalidQuery, notImplemented } from './api-error.js';
import {
  epochSecondsToMicros,
  parseDateText,
  parseDatetimeText,
  parseTimestampText,
} from './bigquery-time.js';
import { NUMERIC_SCALE, parseNumericScaled } from './insert-row-check.js';
import type { RewrittenQuery } from './query-rewrite.js';
import { isValidParameterName } from './resource-ids.js';

export interface QueryParameter {
  name?: string;
  parameterType?: { type?: string; arrayType?: unknown; structTypes?: unknown };
  parameterValue?: { value?: unknown; arrayValues?: unknown; structValues?: unknown };
}

export type ParameterBindings =
  | { mode: 'none' }
  | { mode: 'named'; values: Record<string, DuckDBValue>; types: Record<string, DuckDBType> }
  | { mode: 'positional'; values: DuckDBValue[]; types: DuckDBType[] };

type Bound = { value: DuckDBValue; type: DuckDBType };

function bindOne(parameter: QueryParameter, label: string): Bound {
  const type = parameter.parameterType?.type?.toUpperCase();
  const raw = parameter.parameterValue?.value;
  const bad = (): BigQueryApiError =>
    invalidQuery(`Query parameter ${label}: cannot convert ${JSON.stringify(raw)} to ${type}`);
  const text =
    typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : '';
  switch (type) {
    case 'STRING':
      return { type: VARCHAR, value: raw === undefined || raw === null ? null : text };
    case 'INT64':
    case 'INT':
    case 'INTEGER':
    case 'BIGINT':
    case 'SMALLINT':
    case 'TINYINT':
    case 'BYTEINT': {
      if (raw === undefined || raw === null) return { type: BIGINT, value: null };
      if (!/^\s*[+-]?\d{1,19}\s*$/.test(text)) throw bad();
      const value = BigInt(text.trim());
      if (value < -(2n ** 63n) || value > 2n ** 63n - 1n) throw bad();
      return { type: BIGINT, value };
    }
    case 'FLOAT64':
    case 'FLOAT': {
      if (raw === undefined || raw === null) return { type: DOUBLE, value: null };
      const value = ['NaN', 'Infinity', '-Infinity'].includes(text)
        ? Number(text)
        : Number(text.trim() || 'x');
      if (Number.isNaN(value) && text !== 'NaN') throw bad();
      return { type: DOUBLE, value };
    }
    case 'NUMERIC':
    case 'DECIMAL': {
      const numericType = DECIMAL(38, NUMERIC_SCALE);
      if (raw === undefined || raw === null) return { type: numericType, value: null };
      const scaled = parseNumericScaled(text);
      if (scaled === undefined) throw bad();
      return { type: numericType, value: new DuckDBDecimalValue(scaled, 38, NUMERIC_SCALE) };
    }
    case 'BOOL':
    case 'BOOLEAN': {
      if (raw === undefined || raw === null) return { type: BOOLEAN, value: null };
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw bad();
      return { type: BOOLEAN, value: lower === 'true' };
    }
    case 'TIMESTAMP': {
      if (raw === undefined || raw === null) return { type: TIMESTAMPTZ, value: null };
      const micros = typeof raw === 'number' ? epochSecondsToMicros(raw) : parseTimestampText(text);
      if (micros === undefined) throw bad();
      return { type: TIMESTAMPTZ, value: timestampTZValue(micros) };
    }
    case 'DATETIME': {
      if (raw === undefined || raw === null) return { type: TIMESTAMP, value: null };
      const micros = parseDatetimeText(text);
      if (micros === undefined) throw bad();
      return { type: TIMESTAMP, value: timestampValue(micros) };
    }
    case 'DATE': {
      if (raw === undefined || raw === null) return { type: DATE, value: null };
      const days = parseDateText(text);
      if (days === undefined) throw bad();
      return { type: DATE, value: dateValue(days) };
    }
    case undefined:
      throw invalidQuery(`Query parameter ${label} has no parameterType.type`);
    default:
      throw notImplemented(`Query parameter ${label} of type ${type}`);
  }
}

/** Binds the request's parameters to what the rewritten query references. */
export function bindQueryParameters(
  request: { parameterMode?: unknown; queryParameters?: unknown },
  query: RewrittenQuery,
): ParameterBindings {
  const parameters = (
    Array.isArray(request.queryParameters) ? request.queryParameters : []
  ) as QueryParameter[];
  const mode = typeof request.parameterMode === 'string' ? request.parameterMode.toUpperCase() : undefined;

  if (query.positionalParameterCount > 0) {
    if (mode === 'NAMED')
      throw invalidQuery('Positional parameters (?) are not allowed in NAMED parameter mode');
    if (parameters.length !== query.positionalParameterCount) {
      throw invalidQuery(
        `Query has ${query.positionalParameterCount} positional parameters but ${parameters.length} were provided`,
      );
    }
    const bound = parameters.map((parameter, index) => bindOne(parameter, `#${index + 1}`));
    return { mode: 'positional', values: bound.map((b) => b.value), types: bound.map((b) => b.type) };
  }

  if (query.namedParameters.length > 0) {
    if (mode === 'POSITIONAL')
      throw invalidQuery('Named parameters (@name) are not allowed in POSITIONAL mode');
    const byName = new Map<string, QueryParameter>();
    for (const parameter of parameters) {
      const name = parameter.name;
      if (typeof name !== 'string' || !isValidParameterName(name)) {
        throw invalidQuery(`Invalid query parameter name: ${JSON.stringify(name)}`);
      }
      const key = name.toLowerCase();
      if (byName.has(key)) throw invalidQuery(`Duplicate query parameter name: ${name}`);
      byName.set(key, parameter);
    }
    const values: Record<string, DuckDBValue> = {};
    const types: Record<string, DuckDBType> = {};
    for (const name of query.namedParameters) {
      const parameter = byName.get(name);
      if (!parameter) throw invalidQuery(`Query parameter '${name}' not found`);
      const bound = bindOne(parameter, `'${name}'`);
      values[name] = bound.value;
      types[name] = bound.type;
    }
    return { mode: 'named', values, types };
  }

  return { mode: 'none' };
}
