import { describe, expect, it } from 'vitest';
import {
  featureRowLine,
  featureRowMessages,
  MAX_FEATURE_ROWS_MESSAGE_BYTES,
  PubSubFeatureRowSink,
} from '../../shared/adapters/pubsub-feature-row-sink.js';
import type { MessagePublisher } from '../../shared/ports/dead-letter.js';
import { FEATURE_COLUMNS } from '../../shared/rows/feature-row.js';
import { featureRowFixture, featureRowFixtures } from '../helpers/feature-row-fixtures.js';

// Feature rows as feature-rows messages: NDJSON in schema column order, one message per flush,
// split only to stay under Pub/Sub's message size limit.

class RecordingPublisher implements MessagePublisher {
  readonly messages: { topic: string; data: Buffer }[] = [];
  async publish(topic: string, data: Buffer): Promise<string> {
    this.messages.push({ topic, data });
    return String(this.messages.length);
  }
}

describe('featureRowLine', () => {
  it('is the row as JSON with every column in schema order, whatever the key order', () => {
    const row = featureRowFixture('order', 3);
    const shuffled = Object.fromEntries(Object.entries(row).reverse()) as typeof row;

    const line = featureRowLine(shuffled);

    expect(Object.keys(JSON.parse(line))).toEqual(FEATURE_COLUMNS.map((c) => c.name));
    expect(line).toBe(featureRowLine(row));
    expect(JSON.parse(line)).toEqual(row);
  });
});

describe('featureRowMessages', () => {
  const rows = featureRowFixtures('split', 40);
  const lineBytes = Buffer.byteLength(featureRowLine(rows[0]!));

  it('puts a flush in one NDJSON message without a trailing newline', () => {
    const { messages, oversized } = featureRowMessages(rows, MAX_FEATURE_ROWS_MESSAGE_BYTES);

    expect(oversized).toEqual([]);
    expect(messages).toHaveLength(1);
    const text = messages[0]!.data.toString();
    expect(text.endsWith('\n')).toBe(false);
    expect(text.split('\n').map((line) => JSON.parse(line).event_id)).toEqual(rows.map((r) => r.event_id));
  });

  it('splits at row boundaries to stay within the limit, keeping the order', () => {
    const maxBytes = lineBytes * 7 + 10;
    const { messages } = featureRowMessages(rows, maxBytes);

    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(message.data.length).toBeLessThanOrEqual(maxBytes);
    const ids = messages.flatMap((m) =>
      m.data
        .toString()
        .split('\n')
        .map((l) => JSON.parse(l).event_id),
    );
    expect(ids).toEqual(rows.map((r) => r.event_id));
    expect(messages.reduce((n, m) => n + m.rows, 0)).toBe(rows.length);
  });

  it('names a row that cannot fit in any message and keeps the others', () => {
    const big = featureRowFixture('split', 99, { model_version: 'v'.repeat(5000) });
    const { messages, oversized } = featureRowMessages([rows[0]!, big, rows[1]!], 4000);

    expect(oversized).toEqual([big.event_id]);
    expect(messages.flatMap((m) => m.data.toString().split('\n'))).toHaveLength(2);
  });
});

describe('PubSubFeatureRowSink', () => {
  it('publishes one message per write to its topic, and nothing for no rows', async () => {
    const publisher = new RecordingPublisher();
    const sink = new PubSubFeatureRowSink(publisher, 'feature-rows');

    await sink.write([]);
    await sink.write(featureRowFixtures('sink', 500));

    expect(publisher.messages.map((m) => m.topic)).toEqual(['feature-rows']);
    expect(publisher.messages[0]!.data.toString().split('\n')).toHaveLength(500);
  });

  it('rejects an oversized row with a non-transient sink_rejected naming it, after publishing the rest', async () => {
    const publisher = new RecordingPublisher();
    const sink = new PubSubFeatureRowSink(publisher, 'feature-rows', { maxMessageBytes: 4000 });
    const big = featureRowFixture('sink', 7, { model_version: 'v'.repeat(5000) });

    await expect(sink.write([featureRowFixture('sink', 1), big])).rejects.toMatchObject({
      code: 'sink_rejected',
      transient: false,
      metadata: { rejectedEventIds: [big.event_id] },
    });
    expect(publisher.messages).toHaveLength(1);
  });
});
