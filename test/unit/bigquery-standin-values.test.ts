// Pure value handling of the BigQuery stand-in: the timestamp/date text BigQuery accepts and returns,
// insertAll row checking, NUMERIC scaling and insertId windows. The HTTP behaviour through the
// official client is specified in test/integration/bigquery-standin.test.ts.
import { describe, expect, it } from 'vitest';
import {
  epochSecondsToMicros,
  formatDatetime,
  formatTimestampFloatSeconds,
  formatTimestampIso,
  parseDateText,
  parseTimestampText,
} from '../../local/bigquery-standin/bigquery-time.js';
import { InsertIdWindow } from '../../local/bigquery-standin/insert-id-window.js';
import { insertRowChecker, parseNumericScaled } from '../../local/bigquery-standin/insert-row-check.js';
import type { ColumnSpec } from '../../local/bigquery-standin/table-schema.js';

const micros = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

describe('TIMESTAMP text', () => {
  it.each([
    ['2024-03-01T08:00:00Z', micros('2024-03-01T08:00:00Z')],
    ['2024-03-01 08:00:00', micros('2024-03-01T08:00:00Z')],
    ['2024-03-01 10:00:00+02:00', micros('2024-03-01T08:00:00Z')],
    ['2024-03-01T03:30:00-0430', micros('2024-03-01T08:00:00Z')],
    ['2024/03/01 08:00:00.250 UTC', micros('2024-03-01T08:00:00.250Z')],
    ['2024-03-01T08:00:00.123456Z', micros('2024-03-01T08:00:00Z') + 123_456n],
    ['2024-03-01', micros('2024-03-01T00:00:00Z')],
    ['0001-01-01 00:00:00', -62_135_596_800_000_000n],
  ])('reads %s', (text, expected) => {
    expect(parseTimestampText(text)).toBe(expected);
  });

  it.each([
    'yesterday',
    '2024-02-30 00:00:00',
    '2024-03-01 24:00:00',
    '2024-03-01T08:00:00+15:00',
    '10000-01-01',
  ])('rejects %s', (text) => {
    expect(parseTimestampText(text)).toBeUndefined();
  });

  it('reads epoch seconds to the microsecond', () => {
    expect(epochSecondsToMicros(1709280000.25)).toBe(1_709_280_000_250_000n);
    expect(epochSecondsToMicros(Number.NaN)).toBeUndefined();
  });

  it('writes instants as ISO, as float seconds in the API default format, and civil times without zone', () => {
    const instant = micros('2024-03-01T08:00:00Z') + 123_456n;
    expect(formatTimestampIso(instant)).toBe('2024-03-01T08:00:00.123456Z');
    expect(formatTimestampFloatSeconds(instant)).toBe('1.709280000123456E9');
    expect(formatTimestampFloatSeconds(micros('2024-03-01T08:00:00Z'))).toBe('1.70928E9');
    expect(formatTimestampFloatSeconds(-500_000n)).toBe('-0.5');
    expect(formatDatetime(micros('1969-12-31T23:59:59.5Z'))).toBe('1969-12-31T23:59:59.500000');
  });

  it('knows leap days', () => {
    expect(parseDateText('2024-02-29')).toBe(19_782);
    expect(parseDateText('2023-02-29')).toBeUndefined();
  });
});

describe('NUMERIC', () => {
  it.each([
    ['1.25', 1_250_000_000n],
    ['-0.0000000005', -1n],
    ['0.0000000004', 0n],
    ['1e3', 1_000_000_000_000n],
    ['99999999999999999999999999999.999999999', 10n ** 38n - 1n],
  ])('scales %s by 10^9, rounding half away from zero', (text, expected) => {
    expect(parseNumericScaled(text)).toBe(expected);
  });

  it.each(['abc', '1e40', '100000000000000000000000000000', '.'])('rejects %s', (text) => {
    expect(parseNumericScaled(text)).toBeUndefined();
  });
});

describe('insertAll row checks', () => {
  const columns: ColumnSpec[] = [
    { name: 'vehicle_id', type: 'STRING', mode: 'REQUIRED' },
    { name: 'event_ts', type: 'TIMESTAMP', mode: 'REQUIRED' },
    { name: 'speed_kmh', type: 'FLOAT', mode: 'NULLABLE' },
    { name: 'count', type: 'INTEGER', mode: 'NULLABLE' },
    { name: 'ok', type: 'BOOLEAN', mode: 'NULLABLE' },
    { name: 'extra', type: 'JSON', mode: 'NULLABLE' },
  ];
  const check = insertRowChecker(columns, { ignoreUnknownValues: false });

  it('coerces what the streaming API coerces and matches field names case-insensitively', () => {
    expect(
      check({
        Vehicle_ID: 'v1',
        event_ts: 1709280000,
        speed_kmh: '12.5',
        count: '7',
        ok: 'TRUE',
        extra: { a: 1 },
      }),
    ).toEqual({
      ok: true,
      values: ['v1', 1_709_280_000_000_000n, 12.5, 7n, true, '{"a":1}'],
    });
  });

  it('reports every problem of a row with the field as location', () => {
    const result = check({ event_ts: 'soon', speed_kmh: [1], count: 1.5, colour: 'red', ok: 'yes' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((error) => [error.location, error.reason])).toEqual([
      ['event_ts', 'invalid'],
      ['speed_kmh', 'invalid'],
      ['count', 'invalid'],
      ['colour', 'invalid'],
      ['ok', 'invalid'],
      ['vehicle_id', 'invalid'],
    ]);
    expect(result.errors.map((error) => error.message)).toEqual([
      "Could not parse 'soon' as a timestamp. Required format is YYYY-MM-DD HH:MM[:SS[.SSSSSS]] or YYYY/MM/DD HH:MM[:SS[.SSSSSS]]",
      'Array specified for non-repeated field: speed_kmh.',
      'Cannot convert value to integer (bad value): 1.5',
      'no such field: colour.',
      'Cannot convert value to boolean: yes',
      'Missing required field: vehicle_id.',
    ]);
  });

  it('drops unknown fields when ignoreUnknownValues is set', () => {
    const lenient = insertRowChecker(columns, { ignoreUnknownValues: true });
    expect(lenient({ vehicle_id: 'v1', event_ts: '2024-03-01T08:00:00Z', colour: 'red' }).ok).toBe(true);
  });
});

describe('insertId window', () => {
  it('remembers ids per table until the window passes', () => {
    let now = 0;
    const window = new InsertIdWindow(1000, () => now);
    window.remember('fleet.a', ['r1']);
    expect(window.has('fleet.a', 'r1')).toBe(true);
    expect(window.has('fleet.b', 'r1')).toBe(false);
    now = 999;
    expect(window.has('fleet.a', 'r1')).toBe(true);
    now = 1000;
    expect(window.has('fleet.a', 'r1')).toBe(false);
  });

  it('forgets a deleted table', () => {
    const window = new InsertIdWindow(1000, () => 0);
    window.remember('fleet.a', ['r1']);
    window.forgetTable('fleet.a');
    expect(window.has('fleet.a', 'r1')).toBe(false);
  });
});
