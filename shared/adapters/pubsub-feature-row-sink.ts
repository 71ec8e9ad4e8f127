import { FleetError } from '../errors.js';
import type { MessagePublisher } from '../ports/dead-letter.js';
import type { FeatureSink } from '../ports/feature-sink.js';
import { FEATURE_COLUMNS, type FeatureRow } from '../rows/feature-row.js';

/**
 * Largest message data we publish. Pub/Sub takes at most 10 MB per message and per publish
 * request (data, attributes and framing); 8 MiB leaves room for all of it.
 */
export const MAX_FEATURE_ROWS_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Feature rows to the feature-rows topic, one message per group-commit flush (more only when a
 * flush exceeds the message size limit). A message is NDJSON with columns in schema order and no
 * trailing newline: the archive's Cloud Storage subscription (text format) puts a newline between
 * messages, so its objects are NDJSON too.
 *
 * `write` resolves when Pub/Sub has stored every message. Transient failures reject with
 * `transient_sink` (the invocation is redelivered and the same rows published again); a row that
 * alone exceeds the limit is `sink_rejected` naming it, after the other rows were published.
 */
export class PubSubFeatureRowSink implements FeatureSink {
  readonly name = 'pubsub';
  readonly #publisher: MessagePublisher;
  readonly #topic: string;
  readonly #maxMessageBytes: number;

  constructor(publisher: MessagePublisher, topic: string, options: { maxMessageBytes?: number } = {}) {
    this.#publisher = publisher;
    this.#topic = topic;
    this.#maxMessageBytes = options.maxMessageBytes ?? MAX_FEATURE_ROWS_MESSAGE_BYTES;
  }

  async write(rows: readonly FeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { messages, oversized } = featureRowMessages(rows, this.#maxMessageBytes);
    await Promise.all(messages.map((message) => this.#publisher.publish(this.#topic, message.data, {})));
    if (oversized.length > 0) {
      throw new FleetError(
        'sink_rejected',
        `feature rows larger than a ${this.#maxMessageBytes}-byte message: ${oversized.join(', ')}`,
        { transient: false, metadata: { topic: this.#topic, rejectedEventIds: oversized } },
      );
    }
  }
}

export interface FeatureRowMessage {
  data: Buffer;
  rows: number;
}

/**
 * Rows as NDJSON messages of at most `maxBytes` each, in order, lines joined by "\n" with none at
 * the end; the event_ids of rows that do not fit in a message alone (pure).
 */
export function featureRowMessages(
  rows: readonly FeatureRow[],
  maxBytes: number,
): { messages: FeatureRowMessage[]; oversized: string[] } {
  const messages: FeatureRowMessage[] = [];
  const oversized: string[] = [];
  let lines: string[] = [];
  let bytes = 0;
  const cut = () => {
    if (lines.length === 0) return;
    messages.push({ data: Buffer.from(lines.join('\n')), rows: lines.length });
    lines = [];
    bytes = 0;
  };
  for (const row of rows) {
    const line = featureRowLine(row);
    const size = Buffer.byteLength(line);
    if (size > maxBytes) {
      oversized.push(row.event_id);
      continue;
    }
    // +1 for the newline before this line.
    if (lines.length > 0 && bytes + 1 + size > maxBytes) cut();
    bytes += (lines.length > 0 ? 1 : 0) + size;
    lines.push(line);
  }
  cut();
  return { messages, oversized };
}

/** One row as JSON with its columns in schema order, absent values as null. */
export function featureRowLine(row: FeatureRow): string {
  const values = row as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const column of FEATURE_COLUMNS) ordered[column.name] = values[column.name] ?? null;
  return JSON.stringify(ordered);
}
