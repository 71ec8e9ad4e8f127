import type { TelemetryReject } from '../telemetry/telemetry-reject.js';

/** Where refused input goes: the dead-letter topic and a quarantine object, each with its reason. */
export interface DeadLetterSink {
  /**
   * Durable when resolved; idempotent per (messageId, reject index). Never rejects because of what
   * the rejects hold: only a failing bucket or topic makes it reject (and the message be redelivered).
   */
  quarantine(message: QuarantinedMessage): Promise<void>;
}

export interface QuarantinedMessage {
  /** Pub/Sub message id of the message the rejects came from (or a content hash when there is none). */
  messageId: string;
  receivedAtMs: number;
  /** The feature function's span of the message (W3C traceparent), when the message carried a trace. */
  traceparent?: string;
  /** As the validator returns them; the sink still bounds what it writes (input is hostile). */
  rejects: readonly TelemetryReject[];
}

/** Publishes to a topic (Pub/Sub). */
export interface MessagePublisher {
  publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string>;
}
