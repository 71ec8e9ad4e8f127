import { type BoundedRaw, boundRaw, boundText, RAW_PREVIEW_CHARS } from './bounded-raw.js';
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_BYTES, type TelemetryReading } from './telemetry-reading.js';
import {
  describeValue,
  rejectFrom,
  type TelemetryReject,
  type TelemetryRejectReason,
} from './telemetry-reject.js';
import { type TelemetryClockOptions, validateTelemetryReading } from './validate-telemetry-reading.js';

export interface TelemetryParseOptions extends TelemetryClockOptions {
  /** Most readings one `{"readings": [...]}` message may carry; more rejects the whole message. Default 500. */
  maxBatch?: number;
  /** Largest message in bytes (UTF-8); more rejects the whole message unread. Default 256 KiB. */
  maxBytes?: number;
}

export interface TelemetryParseResult {
  readings: TelemetryReading[];
  rejects: TelemetryReject[];
}

/** Options are the caller's code, not device input: a bad one is a bug and throws. */
export class InvalidTelemetryOptionsError extends Error {
  readonly code = 'invalid_telemetry_options';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTelemetryOptionsError';
  }
}

/** JSON.parse's own message quotes a little of the input; never let it grow a reject. */
const PARSE_ERROR_CHARS = 200;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8');

/**
 * Decodes one message (the bytes of a Pub/Sub message or an HTTP body) and judges every reading
 * in it. Expected failures are values: whatever the bytes, this returns readings and rejects and
 * never throws. A single reading or a batch element that fails is one reject with its index; a
 * message that cannot be read at all is one reject with index null.
 */
export function parseTelemetryMessage(
  input: Uint8Array | string,
  options: TelemetryParseOptions,
): TelemetryParseResult {
  checkOptions(options);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;

  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) {
    return messageReject('message_too_large', `message is ${size} bytes, the limit is ${maxBytes}`, {
      raw: preview(input),
      rawTruncated: true,
    });
  }

  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = strictUtf8.decode(input);
    } catch {
      return messageReject(
        'malformed_json',
        'message is not valid UTF-8',
        boundText(lossyUtf8.decode(input)),
      );
    }
  }
  // A leading byte order mark is tolerated (TextDecoder drops it from bytes; do the same for strings).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).slice(0, PARSE_ERROR_CHARS);
    return messageReject('malformed_json', `message is not valid JSON: ${detail}`, boundText(text));
  }

  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    const hint = Array.isArray(decoded) ? '; send a batch as {"readings": [...]}' : '';
    return messageReject(
      'not_an_object',
      `message must be a JSON object, got ${describeValue(decoded)}${hint}`,
      boundRaw(decoded),
    );
  }
  if (!Object.hasOwn(decoded, 'readings')) {
    const result = validateTelemetryReading(decoded, options, null);
    return result.ok
      ? { readings: [result.reading], rejects: [] }
      : { readings: [], rejects: [result.reject] };
  }

  const envelope = decoded as Record<string, unknown>;
  const batch = envelope.readings;
  const strayKeys = Object.keys(envelope).filter((key) => key !== 'readings');
  if (strayKeys.length > 0) {
    return messageReject(
      'invalid_batch',
      `a batch envelope holds only "readings", found ${strayKeys
        .slice(0, 5)
        .map((key) => JSON.stringify(key.slice(0, 40)))
        .join(', ')}; put other fields on each reading`,
      boundRaw(decoded),
      strayKeys[0],
    );
  }
  if (!Array.isArray(batch)) {
    return messageReject(
      'invalid_batch',
      `readings must be an array, got ${describeValue(batch)}`,
      boundRaw(decoded),
      'readings',
    );
  }
  if (batch.length === 0) {
    return messageReject('empty_batch', 'readings is empty', boundRaw(decoded), 'readings');
  }
  if (batch.length > maxBatch) {
    return messageReject(
      'batch_too_large',
      `readings holds ${batch.length} readings, the limit is ${maxBatch}`,
      boundRaw(decoded),
      'readings',
    );
  }

  const result: TelemetryParseResult = { readings: [], rejects: [] };
  batch.forEach((element, index) => {
    const judged = validateTelemetryReading(element, options, index);
    if (judged.ok) result.readings.push(judged.reading);
    else result.rejects.push(judged.reject);
  });
  return result;
}

function messageReject(
  reason: TelemetryRejectReason,
  message: string,
  refused: BoundedRaw,
  path = '',
): TelemetryParseResult {
  return { readings: [], rejects: [rejectFrom(null, [{ path, reason, message }], refused)] };
}

/** The start of a message too large to read: decodes only what the preview needs. */
function preview(input: Uint8Array | string): string {
  return typeof input === 'string'
    ? input.slice(0, RAW_PREVIEW_CHARS)
    : lossyUtf8.decode(input.subarray(0, RAW_PREVIEW_CHARS * 4)).slice(0, RAW_PREVIEW_CHARS);
}

function checkOptions(options: TelemetryParseOptions): void {
  const { nowMs, maxFutureSkewMs, maxBatch, maxBytes } = options;
  if (!Number.isFinite(nowMs))
    throw new InvalidTelemetryOptionsError(`nowMs must be finite epoch ms, got ${nowMs}`);
  if (maxFutureSkewMs !== undefined && !(Number.isFinite(maxFutureSkewMs) && maxFutureSkewMs >= 0)) {
    throw new InvalidTelemetryOptionsError(
      `maxFutureSkewMs must be a finite number >= 0, got ${maxFutureSkewMs}`,
    );
  }
  for (const [name, value] of [
    ['maxBatch', maxBatch],
    ['maxBytes', maxBytes],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new InvalidTelemetryOptionsError(`${name} must be a positive integer, got ${value}`);
    }
  }
}
