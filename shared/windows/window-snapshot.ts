import type { TelemetryReading } from '../telemetry/telemetry-reading.js';
import { WINDOWS } from './window-spec.js';

/**
 * The binary contract between the Redis script (apply-readings.lua) and Node. The script returns,
 * and stores with the reading until its row is durable, a compact snapshot of every window's
 * aggregates; Node assembles feature rows from it. Because the snapshot is stored, a retry gets the
 * very same bytes back and so the very same row.
 *
 * Layouts (little endian):
 *   reading argument  '<dddddddI'  event_ts_ms, speed, temp, lat, lon, fuel|NaN, rpm|NaN, fingerprint
 *   record            '<BId' + per window '<Ifffffffff'
 *                     status, fingerprint, processed_ts_ms,
 *                     count, speed mean/min/max/std, temp mean/min/max/std, distance_km
 *   stored reading    record + reading argument + u8 length + model version + event_id (utf8)
 *   vehicle state     '<Bddddddddddd' header, per window a running aggregate '<Idddddffff' and the
 *                     head tile '<iIdddddffff', then the newest reading's argument and event_id
 * Statistics are float32 (enough for sensor values, and it halves the stored rows); rows round
 * them to 4 decimals. Aggregates hold integer sums (thousandths, mm), so they add up the same in
 * any order.
 */
export const READING_ARG_BYTES = 7 * 8 + 4;
export const RECORD_HEAD_BYTES = 1 + 4 + 8;
export const RECORD_WINDOW_BYTES = 4 + 9 * 4;
export const RECORD_BYTES = RECORD_HEAD_BYTES + WINDOWS.length * RECORD_WINDOW_BYTES;

export type RecordStatus = 'in_order' | 'out_of_order';
const statusByCode: Record<number, RecordStatus> = { 0: 'in_order', 1: 'out_of_order' };

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
  /** One per WINDOWS entry, same order. */
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

/** A reading kept until its row is durable: the first applied version and how it was scored. */
export interface StoredReading extends LatestVector {
  /** The model version that scored its row when it was applied; null when none did. */
  modelVersion: string | null;
}

/** A stored reading (record + reading argument + u8 length + model version + event_id). */
export function decodeStoredReading(buf: Buffer): StoredReading {
  const versionAt = RECORD_BYTES + READING_ARG_BYTES;
  const versionLength = buf.readUInt8(versionAt);
  const version = buf.subarray(versionAt + 1, versionAt + 1 + versionLength).toString('utf8');
  return {
    snapshot: decodeRecord(buf.subarray(0, RECORD_BYTES)),
    reading: decodeReadingArg(buf, RECORD_BYTES),
    modelVersion: version === '' ? null : version,
    eventId: buf.subarray(versionAt + 1 + versionLength).toString('utf8'),
  };
}

export const STATE_LAYOUT = 3;
const STATE_HEADER_BYTES = 1 + 11 * 8;
const STATE_WINDOW_BYTES = 60 + 64;
const STATE_BYTES = STATE_HEADER_BYTES + WINDOWS.length * STATE_WINDOW_BYTES;
const THOUSANDTHS = 1000;
const MM_PER_KM = 1e6;

/**
 * The current vector of a vehicle from its state: the windows at its newest event time (out-of-order
 * readings applied since included) and its newest reading. The statistics are computed exactly as
 * the script's `snapshot` computes them, so they equal the newest row's when nothing arrived late.
 */
export function decodeVehicleState(buf: Buffer): LatestVector | null {
  if (buf.length < STATE_BYTES + READING_ARG_BYTES || buf.readUInt8(0) !== STATE_LAYOUT) return null;
  const reading = decodeReadingArg(buf, STATE_BYTES);
  const windows: WindowAggregate[] = [];
  for (let w = 0; w < WINDOWS.length; w++) {
    const o = STATE_HEADER_BYTES + w * STATE_WINDOW_BYTES;
    const c = buf.readUInt32LE(o);
    const f = Math.fround;
    if (c === 0) {
      const zero = { mean: 0, min: 0, max: 0, std: 0 };
      windows.push({ count: 0, speed: zero, temp: { ...zero }, distanceKm: 0 });
      continue;
    }
    const speedMean = buf.readDoubleLE(o + 4) / c;
    const tempMean = buf.readDoubleLE(o + 20) / c;
    const speedVar = Math.max(0, buf.readDoubleLE(o + 12) / c - speedMean * speedMean);
    const tempVar = Math.max(0, buf.readDoubleLE(o + 28) / c - tempMean * tempMean);
    windows.push({
      count: c,
      speed: {
        mean: f(speedMean / THOUSANDTHS),
        min: buf.readFloatLE(o + 44),
        max: buf.readFloatLE(o + 48),
        std: f(Math.sqrt(speedVar) / THOUSANDTHS),
      },
      temp: {
        mean: f(tempMean / THOUSANDTHS),
        min: buf.readFloatLE(o + 52),
        max: buf.readFloatLE(o + 56),
        std: f(Math.sqrt(tempVar) / THOUSANDTHS),
      },
      distanceKm: f(buf.readDoubleLE(o + 36) / MM_PER_KM),
    });
  }
  return {
    eventId: buf.subarray(STATE_BYTES + READING_ARG_BYTES).toString('utf8'),
    reading,
    snapshot: {
      status: 'in_order',
      fingerprint: buf.readUInt32LE(STATE_BYTES + 56),
      processedTsMs: buf.readDoubleLE(1 + 6 * 8),
      windows,
    },
  };
}
