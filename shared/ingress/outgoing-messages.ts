/**
 * Packs accepted readings, each as the exact text the device sent, into Pub/Sub messages the
 * feature function accepts: at most `maxBytes` (its MAX_MESSAGE_BYTES) and `maxReadings` (its
 * MAX_BATCH_READINGS) each. A single-reading body goes out as it came; readings of a batch go out
 * in `{"readings":[...]}` envelopes, in their order. Pure.
 */
export interface OutgoingReading {
  /** Position in the request's batch; null for a single-reading body. */
  index: number | null;
  /** The reading's JSON text as sent. */
  text: string;
}

export interface OutgoingMessage {
  data: Buffer;
  /** Indexes of the readings it carries, in order. */
  indexes: (number | null)[];
}

export interface PackedMessages {
  messages: OutgoingMessage[];
  /** Readings that cannot travel: larger alone than a message may be. */
  oversized: { index: number | null; bytes: number }[];
}

const OPEN = '{"readings":[';
const CLOSE = ']}';
const ENVELOPE_BYTES = OPEN.length + CLOSE.length;

export function packMessages(
  readings: readonly OutgoingReading[],
  limits: { maxBytes: number; maxReadings: number },
): PackedMessages {
  const packed: PackedMessages = { messages: [], oversized: [] };
  let texts: string[] = [];
  let indexes: (number | null)[] = [];
  let bytes = ENVELOPE_BYTES;
  const close = () => {
    if (texts.length === 0) return;
    packed.messages.push({ data: Buffer.from(`${OPEN}${texts.join(',')}${CLOSE}`, 'utf8'), indexes });
    texts = [];
    indexes = [];
    bytes = ENVELOPE_BYTES;
  };
  for (const reading of readings) {
    const size = Buffer.byteLength(reading.text, 'utf8');
    if (reading.index === null) {
      if (size > limits.maxBytes) packed.oversized.push({ index: null, bytes: size });
      else packed.messages.push({ data: Buffer.from(reading.text, 'utf8'), indexes: [null] });
      continue;
    }
    if (ENVELOPE_BYTES + size > limits.maxBytes) {
      packed.oversized.push({ index: reading.index, bytes: size });
      continue;
    }
    const comma = texts.length > 0 ? 1 : 0;
    if (bytes + comma + size > limits.maxBytes || texts.length >= limits.maxReadings) close();
    bytes += (texts.length > 0 ? 1 : 0) + size;
    texts.push(reading.text);
    indexes.push(reading.index);
  }
  close();
  return packed;
}
