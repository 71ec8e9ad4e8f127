import type { TelemetryReading } from '../telemetry/telemetry-reading.js';
import { WINDOWS } from './window-spec.js';

/**
 * The binary contract between the Redis script and Node. The script returns, and stores with the
 * reading's dedupe mark, a compact snapshot of every window's aggregates; Node assembles feature
 * rows from it. Because the snapshot is stored, a redelivered reading gets the very same bytes
 * back and so the very same row.
 *
 * Layouts (little endian):
 *   reading argument  '<dddddddI'  event_ts_ms, speed, temp, lat, lon, fuel|NaN, rpm|NaN, fingerprint
 *   record            '<BId' + per window '<Ifffffffff'
 *                     status, fingerprint, processed_ts_ms,
 *                     count, speed mean/min/max/std, temp mean/min/max/std, distance_km
 *   latest vector     record + reading argument + event_id (utf8)
 * Statistics are float32 (enough for sensor values, and it halves the dedupe memory); rows round
 * them to 4 decimals.
 */
export const READING_ARG_BYTES = 7 * 8 + 4;
export const RECORD_HEAD_BYTES = 1 + 4 + 8;
export const RECORD_WINDOW_BYTES = 4 + 9 * 4;
export const RECORD_BYTES = RECORD_HEAD_BYTES + WINDOWS.length * RECORD_WINDOW_BYTES;

export type RecordStatus = 'in_order' | 'out_of_order' | 'late';
const statusByCode: Record<number, RecordStatus> = { 0: 'in_order', 1: 'out_of_order', 2: 'late' };

export interface MetricStats {
  mean: number;
  min: number;
  max: number;
  std: number;
}

export interface WindowAggregate {
  count: number;
  speed: MetricStats;
  temp: MetricStats;
  distanceKm: number;
}

export interface WindowSnapshot {
  status: RecordStatus;
  fingerprint: number;
  processedTsMs: number;
  /** One per WINDOWS entry, same order; empty for late readings (nothing was applied). */
  windows: WindowAggregate[];
}

/** The values of a reading the windows aggregate (and the latest vector keeps). */
export type ReadingValues = Pick<
  TelemetryReading,
  'event_ts_ms' | 'speed_kmh' | 'engine_temp_c' | 'gps_lat' | 'gps_lon' | 'fuel_level_pct' | 'rpm'
>;

export function encodeReadingArg(reading: ReadingValues): Buffer {
  const buf = Buffer.allocUnsafe(READING_ARG_BYTES);
  buf.writeDoubleLE(reading.event_ts_ms, 0);
  buf.writeDoubleLE(reading.speed_kmh, 8);
  buf.writeDoubleLE(reading.engine_temp_c, 16);
  buf.writeDoubleLE(reading.gps_lat, 24);
  buf.writeDoubleLE(reading.gps_lon, 32);
  buf.writeDoubleLE(reading.fuel_level_pct ?? Number.NaN, 40);
  buf.writeDoubleLE(reading.rpm ?? Number.NaN, 48);
  buf.writeUInt32LE(fingerprintOf(buf), 56);
  return buf;
}

/** FNV-1a over the reading's values: tells an exact re-send from a conflicting one. */
function fingerprintOf(valueBytes: Buffer): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < 56; i++) {
    hash ^= valueBytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function decodeReadingArg(buf: Buffer, offset = 0): ReadingValues {
  const nullable = (v: number) => (Number.isNaN(v) ? null : v);
  return {
    event_ts_ms: buf.readDoubleLE(offset),
    speed_kmh: buf.readDoubleLE(offset + 8),
    engine_temp_c: buf.readDoubleLE(offset + 16),
    gps_lat: buf.readDoubleLE(offset + 24),
    gps_lon: buf.readDoubleLE(offset + 32),
    fuel_level_pct: nullable(buf.readDoubleLE(offset + 40)),
    rpm: nullable(buf.readDoubleLE(offset + 48)),
  };
}

export function decodeRecord(buf: Buffer): WindowSnapshot {
  const status = statusByCode[buf.readUInt8(0)];
  if (status === undefined) throw new Error(`unknown window record status ${buf.readUInt8(0)}`);
  const snapshot: WindowSnapshot = {
    status,
    fingerprint: buf.readUInt32LE(1),
    processedTsMs: buf.readDoubleLE(5),
    windows: [],
  };
  if (status === 'late') return snapshot;
  for (let w = 0; w < WINDOWS.length; w++) {
    const o = RECORD_HEAD_BYTES + w * RECORD_WINDOW_BYTES;
    snapshot.windows.push({
      count: buf.readUInt32LE(o),
      speed: {
        mean: buf.readFloatLE(o + 4),
        min: buf.readFloatLE(o + 8),
        max: buf.readFloatLE(o + 12),
        std: buf.readFloatLE(o + 16),
      },
      temp: {
        mean: buf.readFloatLE(o + 20),
        min: buf.readFloatLE(o + 24),
        max: buf.readFloatLE(o + 28),
        std: buf.readFloatLE(o + 32),
      },
      distanceKm: buf.readFloatLE(o + 36),
    });
  }
  return snapshot;
}

export interface LatestVector {
  eventId: string;
  reading: ReadingValues;
  snapshot: WindowSnapshot;
}

export function decodeLatest(buf: Buffer): LatestVector {
  return {
    snapshot: decodeRecord(buf.subarray(0, RECORD_BYTES)),
    reading: decodeReadingArg(buf, RECORD_BYTES),
    eventId: buf.subarray(RECORD_BYTES + READING_ARG_BYTES).toString('utf8'),
  };
}
