// The dashboard's fleet table: what each cell reads and how a column sorts (pure; the browser test
// checks the page itself).

import { describe, expect, it } from 'vitest';
import { EMPTY_CELL, FLEET_COLUMNS, formatCell, sortRows } from '../../local/dashboard/page/cell-format.js';
import { featureRowFixture } from '../helpers/feature-row-fixtures.js';

const column = (key: string) => FLEET_COLUMNS.find((c) => c.key === key)!;

describe('fleet table cells', () => {
  const row = featureRowFixture('cells', 0, {
    vehicle_id: 'veh-7',
    event_ts: '2026-05-04T10:11:12.345Z',
    engine_temp_c: 106.25,
    risk_score: null,
    temp_anomaly: true,
    count_1h: 42,
  });

  it.each([
    ['vehicle_id', 'veh-7'],
    ['event_ts', '10:11:12'],
    ['engine_temp_c', '106.3'],
    ['count_1h', '42'],
    ['risk_score', EMPTY_CELL],
    ['temp_anomaly', 'yes'],
  ])('%s reads %s', (key, text) => {
    expect(formatCell(row, column(key))).toBe(text);
  });

  it('sorts by a column both ways, empty cells last, ties by vehicle', () => {
    const rows = [
      featureRowFixture('s', 0, { vehicle_id: 'b', risk_score: 0.5 }),
      featureRowFixture('s', 1, { vehicle_id: 'a', risk_score: null }),
      featureRowFixture('s', 2, { vehicle_id: 'c', risk_score: 0.9 }),
      featureRowFixture('s', 3, { vehicle_id: 'd', risk_score: 0.5 }),
    ];
    const ids = (direction: 'ascending' | 'descending') =>
      sortRows(rows, 'risk_score', direction).map((r) => r.vehicle_id);
    expect(ids('ascending')).toEqual(['b', 'd', 'c', 'a']);
    expect(ids('descending')).toEqual(['c', 'b', 'd', 'a']);
  });
});
