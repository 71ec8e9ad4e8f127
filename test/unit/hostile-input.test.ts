/**
 * Hostile message bodies through the whole service path: parse, validate, quarantine (the real
 * DeadLetterQuarantine over an in-memory bucket and topic) and logging. Whatever the bytes, the
 * service returns (so Pub/Sub acknowledges at once instead of retrying), and every refused message
 * lands in quarantine and on the dead-letter topic with a stable reason, in bounded objects.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DeadLetterQuarantine, quarantineObjectName } from '../../shared/adapters/dead-letter-quarantine.js';
import { GcsLateArchive } from '../../shared/adapters/gcs-late-archive.js';
import { FleetError } from '../../shared/errors.js';
import {
  type FeatureServiceDeps,
  type MessageOutcome,
  processTelemetryMessage,
} from '../../shared/features/feature-service.js';
import { createLogger, type Logger } from '../../shared/logger.js';
import type { MessagePublisher } from '../../shared/ports/dead-letter.js';
import type { FeatureSink } from '../../shared/ports/feature-sink.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { ApplyResult, WindowInput, WindowStore } from '../../shared/ports/window-store.js';
import type { FeatureRow } from '../../shared/rows/feature-row.js';
import { routeConsoleToLogger, withFailureLog } from '../../shared/runtime/function-logging.js';
import { RAW_PREVIEW_CHARS } from '../../shared/telemetry/bounded-raw.js';
import {
  parseTelemetryMessage,
  REASON_PRIORITY,
  type TelemetryRejectReason,
} from '../../shared/telemetry/index.js';

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const VALID = {
  event_id: 'veh-00042:17',
  vehicle_id: 'veh-00042',
  timestamp: '2026-03-01T11:59:00Z',
  speed_kmh: 54.5,
  engine_temp_c: 89.9,
  gps_lat: 48.8566,
  gps_lon: 2.3522,
  fuel_level_pct: 63,
  rpm: 2100,
};
type Field = keyof typeof VALID;
const VALID_TEXT = JSON.stringify(VALID);
/** A dead-letter message holds one reject: its raw (≤ 16 K characters of JSON, ≤ 48 KB), message and issues. */
const MAX_DEAD_LETTER_BYTES = 64 * 1024;
const DEFAULT_LIMITS = { maxBatchReadings: 500, maxMessageBytes: 256 * 1024 };
/** What a deployment may configure at most (Pub/Sub's own limit), so big structures reach the validator. */
const RAISED_LIMITS = { maxBatchReadings: 500, maxMessageBytes: 10 * 1024 * 1024 };

// ---------------------------------------------------------------------------------------------
// In-memory ports: a bucket and a topic under the real quarantine; a window store and a sink that
// only count, since no hostile message may reach them.

class MemoryObjectStore implements ObjectStore {
  readonly bucket = 'hostile';
  readonly objects = new Map<string, Buffer>();
  async putIfAbsent(name: string, body: Buffer): Promise<'created' | 'exists'> {
    if (this.objects.has(name)) return 'exists';
    this.objects.set(name, body);
    return 'created';
  }
  async get(name: string): Promise<Buffer | null> {
    return this.objects.get(name) ?? null;
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((name) => name.startsWith(prefix)).sort();
  }
}

interface Published {
  topic: string;
  data: Buffer;
  attributes: Record<string, string>;
}

class MemoryPublisher implements MessagePublisher {
  readonly messages: Published[] = [];
  async publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string> {
    this.messages.push({ topic, data, attributes });
    return String(this.messages.length);
  }
}

class CountingWindowStore implements WindowStore {
  inputs = 0;
  async apply(_vehicleId: string, inputs: readonly WindowInput[]): Promise<ApplyResult[]> {
    this.inputs += inputs.length;
    // 'late' needs no snapshot: the reading goes to the late archive, which the checks would see.
    return inputs.map(() => ({ outcome: 'late' }) as const);
  }
  async markDurable(): Promise<void> {}
  async latest(vehicleIds: readonly string[]): Promise<null[]> {
    return vehicleIds.map(() => null);
  }
}

class CountingSink implements FeatureSink {
  readonly name = 'memory';
  rows = 0;
  async write(rows: readonly FeatureRow[]): Promise<void> {
    this.rows += rows.length;
  }
}

function collectingLogger(lines: string[], level = 'debug'): Logger {
  return createLogger({ level, name: 'test', destination: { write: (line: string) => lines.push(line) } });
}

interface Harness {
  deps: FeatureServiceDeps;
  objects: MemoryObjectStore;
  publisher: MemoryPublisher;
  windows: CountingWindowStore;
  sink: CountingSink;
  logLines: string[];
}

function harness(limits: { maxBatchReadings: number; maxMessageBytes: number }): Harness {
  const objects = new MemoryObjectStore();
  const publisher = new MemoryPublisher();
  const windows = new CountingWindowStore();
  const sink = new CountingSink();
  const logLines: string[] = [];
  const deps: FeatureServiceDeps = {
    windows,
    sink,
    deadLetters: new DeadLetterQuarantine(publisher, 'telemetry-dlq', objects),
    lateArchive: new GcsLateArchive(objects),
    clock: () => NOW_MS,
    logger: collectingLogger(logLines),
    projectId: 'fleet-features-test',
    options: { maxFutureSkewMs: 300_000, ...limits },
  };
  return { deps, objects, publisher, windows, sink, logLines };
}

// ---------------------------------------------------------------------------------------------
// One message through the service, and what it left behind.

interface QuarantineObject {
  message_id: string;
  received_at: string;
  rejects: {
    index: number | null;
    reason: string;
    issues: unknown[];
    raw: unknown;
    raw_truncated: boolean;
  }[];
}

type Verdict =
  | { threw: true; error: unknown }
  | {
      threw: false;
      outcome: MessageOutcome;
      quarantine: QuarantineObject | null;
      quarantineBytes: number;
      deadLetters: Published[];
      reachedEngine: number;
    };

let messageCount = 0;

/** Sends one message and takes (and clears) what it wrote, so the harness can be reused. */
async function send(h: Harness, data: Uint8Array | string): Promise<Verdict> {
  const messageId = `hostile-${++messageCount}`;
  const before = { inputs: h.windows.inputs, rows: h.sink.rows };
  let outcome: MessageOutcome;
  try {
    outcome = await processTelemetryMessage(h.deps, {
      data: Buffer.from(data),
      messageId,
      publishTimeMs: NOW_MS,
    });
  } catch (error) {
    return { threw: true, error };
  }
  const name = quarantineObjectName(messageId, NOW_MS);
  const body = h.objects.objects.get(name);
  const verdict: Verdict = {
    threw: false,
    outcome,
    quarantine: body === undefined ? null : (JSON.parse(body.toString('utf8')) as QuarantineObject),
    quarantineBytes: body?.length ?? 0,
    deadLetters: h.publisher.messages.splice(0),
    reachedEngine:
      h.windows.inputs -
      before.inputs +
      (h.sink.rows - before.rows) +
      h.objects.objects.size -
      (body ? 1 : 0),
  };
  h.objects.objects.clear();
  return verdict;
}

const REASONS = new Set<string>(REASON_PRIORITY);

/**
 * The contract for a refused message: the service returned; nothing reached the windows, the sink
 * or the late archive; the quarantine object and one dead-letter message per reject carry a known
 * reason; and everything written is bounded and parses back.
 */
function quarantineProblems(verdict: Verdict): string[] {
  if (verdict.threw) return [`threw ${String(verdict.error)}`];
  const { outcome, quarantine, deadLetters } = verdict;
  const problems: string[] = [];
  if (outcome.rejected < 1) problems.push('nothing rejected');
  if (outcome.applied !== 0 || verdict.reachedEngine !== 0) problems.push('reached the engine');
  if (quarantine === null) return [...problems, 'no quarantine object'];
  if (quarantine.rejects.length !== outcome.rejected) problems.push('quarantine object misses rejects');
  for (const reject of quarantine.rejects) {
    if (!REASONS.has(reject.reason)) problems.push(`unknown reason ${reject.reason}`);
    if (reject.issues.length === 0) problems.push('a reject without issues');
  }
  if (verdict.quarantineBytes > 1024 + quarantine.rejects.length * MAX_DEAD_LETTER_BYTES)
    problems.push(`quarantine object of ${verdict.quarantineBytes} bytes`);
  if (deadLetters.length !== outcome.rejected) problems.push(`${deadLetters.length} dead letters`);
  for (const letter of deadLetters) {
    if (letter.data.length > MAX_DEAD_LETTER_BYTES)
      problems.push(`dead letter of ${letter.data.length} bytes`);
    const body = JSON.parse(letter.data.toString('utf8')) as { reason: string };
    if (!REASONS.has(letter.attributes.reason ?? '') || body.reason !== letter.attributes.reason)
      problems.push(`dead letter reason ${letter.attributes.reason}`);
    for (const value of Object.values(letter.attributes))
      if (Buffer.byteLength(value) > 1024) problems.push('attribute over 1024 bytes');
  }
  return problems;
}

function expectQuarantined(verdict: Verdict, reason: TelemetryRejectReason): QuarantineObject {
  expect(quarantineProblems(verdict)).toEqual([]);
  const quarantine = (verdict as Extract<Verdict, { threw: false }>).quarantine!;
  expect(quarantine.rejects.map((reject) => reject.reason)).toContain(reason);
  return quarantine;
}

function expectStructuredLines(lines: readonly string[]): void {
  for (const line of lines) {
    expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, line).toBe(true);
    expect(JSON.parse(line)).toMatchObject({
      severity: expect.stringMatching(/^[A-Z]+$/),
      message: expect.any(String),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Generators. Each builds JSON text directly (JSON.stringify cannot write 1e309 or 100k levels)
// and every message is invalid by construction, so "100% quarantined" is the exact expectation.

interface Fragment {
  text: string;
  kind: 'number' | 'string' | 'array' | 'object' | 'literal';
}
const fragmentOf =
  (kind: Fragment['kind']) =>
  (text: string): Fragment => ({ text, kind });
const kindOfJson = (text: string): Fragment['kind'] => {
  const first = text.trimStart()[0];
  if (first === '{') return 'object';
  if (first === '[') return 'array';
  if (first === '"') return 'string';
  return first === 't' || first === 'f' || first === 'n' ? 'literal' : 'number';
};

/** Numbers outside every field's range, as JSON text (1e309 parses to Infinity). */
const OUT_OF_RANGE_NUMBERS = [
  '1e309',
  '-1e309',
  '1E400',
  '9007199254740993',
  '-9007199254740993',
  '123456789012345678901234567890',
  '-123456789012345678901234567890',
  '1e21',
  '-1e21',
  '1.7976931348623157e308',
  '-1.7976931348623157e308',
];
const EDGE_NUMBERS = [
  ...OUT_OF_RANGE_NUMBERS,
  '-0',
  '0',
  '-0.0',
  '1e-400',
  '5e-324',
  '0.1e1',
  '1e11',
  '99999999999',
  '1.0000000000000000000000001',
];
const NAN_LIKE_STRINGS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e309',
  '0x1F',
  ' 12 ',
  '١٢',
  '12abc',
  'null',
  'undefined',
  'true',
  '',
  '💥',
  '\u0000',
];
const PROTO_OBJECTS = [
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"prototype":{"polluted":true}}',
  '{"__proto__":null}',
  '{"__proto__":[]}',
  '{"__proto__":{"__proto__":{"polluted":true}}}',
  '{"hasOwnProperty":1,"toString":"x","valueOf":{},"__defineGetter__":[]}',
  `{"__proto__":${VALID_TEXT}}`,
];
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'readings',
  '',
  ' ',
  '\u0000',
  'vehicle_id',
  'speed_kmh',
  '\ud800',
  'k'.repeat(1000),
];
const HUGE_STRING_UNITS = ['x', 'é', '😀', '\u0000', '\\', '"', '\ud800', '\n'];
/** Invalid UTF-8: overlong, surrogate halves, beyond U+10FFFF, lone continuation, truncated, never-valid bytes. */
const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xbf],
  [0xc3],
  [0xe2, 0x82],
  [0xff],
  [0xfe],
  [0xc3, 0x28],
  [0xf0, 0x28, 0x8c, 0xbc],
];

/** Mostly small, rarely up to 100k: the big ones cost milliseconds each and 10,000 runs must stay fast. */
const scale = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 17, max: 500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 100_000 }) },
);
/** Longer than any id may be (vehicle_id 64, event_id 128). */
const stringLength = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 129, max: 5_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 1_000_000 }) },
);

const hugeString = fc
  .tuple(fc.constantFrom(...HUGE_STRING_UNITS), stringLength)
  .map(([unit, length]) => JSON.stringify(unit.repeat(Math.ceil(length / unit.length))));
const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ unit: 'binary', maxLength: 12 }));

const leafFragment: fc.Arbitrary<Fragment> = fc.oneof(
  fc.constantFrom(...EDGE_NUMBERS).map(fragmentOf('number')),
  fc.constantFrom(...NAN_LIKE_STRINGS).map((text) => fragmentOf('string')(JSON.stringify(text))),
  fc.constantFrom('true', 'false', 'null').map(fragmentOf('literal')),
  fc.string({ unit: 'binary', maxLength: 20 }).map((text) => fragmentOf('string')(JSON.stringify(text))),
  fc.constantFrom(...PROTO_OBJECTS).map(fragmentOf('object')),
  fc.json({ maxDepth: 3 }).map((text) => ({ text, kind: kindOfJson(text) })),
);

const bigFragment: fc.Arbitrary<Fragment> = fc.oneof(
  scale.map((d) => fragmentOf('array')(`${'['.repeat(d)}${']'.repeat(d)}`)),
  scale.map((d) => fragmentOf('object')(`${'{"a":'.repeat(d)}null${'}'.repeat(d)}`)),
  scale.map((d) => fragmentOf('array')(`${'[{"x":'.repeat(d)}0${'}]'.repeat(d)}`)),
  scale.map((d) => fragmentOf('object')(`${'{"__proto__":'.repeat(d)}{}${'}'.repeat(d)}`)),
  scale.map((n) =>
    fragmentOf('object')(`{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  ),
  scale.map((n) => fragmentOf('array')(`[${'0,'.repeat(n)}0]`)),
  hugeString.map(fragmentOf('string')),
  hugeString.map((key) => fragmentOf('object')(`{${key}:1}`)),
);

const fragment: fc.Arbitrary<Fragment> = fc.oneof(
  { weight: 12, arbitrary: leafFragment },
  { weight: 2, arbitrary: bigFragment },
  {
    weight: 2,
    arbitrary: fc
      .array(leafFragment, { maxLength: 5 })
      .map((items) => fragmentOf('array')(`[${items.map((f) => f.text).join(',')}]`)),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(hostileKey, leafFragment), { maxLength: 5 })
      .map((entries) =>
        fragmentOf('object')(`{${entries.map(([k, f]) => `${JSON.stringify(k)}:${f.text}`).join(',')}}`),
      ),
  },
);

/** A value that field cannot accept, whatever else the reading holds. */
function breakerFor(field: Field): fc.Arbitrary<string> {
  if (field === 'vehicle_id' || field === 'event_id') {
    return fc.oneof(
      fragment
        .filter((f) => f.kind !== 'string' && !(f.text === 'null' && field === 'event_id'))
        .map((f) => f.text),
      fc.constantFrom('" x"', '"-0"', '"💥"', '""', '"a/b"', '"../x"', '"{x}"', '"NaN\\n"'),
      hugeString,
    );
  }
  if (field === 'timestamp') {
    // Every edge number is out of bounds as an instant: too old, in the future or not finite.
    return fc.oneof(
      fragment.filter((f) => f.kind !== 'string' && f.kind !== 'number').map((f) => f.text),
      fc.constantFrom(...NAN_LIKE_STRINGS).map((text) => JSON.stringify(text)),
      fc.constantFrom(...EDGE_NUMBERS),
      hugeString,
    );
  }
  return fc.oneof(
    fragment
      .filter(
        (f) => f.kind !== 'number' && !(f.text === 'null' && (field === 'rpm' || field === 'fuel_level_pct')),
      )
      .map((f) => f.text),
    fc.constantFrom(...OUT_OF_RANGE_NUMBERS),
  );
}

/**
 * A valid reading with one field broken (or a required one dropped), after up to three hostile
 * extra fields: extras come first, so an extra named like a field is overridden, never the reverse.
 */
const brokenReading: fc.Arbitrary<string> = fc
  .constantFrom(...(Object.keys(VALID) as Field[]))
  .chain((field) =>
    fc.tuple(
      fc.constant(field),
      breakerFor(field),
      fc.boolean(),
      fc.array(fc.tuple(hostileKey, fragment), { maxLength: 3 }),
    ),
  )
  .map(([field, breaker, drop, extras]) => {
    const required = field !== 'rpm' && field !== 'fuel_level_pct' && field !== 'event_id';
    const fields = Object.entries(VALID).flatMap(([key, value]): string[] => {
      if (key !== field) return [`${JSON.stringify(key)}:${JSON.stringify(value)}`];
      return drop && required ? [] : [`${JSON.stringify(key)}:${breaker}`];
    });
    // An extra named like the dropped field would put a valid value back.
    const extraText = extras
      .filter(([key]) => !(drop && key === field))
      .map(([key, f]) => `${JSON.stringify(key)}:${f.text}`);
    return `{${[...extraText, ...fields].join(',')}}`;
  });

const batchMessage: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(
      fc.oneof(
        brokenReading,
        fragment.map((f) => f.text),
      ),
      { minLength: 1, maxLength: 8 },
    )
    .map((elements) => `{"readings":[${elements.join(',')}]}`),
  fragment.filter((f) => f.kind !== 'array').map((f) => `{"readings":${f.text}}`),
  fc.constant('{"readings":[]}'),
  fc
    .tuple(
      hostileKey.filter((key) => key !== 'readings'),
      fragment,
    )
    .map(([key, f]) => `{"readings":[${VALID_TEXT}],${JSON.stringify(key)}:${f.text}}`),
  leafFragment.map((f) => `{"readings":[${Array.from({ length: 501 }, () => f.text).join(',')}]}`),
);

const textMessage: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: brokenReading },
  { weight: 2, arbitrary: batchMessage },
  { weight: 2, arbitrary: fragment.map((f) => f.text) },
);

const hostileMessage: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 32, arbitrary: textMessage.map((text) => Buffer.from(text)) },
  {
    weight: 4,
    arbitrary: fc.tuple(textMessage, fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([text, bad, at]) => {
      const bytes = Buffer.from(text);
      const cut = at % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]);
    }),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(textMessage, fc.nat())
      .map(([text, at]) => Buffer.from(text.slice(0, at % text.length))),
  },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  // Padded past the default limit (the raised one reads it: whitespace is valid JSON). Rare: 256 KB each.
  {
    weight: 1,
    arbitrary: textMessage.map((text) => Buffer.from(`${text}${' '.repeat(DEFAULT_LIMITS.maxMessageBytes)}`)),
  },
);

// ---------------------------------------------------------------------------------------------

describe('hostile messages through processTelemetryMessage (generated)', () => {
  it('quarantines 10,000 generated hostile messages with a reason, at once, without a throw', async () => {
    const services = { default: harness(DEFAULT_LIMITS), raised: harness(RAISED_LIMITS) };
    const tally = { messages: 0, threw: 0, quarantined: 0, truncated: 0, bytes: 0, maxDeadLetterBytes: 0 };
    const reasons = new Map<string, number>();
    const started = performance.now();

    await fc.assert(
      fc.asyncProperty(
        hostileMessage,
        fc.constantFrom('default', 'raised') as fc.Arbitrary<'default' | 'raised'>,
        async (data, limits) => {
          const verdict = await send(services[limits], data);
          tally.messages++;
          tally.bytes += data.length;
          if (verdict.threw) tally.threw++;
          const problems = quarantineProblems(verdict);
          if (verdict.threw || problems.length > 0) {
            throw new Error(
              `${problems.join('; ')} for a ${data.length}-byte message starting ${JSON.stringify(Buffer.from(data.subarray(0, 120)).toString())}`,
            );
          }
          tally.quarantined++;
          for (const reject of verdict.quarantine!.rejects) {
            reasons.set(reject.reason, (reasons.get(reject.reason) ?? 0) + 1);
            if (reject.raw_truncated) tally.truncated++;
          }
          for (const letter of verdict.deadLetters)
            tally.maxDeadLetterBytes = Math.max(tally.maxDeadLetterBytes, letter.data.length);
        },
      ),
      { numRuns: 10_000 },
    );

    const seconds = (performance.now() - started) / 1000;
    console.info(
      `hostile: ${tally.messages} messages (${(tally.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s, ` +
        `${tally.threw} threw, ${tally.quarantined} quarantined, ${tally.truncated} raw previews, ` +
        `largest dead letter ${tally.maxDeadLetterBytes} B, reasons ${JSON.stringify(Object.fromEntries(reasons))}`,
    );
    expect(tally.messages).toBeGreaterThanOrEqual(10_000);
    expect(tally.threw).toBe(0);
    expect(tally.quarantined).toBe(tally.messages);
    // The generators reach every message-level and reading-level reason the contract has.
    expect([...reasons.keys()].sort()).toEqual([...REASON_PRIORITY].sort());
    for (const h of Object.values(services)) expectStructuredLines(h.logLines);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

const deep = (open: string, leaf: string, close: string, depth: number) =>
  `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
const withFields = (changes: Record<string, string | undefined>, extras = '') => {
  const fields = Object.entries({
    ...Object.fromEntries(Object.entries(VALID).map(([k, v]) => [k, JSON.stringify(v)])),
    ...changes,
  })
    .filter(([, text]) => text !== undefined)
    .map(([key, text]) => `${JSON.stringify(key)}:${text}`);
  return `{${extras}${extras && fields.length > 0 ? ',' : ''}${fields.join(',')}}`;
};
const manyKeys = (n: number, prefix = 'k') =>
  Array.from({ length: n }, (_, i) => `"${prefix}${i}":${i}`).join(',');
const MB_STRING = JSON.stringify('x'.repeat(1_000_000));
const invalidUtf8In = (text: string, at: number, bad: readonly number[]) =>
  Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at))]);

interface HostileCase {
  name: string;
  data: string | Uint8Array;
  reason: TelemetryRejectReason;
  /** The refused value is too big to keep: the quarantine holds a preview. */
  truncated?: boolean;
  limits?: 'default' | 'raised';
}

const targeted: HostileCase[] = [
  // nesting depth 100k
  {
    name: 'array nested 100k deep as the message',
    data: deep('[', '', ']', 100_000),
    reason: 'not_an_object',
    truncated: true,
  },
  {
    name: 'object nested 100k deep as the message',
    data: deep('{"a":', '1', '}', 100_000),
    reason: 'too_deeply_nested',
    truncated: true,
  },
  {
    name: '__proto__ chain 100k deep as the message',
    data: deep('{"__proto__":', '{}', '}', 100_000),
    reason: 'too_deeply_nested',
    truncated: true,
  },
  {
    name: 'array nested 100k deep in an unknown field',
    data: withFields({}, `"x":${deep('[', '', ']', 100_000)}`),
    reason: 'too_deeply_nested',
    truncated: true,
  },
  {
    name: 'array nested 100k deep as a required field',
    data: withFields({ speed_kmh: deep('[', '0', ']', 100_000) }),
    reason: 'too_deeply_nested',
    truncated: true,
  },
  {
    name: 'array nested 100k deep as readings',
    data: `{"readings":${deep('[', '', ']', 100_000)}}`,
    reason: 'not_an_object',
    truncated: true,
  },
  {
    name: 'object nested 100k deep as readings',
    data: `{"readings":${deep('{"a":', '1', '}', 100_000)}}`,
    reason: 'invalid_batch',
    truncated: true,
  },
  {
    name: 'batch element nested 100k deep',
    data: `{"readings":[${withFields({ rpm: '-1' })},${deep('[{"r":', '0', '}]', 50_000)}]}`,
    reason: 'not_an_object',
    truncated: true,
  },
  {
    name: 'array nested 100k deep, default limits',
    data: deep('[', '', ']', 100_000),
    reason: 'not_an_object',
    truncated: true,
    limits: 'default',
  },
  // 100k keys
  {
    name: '100k keys as the message',
    data: `{${manyKeys(100_000)}}`,
    reason: 'missing_field',
    truncated: true,
  },
  {
    name: '100k unknown keys on a reading with a bad speed',
    data: withFields({ speed_kmh: '"fast"' }, manyKeys(100_000)),
    reason: 'invalid_field',
    truncated: true,
  },
  {
    name: '100k keys as a field value',
    data: withFields({ gps_lat: `{${manyKeys(100_000)}}` }),
    reason: 'invalid_field',
    truncated: true,
  },
  {
    name: '100k stray keys on a batch envelope',
    data: `{"readings":[${VALID_TEXT}],${manyKeys(100_000)}}`,
    reason: 'invalid_batch',
    truncated: true,
  },
  {
    name: '100k readings in a batch',
    data: `{"readings":[${'0,'.repeat(99_999)}0]}`,
    reason: 'batch_too_large',
    truncated: true,
  },
  {
    name: '100k copies of one key',
    data: `{${Array.from({ length: 100_000 }, () => '"__proto__":{}').join(',')}}`,
    reason: 'missing_field',
  },
  {
    name: '100k keys, default limits',
    data: `{${manyKeys(100_000)}}`,
    reason: 'message_too_large',
    truncated: true,
    limits: 'default',
  },
  // 1 MB strings
  {
    name: '1 MB vehicle_id',
    data: withFields({ vehicle_id: MB_STRING }),
    reason: 'invalid_vehicle_id',
    truncated: true,
  },
  {
    name: '1 MB event_id',
    data: withFields({ event_id: MB_STRING }),
    reason: 'invalid_event_id',
    truncated: true,
  },
  {
    name: '1 MB timestamp',
    data: withFields({ timestamp: MB_STRING }),
    reason: 'invalid_timestamp',
    truncated: true,
  },
  {
    name: '1 MB of digits as the timestamp',
    data: withFields({ timestamp: `"${'1'.repeat(1_000_000)}x"` }),
    reason: 'invalid_timestamp',
    truncated: true,
  },
  {
    name: '1 MB of digits as a string speed',
    data: withFields({ speed_kmh: `"${'9'.repeat(1_000_000)}e"` }),
    reason: 'invalid_field',
    truncated: true,
  },
  {
    name: '1 MB key on a reading with no vehicle',
    data: withFields({ vehicle_id: undefined }, `${MB_STRING}:1`),
    reason: 'missing_field',
    truncated: true,
  },
  {
    name: '1 MB of malformed JSON',
    data: `{"vehicle_id":${MB_STRING.slice(0, -1)}`,
    reason: 'malformed_json',
    truncated: true,
  },
  {
    name: '1 MB of emoji in an unknown field with a bad speed',
    data: withFields({ speed_kmh: '-1' }, `"note":${JSON.stringify('😀'.repeat(250_000))}`),
    reason: 'out_of_range',
    truncated: true,
  },
  {
    name: '1 MB string, default limits',
    data: withFields({ vehicle_id: MB_STRING }),
    reason: 'message_too_large',
    truncated: true,
    limits: 'default',
  },
  // edge numbers
  ...(
    [
      ['speed_kmh', '1e309', 'invalid_field'],
      ['speed_kmh', '-1e309', 'invalid_field'],
      ['engine_temp_c', '1E400', 'invalid_field'],
      ['gps_lat', '9007199254740993', 'out_of_range'],
      ['gps_lon', '-123456789012345678901234567890', 'out_of_range'],
      ['rpm', '1.7976931348623157e308', 'out_of_range'],
      ['timestamp', '1e309', 'invalid_timestamp'],
      ['timestamp', '-1e309', 'invalid_timestamp'],
      ['timestamp', '123456789012345678901234567890', 'timestamp_in_future'],
      ['timestamp', '-9007199254740993', 'timestamp_too_old'],
      ['timestamp', '-0', 'timestamp_too_old'],
      ['timestamp', '1e-400', 'timestamp_too_old'],
      ['timestamp', '5e-324', 'timestamp_too_old'],
      ['speed_kmh', '"NaN"', 'invalid_field'],
      ['engine_temp_c', '"-Infinity"', 'invalid_field'],
      ['gps_lat', '"-0"', 'invalid_field'],
      ['gps_lon', '"1e309"', 'invalid_field'],
      ['fuel_level_pct', '"0x1F"', 'invalid_field'],
      ['timestamp', '"NaN"', 'invalid_timestamp'],
      ['vehicle_id', '-0', 'invalid_vehicle_id'],
    ] as const
  ).map(
    ([field, text, reason]): HostileCase => ({
      name: `${field} = ${text}`,
      data: withFields({ [field]: text }),
      reason,
    }),
  ),
  // invalid UTF-8, anywhere
  ...INVALID_UTF8.map(
    (bad): HostileCase => ({
      name: `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(' ')} inside a value`,
      data: invalidUtf8In(VALID_TEXT, VALID_TEXT.indexOf('veh-') + 4, bad),
      reason: 'malformed_json',
    }),
  ),
  {
    name: 'invalid UTF-8 in a key',
    data: invalidUtf8In(VALID_TEXT, 2, [0xed, 0xa0, 0x80]),
    reason: 'malformed_json',
  },
  { name: 'invalid UTF-8 first', data: invalidUtf8In(VALID_TEXT, 0, [0xff]), reason: 'malformed_json' },
  {
    name: 'invalid UTF-8 last',
    data: invalidUtf8In(VALID_TEXT, VALID_TEXT.length, [0xc3]),
    reason: 'malformed_json',
  },
  {
    name: 'invalid UTF-8 at the end of a 1 MB string',
    data: invalidUtf8In(withFields({ vehicle_id: MB_STRING }), 1_000_010, [0xc0, 0xaf]),
    reason: 'malformed_json',
    truncated: true,
  },
  // __proto__, constructor, prototype
  {
    name: 'a valid reading hidden under __proto__',
    data: `{"__proto__":${VALID_TEXT}}`,
    reason: 'missing_field',
  },
  {
    name: 'a batch of readings hidden under __proto__',
    data: `{"__proto__":{"readings":[${VALID_TEXT}]}}`,
    reason: 'missing_field',
  },
  {
    name: 'constructor.prototype with a bad speed',
    data: withFields({ speed_kmh: '"x"' }, '"constructor":{"prototype":{"polluted":true}}'),
    reason: 'invalid_field',
  },
  {
    name: 'prototype key with a missing vehicle',
    data: withFields({ vehicle_id: undefined }, '"prototype":{"polluted":true}'),
    reason: 'missing_field',
  },
  {
    name: '__proto__ next to readings',
    data: `{"readings":[${VALID_TEXT}],"__proto__":{"polluted":true}}`,
    reason: 'invalid_batch',
  },
  {
    name: '__proto__ as a batch element',
    data: `{"readings":[{"__proto__":${VALID_TEXT}}]}`,
    reason: 'missing_field',
  },
  {
    name: '__proto__ as the vehicle_id',
    data: withFields({ vehicle_id: '"__proto__"', speed_kmh: '{"__proto__":1}' }),
    reason: 'invalid_vehicle_id',
  },
  // arrays where objects are expected
  { name: 'a batch as a bare array', data: `[${VALID_TEXT}]`, reason: 'not_an_object' },
  { name: 'readings as one object', data: `{"readings":${VALID_TEXT}}`, reason: 'invalid_batch' },
  {
    name: 'a batch element wrapped in an array',
    data: `{"readings":[[${VALID_TEXT}]]}`,
    reason: 'not_an_object',
  },
  { name: 'an array as a field', data: withFields({ speed_kmh: '[54.5]' }), reason: 'invalid_field' },
  {
    name: 'an object as the timestamp',
    data: withFields({ timestamp: '{"iso":"2026-03-01T11:59:00Z"}' }),
    reason: 'invalid_timestamp',
  },
];

describe('hostile structures through processTelemetryMessage (targeted)', () => {
  const services = { default: harness(DEFAULT_LIMITS), raised: harness(RAISED_LIMITS) };

  it.each(targeted)('$name → $reason', async ({ data, reason, truncated, limits }) => {
    const started = performance.now();
    const quarantine = expectQuarantined(await send(services[limits ?? 'raised'], data), reason);
    expect(quarantine.rejects.some((reject) => reject.raw_truncated)).toBe(truncated ?? false);
    for (const reject of quarantine.rejects.filter((r) => r.raw_truncated)) {
      expect(typeof reject.raw === 'string' && reject.raw.length <= RAW_PREVIEW_CHARS).toBe(true);
    }
    // Linear work, a few hundred ms at most for 100k keys; quadratic work (a backtracking regex
    // took 1.4 s on a 20k-digit timestamp) would take minutes here.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  afterAll(() => {
    // No structure reached Object.prototype, and every line logged meanwhile was structured.
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const h of Object.values(services)) expectStructuredLines(h.logLines);
  });

  it('accepts __proto__, constructor and prototype as unknown fields of a valid reading, as plain data', () => {
    const extras =
      '"__proto__":{"vehicle_id":"other","polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1';
    const text = withFields({}, extras);
    const { readings, rejects } = parseTelemetryMessage(text, { nowMs: NOW_MS });
    expect(rejects).toEqual([]);
    const [reading] = readings;
    expect(reading!.vehicle_id).toBe(VALID.vehicle_id);
    expect(Object.getPrototypeOf(reading!.extra)).toBe(Object.prototype);
    expect(Object.keys(reading!.extra)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(JSON.stringify(reading!.extra)).toBe(`{${extras}}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe('function logging: one JSON entry with a severity per line', () => {
  const event = {
    specversion: '1.0',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/p/topics/telemetry-raw',
    id: 'event-17',
    data: { message: { data: '', messageId: '17' } },
  };

  it('logs a handler failure as one ERROR entry with its code and the event id, and rethrows for a retry', async () => {
    const lines: string[] = [];
    const handler = withFailureLog('processTelemetry', collectingLogger(lines), async () => {
      throw new FleetError('transient_redis', 'redis is\nunavailable', { metadata: { attempt: 1 } });
    });
    const thrown = await handler(event as never).catch((error: unknown) => error);

    expect(thrown).toBeInstanceOf(FleetError);
    expect(thrown).toMatchObject({ code: 'invocation_failed', transient: true });
    expect((thrown as Error).stack).not.toContain('\n');
    expect(lines).toHaveLength(1);
    expectStructuredLines(lines);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      severity: 'ERROR',
      cloudevent_id: 'event-17',
      transient: true,
      err: {
        type: 'FleetError',
        code: 'transient_redis',
        message: 'redis is\nunavailable',
        stack: expect.stringContaining('\n    at '),
      },
    });
  });

  it('under functions-framework a failed invocation answers 500 and every line the framework writes is an entry', async () => {
    const lines: string[] = [];
    const logger = collectingLogger(lines);
    functions.cloudEvent(
      'hostileFailing',
      withFailureLog('hostileFailing', logger, async () => {
        throw new Error('boom');
      }),
    );
    const plain: string[] = [];
    const writes = { out: process.stdout.write, err: process.stderr.write };
    const restoreConsole = routeConsoleToLogger(logger);
    // Anything reaching the real streams now bypassed the logger.
    process.stdout.write = ((chunk: string | Uint8Array) =>
      plain.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) =>
      plain.push(String(chunk)) > 0) as typeof process.stderr.write;
    const server = getTestServer('hostileFailing').listen(0);
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
      });
      expect(response.status).toBe(500);
    } finally {
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
      restoreConsole();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(plain).toEqual([]);
    expectStructuredLines(lines);
    const entries = lines.map(
      (line) => JSON.parse(line) as { severity: string; message: string; err?: { message: string } },
    );
    expect(entries.filter((entry) => entry.err?.message === 'boom')).toHaveLength(1);
    expect(entries.every((entry) => entry.severity === 'ERROR')).toBe(true);
  });

  it('an uncaught exception in a function instance is logged as entries, and the instance still exits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostile-crash-'));
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const source = join(dir, 'crashing-function.mts');
    await writeFile(
      source,
      [
        `import * as functions from ${JSON.stringify(join(repo, 'node_modules/@google-cloud/functions-framework/build/src/index.js'))};`,
        `import { installProcessLogging } from ${JSON.stringify(join(repo, 'shared/runtime/function-logging.ts'))};`,
        `installProcessLogging('crashingFunction');`,
        `functions.cloudEvent('crashingFunction', async () => {});`,
        `process.emitWarning('a warning, as Node prints them');`,
        // After the server listens (the framework installs its own handlers then).
        `setTimeout(() => { throw new Error('uncaught\\nboom'); }, 500);`,
      ].join('\n'),
    );
    try {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(repo, 'node_modules/@google-cloud/functions-framework/build/src/main.js'),
          '--target=crashingFunction',
          '--signature-type=cloudevent',
          `--source=${source}`,
          '--port=0',
        ],
        { cwd: repo, env: { ...process.env, NODE_ENV: 'development' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

      expect(code).toBe(16); // functions-framework's own exit code for a crash
      const lines = output.split('\n').filter((line) => line.length > 0);
      expectStructuredLines(lines.map((line) => `${line}\n`));
      const entries = lines.map(
        (line) => JSON.parse(line) as { severity: string; message: string; origin?: string },
      );
      expect(entries).toContainEqual(
        expect.objectContaining({ severity: 'CRITICAL', origin: 'uncaughtException' }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({ severity: 'WARNING', message: 'a warning, as Node prints them' }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({ severity: 'INFO', message: 'Serving function...' }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
