import type { Logger } from '../logger.js';
import type { LateReading } from '../ports/late-archive.js';
import type { WindowStore } from '../ports/window-store.js';
import { buildFeatureRow, type FeatureRow } from '../rows/feature-row.js';
import type { TelemetryReading } from '../telemetry/telemetry-reading.js';

export interface EngineResult {
  /**
   * Rows to write: new readings, and re-sends of readings whose row is not durable yet (rebuilt
   * from the stored first version, so a retry after a failed write writes the same row).
   */
  rows: FeatureRow[];
  /** Readings beyond the allowed lateness: to the late archive. */
  late: LateReading[];
  applied: number;
  /** Event times of the readings applied now: their windows and latest vector are online. */
  appliedEventTsMs: number[];
  duplicates: number;
  conflicts: number;
  lateCount: number;
}

/**
 * The feature engine: apply readings to their vehicles' windows (one script call per vehicle,
 * all vehicles concurrently) and assemble the rows in Node from the snapshots the store returns.
 */
export async function computeFeatureRows(
  windows: WindowStore,
  readings: readonly TelemetryReading[],
  nowMs: number,
  logger?: Logger,
  modelVersion: string | null = null,
): Promise<EngineResult> {
  const result: EngineResult = {
    rows: [],
    late: [],
    applied: 0,
    appliedEventTsMs: [],
    duplicates: 0,
    conflicts: 0,
    lateCount: 0,
  };
  const groups = [...groupByVehicle(readings)];
  const applyGroup = ([vehicleId, group]: [string, TelemetryReading[]]) =>
    windows.apply(
      vehicleId,
      group.map((reading) => ({ eventId: reading.event_id, reading })),
      nowMs,
      modelVersion,
    );
  // One message usually carries one vehicle: no Promise.all for it (this runs once per reading).
  const applied =
    groups.length === 1 ? [await applyGroup(groups[0]!)] : await Promise.all(groups.map(applyGroup));
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]![1];
    const results = applied[g]!;
    for (let i = 0; i < results.length; i++) {
      const applyResult = results[i]!;
      const reading = group[i]!;
      switch (applyResult.outcome) {
        case 'new':
          result.applied++;
          result.appliedEventTsMs.push(reading.event_ts_ms);
          result.rows.push(scoredWith(buildFeatureRow(reading, applyResult.snapshot), modelVersion));
          break;
        case 'duplicate': {
          result.duplicates++;
          const first = applyResult.pending;
          if (first !== null) {
            const row = buildFeatureRow(
              { ...first.reading, event_id: first.eventId, vehicle_id: reading.vehicle_id },
              first.snapshot,
            );
            result.rows.push(scoredWith(row, first.modelVersion));
          }
          break;
        }
        case 'conflict':
          result.conflicts++;
          logger?.warn(
            { event_id: reading.event_id, vehicle_id: reading.vehicle_id, event_ts_ms: reading.event_ts_ms },
            'reading re-sent with different values: the first applied version stands',
          );
          break;
        case 'late':
          result.lateCount++;
          result.late.push({ reading, processedTsMs: nowMs });
          break;
      }
    }
  }
  return result;
}

/** The model that scores the row (risk_score is filled by scoreRows). */
function scoredWith(row: FeatureRow, modelVersion: string | null): FeatureRow {
  row.model_version = modelVersion;
  return row;
}

function groupByVehicle(readings: readonly TelemetryReading[]): Map<string, TelemetryReading[]> {
  const groups = new Map<string, TelemetryReading[]>();
  for (const reading of readings) {
    const group = groups.get(reading.vehicle_id);
    if (group) group.push(reading);
    else groups.set(reading.vehicle_id, [reading]);
  }
  return groups;
}
