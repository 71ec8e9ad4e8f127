/**
 * `tabledata.insertAll` row checking: each row's JSON against the table schema, with the streaming
 * API's coercions (numeric strings for numbers, epoch seconds or text for TIMESTAMP) and its error
 * shape (`reason: "invalid"`, `location: <field>`, `debugInfo: ""`). Pure.
 *
 * Checked values come back typed for storage:
 *   STRING/JSON → string, INTEGER → bigint, FLOAT → number, NUMERIC → bigint scaled by 10^9,
 *   BOOLEAN → boolean, TIMESTAMP/DATETIME → bigint microseconds, DATE → number of days since epoch.
 */
import {
  epochSecondsToMicros,
  parseDateText,
  parseDatetimeText,
  parseTimestampText,
} from './bigquery-time.js';
import type { ColumnSpec } from './table-schema.js';

export type StoredValue = null | string | number | boolean | bigint;

export interface InsertFieldError {
  reason: 'invalid';
  location: string;
  debugInfo: string;
  message: string;
}

export type RowCheck = { ok: true; values: StoredValue[] } | { ok: false; errors: InsertFieldError[] };

export const NUMERIC_SCALE = 9;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NUMERIC_LIMIT = 10n ** 38n;

const fieldError = (location: string, message: string): InsertFieldError => ({
  reason: 'invalid',
  location,
  debugInfo: '',
  message,
});

/** Decimal text → integer scaled by 10^9, rounded half away from zero; undefined if not NUMERIC. */
export function parseNumericScaled(text: string): bigint | undefined {
  const match = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?\s*$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', exponent] = match;
  if (whole === '' && fraction === '') return undefined;
  let magnitude = BigInt(`${whole}${fraction}` || '0');
  const shift = NUMERIC_SCALE - fraction.length + Number(exponent ?? 0);
  if (shift >= 0) {
    if (magnitude !== 0n && shift > 80) return undefined;
    magnitude *= 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    const remainder = magnitude % divisor;
    magnitude /= divisor;
    if (remainder * 2n >= divisor) magnitude += 1n;
  }
  if (magnitude >= NUMERIC_LIMIT) return undefined;
  return sign === '-' ? -magnitude : magnitude;
}

const display = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

type Conversion = { ok: true; value: StoredValue } | { ok: false; message: string };

function convert(column: ColumnSpec, value: unknown): Conversion {
  const fail = (message: string): Conversion => ({ ok: false, message });
  if (Array.isArray(value)) return fail(`Array specified for non-repeated field: ${column.name}.`);
  if (typeof value === 'object' && value !== null && column.type !== 'JSON') {
    return fail(`This field: ${column.name} is not a record.`);
  }
  switch (column.type) {
    case 'STRING':
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? { ok: true, value: String(value) }
        : fail(`Cannot convert value to string: ${display(value)}`);
    case 'INTEGER': {
      const bad = fail(`Cannot convert value to integer (bad value): ${display(value)}`);
      let parsed: bigint | undefined;
      if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
      if (typeof value === 'string' && /^\s*[+-]?\d{1,19}\s*$/.test(value)) parsed = BigInt(value.trim());
      return parsed !== undefined && parsed >= INT64_MIN && parsed <= INT64_MAX
        ? { ok: true, value: parsed }
        : bad;
    }
    case 'FLOAT': {
      if (typeof value === 'number') return { ok: true, value };
      const text = typeof value === 'string' ? value.trim() : '';
      const special: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };
      if (text in special) return { ok: true, value: special[text] as number };
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)
        ? { ok: true, value: Number(text) }
        : fail(`Cannot convert value to floating point (bad value): ${display(value)}`);
    }
    case 'NUMERIC': {
      const scaled =
        typeof value === 'number' || typeof value === 'string'
          ? parseNumericScaled(String(value))
          : undefined;
      return scaled === undefined
        ? fail(`Invalid NUMERIC value: ${display(value)}`)
        : { ok: true, value: scaled };
    }
    case 'BOOLEAN': {
      if (typeof value === 'boolean') return { ok: true, value };
      const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
      if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
      return fail(`Cannot convert value to boolean: ${display(value)}`);
    }
    case 'TIMESTAMP': {
      const micros =
        typeof value === 'number'
          ? epochSecondsToMicros(value)
          : typeof value === 'string'
            ? parseTimestampText(value)
            : undefined;
      return micros === undefined
        ? fail(
            `Could not parse '${display(value)}' as a timestamp. Required format is YYYY-MM-DD HH:MM[:SS[.SSSSSS]] or YYYY/MM/DD HH:MM[:SS[.SSSSSS]]`,
          )
        : { ok: true, value: micros };
    }
    case 'DATE': {
      const days = typeof value === 'string' ? parseDateText(value) : undefined;
      return days === undefined ? fail(`Invalid date: '${display(value)}'`) : { ok: true, value: days };
    }
    case 'DATETIME': {
      const micros = typeof value === 'string' ? parseDatetimeText(value) : undefined;
      return micros === undefined
        ? fail(`Invalid datetime string "${display(value)}"`)
        : { ok: true, value: micros };
    }
    case 'JSON': {
      if (typeof value !== 'string') return { ok: true, value: JSON.stringify(value) };
      // The streaming API takes JSON columns as JSON text.
      try {
        JSON.parse(value);
        return { ok: true, value };
      } catch {
        return fail(`Invalid JSON value for field ${column.name}: ${value}`);
      }
    }
  }
}

/**
 * A checker for one table's rows: field names match columns case-insensitively, as in BigQuery;
 * unknown fields are errors unless `ignoreUnknownValues`.
 */
export function insertRowChecker(
  columns: readonly ColumnSpec[],
  options: { ignoreUnknownValues: boolean },
): (json: unknown) => RowCheck {
  const indexByName = new Map(columns.map((column, index) => [column.name.toLowerCase(), index]));
  return (json) => {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return { ok: false, errors: [fieldError('', 'Row is not a JSON object.')] };
    }
    const values: StoredValue[] = new Array(columns.length).fill(null);
    const seen = new Array<boolean>(columns.length).fill(false);
    const errors: InsertFieldError[] = [];
    for (const key in json) {
      if (!Object.hasOwn(json, key)) continue;
      const value = (json as Record<string, unknown>)[key];
      const index = indexByName.get(key) ?? indexByName.get(key.toLowerCase());
      const column = index === undefined ? undefined : columns[index];
      if (index === undefined || !column) {
        if (!options.ignoreUnknownValues) errors.push(fieldError(key, `no such field: ${key}.`));
        continue;
      }
      if (seen[index]) {
        errors.push(fieldError(key, `Duplicate field: ${key} (field names are case-insensitive).`));
        continue;
      }
      seen[index] = true;
      if (value === null || value === undefined) continue;
      const converted = convert(column, value);
      if (converted.ok) values[index] = converted.value;
      else errors.push(fieldError(key, converted.message));
    }
    columns.forEach((column, index) => {
      if (column.mode !== 'REQUIRED' || values[index] !== null) return;
      const name = column.name.toLowerCase();
      if (!errors.some((error) => error.location.toLowerCase() === name)) {
        errors.push(fieldError(column.name, `Missing required field: ${column.name}.`));
      }
    });
    return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
  };
}
