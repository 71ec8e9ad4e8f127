import { createHash } from 'node:crypto';
import type { DeadLetterSink, MessagePublisher, QuarantinedMessage } from '../ports/dead-letter.js';
import type { ObjectStore } from '../ports/object-store.js';
import { boundRaw } from '../telemetry/index.js';
import type {
  TelemetryIssue,
  TelemetryReject,
  TelemetryRejectReason,
} from '../telemetry/telemetry-reject.js';

/** Pub/Sub attribute values hold at most 1024 bytes; 256 UTF-16 units are at most 768. */
const MAX_ID_CHARS = 256;
const MAX_MESSAGE_CHARS = 2048;
const MAX_ISSUES = 32;
const MAX_ISSUE_MESSAGE_CHARS = 512;
const MAX_PATH_CHARS = 256;

/** One refused reading (or whole message) as written to the quarantine object and the dead-letter topic. */
export interface QuarantineRecord {
  index: number | null;
  reason: TelemetryRejectReason;
  message: string;
  issues: TelemetryIssue[];
  /** The refused value, or the start of its text when `raw_truncated` (see shared/telemetry/bounded-raw.ts). */
  raw: unknown;
  raw_truncated: boolean;
}

/**
 * Refused readings go, at once and without retries of the message, to the dead-letter topic (one
 * message per reject, the reason in attributes, for alerting and replay) and to a quarantine
 * object in the bucket (one per source message, for inspection). The object name is derived from
 * the message id, so a redelivered message rewrites nothing.
 *
 * Refused input is hostile by definition, so what is written is rebuilt field by field with every
 * part bounded, never the caller's objects stringified as they are: a dead-letter message is at
 * most a few tens of KB and JSON.stringify cannot throw on it. A failure here is then only ever the
 * bucket or the topic (transient), which is worth a redelivery.
 */
export class DeadLetterQuarantine implements DeadLetterSink {
  constructor(
    private readonly publisher: MessagePublisher,
    private readonly deadLetterTopic: string,
    private readonly objects: ObjectStore,
  ) {}

  async quarantine(message: QuarantinedMessage): Promise<void> {
    const receivedAt = isoTime(message.receivedAtMs);
    const messageId = message.messageId.slice(0, MAX_ID_CHARS);
    const name = quarantineObjectName(message.messageId, message.receivedAtMs);
    const records = message.rejects.map(quarantineRecord);
    // Ours (the service formats it from a validated context): it follows the reading into both.
    const trace = message.traceparent === undefined ? {} : { traceparent: message.traceparent };
    const body = Buffer.from(
      JSON.stringify({ message_id: messageId, received_at: receivedAt, ...trace, rejects: records }),
    );
    await Promise.all([
      this.objects.putIfAbsent(name, body, { contentType: 'application/json' }),
      ...records.map((record) =>
        this.publisher.publish(
          this.deadLetterTopic,
          Buffer.from(JSON.stringify({ ...record, message_id: messageId, received_at: receivedAt })),
          {
            reason: record.reason,
            source_message_id: messageId,
            reading_index: record.index === null ? '' : String(record.index),
            quarantine_object: name,
            ...trace,
          },
        ),
      ),
    ]);
  }
}

/** A reject from the validator is already bounded; bounding it again keeps this adapter safe for any caller. */
function quarantineRecord(reject: TelemetryReject): QuarantineRecord {
  const refused = boundRaw(reject.raw);
  return {
    index: Number.isSafeInteger(reject.index) ? reject.index : null,
    reason: reject.reason,
    message: reject.message.slice(0, MAX_MESSAGE_CHARS),
    issues: reject.issues.slice(0, MAX_ISSUES).map((issue) => ({
      path: issue.path.slice(0, MAX_PATH_CHARS),
      reason: issue.reason,
      message: issue.message.slice(0, MAX_ISSUE_MESSAGE_CHARS),
    })),
    raw: refused.raw,
    raw_truncated: reject.rawTruncated || refused.rawTruncated,
  };
}

export function quarantineObjectName(messageId: string, receivedAtMs: number): string {
  // A time outside what Date can represent still gets a name (the same one on redelivery).
  const day = isoTime(receivedAtMs)?.slice(0, 10) ?? 'unknown';
  // The message id is not ours to trust as a path segment: hash it.
  const id = createHash('sha256').update(messageId).digest('hex').slice(0, 32);
  return `quarantine/dt=${day}/${id}.json`;
}

/** ISO 8601, or null where `toISOString` would throw (NaN, beyond ±8.64e15 ms). */
function isoTime(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
