import { createHash } from 'node:crypto';
import type { DeadLetterSink, MessagePublisher, QuarantinedMessage } from '../ports/dead-letter.js';
import type { ObjectStore } from '../ports/object-store.js';

/**
 * Refused readings go, at once and without retries of the message, to the dead-letter topic (one
 * message per reject, the reason in attributes, for alerting and replay) and to a quarantine
 * object in the bucket (one per source message, for inspection). The object name is derived from
 * the message id, so a redelivered message rewrites nothing.
 */
export class DeadLetterQuarantine implements DeadLetterSink {
  constructor(
    private readonly publisher: MessagePublisher,
    private readonly deadLetterTopic: string,
    private readonly objects: ObjectStore,
  ) {}

  async quarantine(message: QuarantinedMessage): Promise<void> {
    const receivedAt = new Date(message.receivedAtMs).toISOString();
    const name = quarantineObjectName(message.messageId, message.receivedAtMs);
    const body = Buffer.from(
      JSON.stringify({ message_id: message.messageId, received_at: receivedAt, rejects: message.rejects }),
    );
    await Promise.all([
      this.objects.putIfAbsent(name, body, { contentType: 'application/json' }),
      ...message.rejects.map((reject) =>
        this.publisher.publish(
          this.deadLetterTopic,
          Buffer.from(JSON.stringify({ ...reject, message_id: message.messageId, received_at: receivedAt })),
          {
            reason: reject.reason,
            source_message_id: message.messageId,
            reading_index: reject.index === null ? '' : String(reject.index),
            quarantine_object: name,
          },
        ),
      ),
    ]);
  }
}

export function quarantineObjectName(messageId: string, receivedAtMs: number): string {
  const day = new Date(receivedAtMs).toISOString().slice(0, 10);
  // The message id is not ours to trust as a path segment: hash it.
  const id = createHash('sha256').update(messageId).digest('hex').slice(0, 32);
  return `quarantine/dt=${day}/${id}.json`;
}
