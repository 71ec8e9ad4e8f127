// buildFeatureRow: how a window snapshot from the store becomes the row BigQuery, GCS and the online
// API see. Pure: no servers.
import { describe, expect, it } from 'vitest';
import {
  buildFeatureRow,
  FEATURE_COLUMNS,
  type FeatureRowReading,
  TEMP_ANOMALY_C,
} from '../../shared/rows/feature-row.js';
import type { RecordStatus, WindowAggregate, WindowSnapshot } from '../../shared/windows/window-snapshot.js';
import { WINDOWS } from '../../shared/windows/window-spec.js';

const reading: FeatureRowReading = {
  event_id: 'truck-7:1001',
  vehicle_id: 'truck-7',
  event_ts_ms: Date.parse('2026-03-01T08:30:00.250Z'),
  speed_kmh: 54.5,
  engine_temp_c: 91.25,
  gps_lat: 48.137154,
  gps_lon: 11.576124,
  fuel_level_pct: 63.5,
  rpm: null,
};

const aggregate = (count: number, overrides: Partial<WindowAggregate> = {}): WindowAggregate => ({
  count,
  speed: { mean: 50.123456, min: 40.00004, max: 60.99996, std: 7.071067811 },
  temp: { mean: 90.5, min: 88, max: 93.25, std: 1.25 },
  distanceKm: 0.83333333,
  ...overrides,
});

function snapshot(status: RecordStatus, windows = WINDOWS.map(() => aggregate(3))): WindowSnapshot {
  return { status, fingerprint: 0x1234abcd, processedTsMs: Date.parse('2026-03-01T08:30:01.007Z'), windows };
}

describe('buildFeatureRow', () => {
  it('has exactly the columns of the features table schema, in no other shape', () => {
    const row = buildFeatureRow(reading, snapshot('in_order'));
    expect(Object.keys(row).sort()).toEqual(FEATURE_COLUMNS.map((c) => c.name).sort());
    expect(WINDOWS.map((w) => w.name)).toEqual(['1m', '5m', '15m', '1h']);
  });

  it('copies the reading and writes both timestamps as ISO 8601 UTC with milliseconds', () => {
    const row = buildFeatureRow(reading, snapshot('in_order'));
    expect(row).toMatchObject({
      event_id: 'truck-7:1001',
      vehicle_id: 'truck-7',
      event_ts: '2026-03-01T08:30:00.250Z',
      processed_ts: '2026-03-01T08:30:01.007Z',
      speed_kmh: 54.5,
      engine_temp_c: 91.25,
      gps_lat: 48.137154,
      gps_lon: 11.576124,
      fuel_level_pct: 63.5,
      rpm: null,
      model_version: null,
      risk_score: null,
    });
  });

  it('rounds window statistics to 4 decimals and keeps counts whole', () => {
    const row = buildFeatureRow(reading, snapshot('in_order'));
    for (const w of WINDOWS) {
      expect(row[`count_${w.name}`]).toBe(3);
      expect(row[`speed_mean_${w.name}`]).toBe(50.1235);
      expect(row[`speed_min_${w.name}`]).toBe(40);
      expect(row[`speed_max_${w.name}`]).toBe(61);
      expect(row[`speed_std_${w.name}`]).toBe(7.0711);
      expect(row[`temp_mean_${w.name}`]).toBe(90.5);
      expect(row[`temp_min_${w.name}`]).toBe(88);
      expect(row[`temp_max_${w.name}`]).toBe(93.25);
      expect(row[`temp_std_${w.name}`]).toBe(1.25);
      expect(row[`distance_km_${w.name}`]).toBe(0.8333);
    }
  });

  it('gives null statistics, count 0 and distance 0 for an empty window aggregate', () => {
    // The store never returns one for a row (every row's windows hold its own reading), but the
    // row stays well formed if a snapshot has one: null statistics, never 0 passed off as a mean.
    const empty = aggregate(0, {
      speed: { mean: 0, min: 0, max: 0, std: 0 },
      temp: { mean: 0, min: 0, max: 0, std: 0 },
      distanceKm: 0,
    });
    const row = buildFeatureRow(
      reading,
      snapshot('out_of_order', [empty, aggregate(2), aggregate(5), aggregate(9)]),
    );
    expect(row).toMatchObject({
      count_1m: 0,
      speed_mean_1m: null,
      speed_min_1m: null,
      speed_max_1m: null,
      speed_std_1m: null,
      temp_mean_1m: null,
      temp_min_1m: null,
      temp_max_1m: null,
      temp_std_1m: null,
      distance_km_1m: 0,
      count_5m: 2,
      count_15m: 5,
      count_1h: 9,
      speed_mean_5m: 50.1235,
    });
  });

  it.each([
    { engine_temp_c: 104.99, temp_anomaly: false },
    { engine_temp_c: TEMP_ANOMALY_C, temp_anomaly: false },
    { engine_temp_c: 105.01, temp_anomaly: true },
    { engine_temp_c: 200, temp_anomaly: true },
    { engine_temp_c: -50, temp_anomaly: false },
  ])('flags temp_anomaly only above 105 °C (exclusive): $engine_temp_c -> $temp_anomaly', (c) => {
    const row = buildFeatureRow({ ...reading, engine_temp_c: c.engine_temp_c }, snapshot('in_order'));
    expect(row.temp_anomaly).toBe(c.temp_anomaly);
  });

  it.each([
    { status: 'in_order', late: false },
    { status: 'out_of_order', late: true },
  ] as const)(
    'sets late (applied out of event-time order, within the lateness) from the status: $status -> late=$late',
    ({ status, late }) => {
      expect(buildFeatureRow(reading, snapshot(status)).late).toBe(late);
    },
  );

  it('refuses a snapshot without an aggregate for every window', () => {
    expect(() => buildFeatureRow(reading, { ...snapshot('in_order'), windows: [] })).toThrow(/window 1m/);
    const threeWindows = snapshot('out_of_order').windows.slice(0, 3);
    expect(() => buildFeatureRow(reading, { ...snapshot('out_of_order'), windows: threeWindows })).toThrow(
      /window 1h/,
    );
  });
});
