import { z } from 'zod';
import {
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  MAX_READING_DEPTH,
  telemetryMessageWireSchema,
} from './telemetry-reading.js';

export const TELEMETRY_JSON_SCHEMA_ID = 'urn:fleet-features:schema:telemetry:v1';

/** What the parser enforces that a static schema cannot; published in the schema's description. */
export const CODE_ONLY_RULES: readonly string[] = [
  `timestamp may be at most ${DEFAULT_MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the receiving clock (timestamp_in_future)`,
  'a missing event_id is derived: "d-" + the first 32 hex digits of sha256(vehicle_id + "\\n" + epoch milliseconds)',
  'a numeric timestamp below 1e11 is epoch seconds, otherwise epoch milliseconds; every form is floored to integer milliseconds, so the same instant in any format or offset is the same reading',
  'the 2000-01-01 floor applies to the UTC instant: an ISO time written in 2000 with a positive offset can still fall in 1999 (timestamp_too_old)',
  `a message may be at most ${DEFAULT_MAX_BYTES} bytes of UTF-8 (message_too_large)`,
  `values inside a reading may nest at most ${MAX_READING_DEPTH} levels deep (too_deeply_nested)`,
  'in a batch each reading is judged alone: valid readings are accepted even when others are rejected, where this schema fails the whole batch',
  `the batch limit of ${DEFAULT_MAX_BATCH} readings is the default; a deployment may configure another`,
];

/** The wire contract as JSON Schema draft 2020-12, generated from the zod schema (the one source of truth). */
export function buildTelemetryJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(telemetryMessageWireSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
  });
  return {
    $schema,
    $id: TELEMETRY_JSON_SCHEMA_ID,
    title: 'Telemetry message v1',
    description: [
      'One telemetry reading, or a batch {"readings": [...]}.',
      'Rules enforced in code only, beyond this schema:',
      ...CODE_ONLY_RULES.map((rule, i) => `${i + 1}. ${rule}.`),
    ].join('\n'),
    ...generated,
  };
}

/** The exact text of the committed telemetry-v1.schema.json. */
export function renderTelemetryJsonSchema(): string {
  return `${JSON.stringify(buildTelemetryJsonSchema(), null, 2)}\n`;
}
