export type { BoundedJson, BoundedRaw } from './bounded-raw.js';
export {
  boundedJson,
  boundRaw,
  boundText,
  RAW_MAX_CHARS,
  RAW_MAX_DEPTH,
  RAW_PREVIEW_CHARS,
} from './bounded-raw.js';
export type { TelemetryParseOptions, TelemetryParseResult } from './parse-telemetry.js';
export { InvalidTelemetryOptionsError, parseTelemetryMessage } from './parse-telemetry.js';
export { deriveEventId } from './telemetry-event-id.js';
export {
  buildTelemetryJsonSchema,
  CODE_ONLY_RULES,
  renderTelemetryJsonSchema,
  TELEMETRY_JSON_SCHEMA_ID,
} from './telemetry-json-schema.js';
export type { NumericField, TelemetryReading, TelemetryReadingWire } from './telemetry-reading.js';
export {
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  EPOCH_SECONDS_LIMIT,
  EVENT_ID_PATTERN,
  FIELD_RANGES,
  ISO_TIMESTAMP_PATTERN,
  KNOWN_FIELDS,
  MAX_READING_DEPTH,
  MIN_TIMESTAMP_MS,
  TELEMETRY_SCHEMA_VERSION,
  telemetryBatchWireSchema,
  telemetryMessageWireSchema,
  telemetryReadingWireSchema,
  VEHICLE_ID_PATTERN,
} from './telemetry-reading.js';
export type { TelemetryIssue, TelemetryReject, TelemetryRejectReason } from './telemetry-reject.js';
export { REASON_PRIORITY } from './telemetry-reject.js';
export type { TimestampResult } from './telemetry-timestamp.js';
export { checkClockSkew, normalizeTimestamp } from './telemetry-timestamp.js';
export type { TelemetryClockOptions, TelemetryReadingResult } from './validate-telemetry-reading.js';
export { validateTelemetryReading } from './validate-telemetry-reading.js';
