import type { TelemetryReading } from '../telemetry/telemetry-reading.js';

/** A reading older than its vehicle's newest event time minus the allowed lateness. */
export interface LateReading {
  reading: TelemetryReading;
  processedTsMs: number;
}

/** Where late readings go instead of the windows: archived and counted, never dropped. */
export interface LateArchive {
  /** Durable when resolved; idempotent per message (a redelivery rewrites nothing). */
  write(late: readonly LateReading[]): Promise<void>;
}
