/**
 * The archives are Pub/Sub Cloud Storage subscriptions: one on the feature-rows topic (GCS
 * `features/`), one on telemetry-raw (GCS `raw/`, the messages' bytes as sent, unknown fields and
 * all). Their settings live here, once: the infra creates the subscriptions from them and the
 * local writer (local/servers/cloud-storage-subscription-writer.ts) imitates them on the emulator, which
 * has no Cloud Storage subscriptions.
 *
 * Semantics follow Google's CloudStorageConfig reference (pubsub.proto, and the "Cloud Storage
 * subscriptions" guide, section "Filename prefix, suffix, and datetime" and "File batching"):
 * - object name `<filenamePrefix><UTC datetime>_<uuid><filenameSuffix>`; when the datetime format
 *   ends in a separator (`-`, `_`, `:`, `/`) that character replaces the `_` before the uuid;
 * - datetime matchers: year (`YYYY` or `YY`), `MM`, `DD`, `hh`, `mm`, `ss`, each exactly once;
 *   optionally once `T` and once a zone (`Z` or `+00:00`); any number of `-` `_` `:` `/`;
 *   without a format the name reads `2023-09-25T04:10:00+00:00`;
 * - max duration 1-10 min (default 5), at most the subscription's ack deadline; max bytes 1 KB to
 *   10 GiB (an object exceeds it only when one message alone is larger); max messages >= 1000;
 * - text format: only message data, a newline between consecutive messages.
 */
import { FleetError } from './errors.js';

export interface CloudStorageSubscriptionSettings {
  /** Subscription id. */
  subscription: string;
  topic: string;
  filenamePrefix: string;
  filenameSuffix: string;
  /** Empty for Google's default form. */
  filenameDatetimeFormat: string;
  /** An object is finalized this long after its first message at the latest. */
  maxDurationS: number;
  /** ...or when the next message would take it past this many bytes. */
  maxBytes: number;
  /** ...or when it holds this many messages. */
  maxMessages: number;
  /** Must be at least maxDurationS: messages stay unacknowledged until their object is written. */
  ackDeadlineS: number;
  outputFormat: 'text';
}

export const CLOUD_STORAGE_LIMITS = {
  minDurationS: 60,
  maxDurationS: 600,
  /** The reference says 1 KB; gcloud enforces 1000 B. */
  minBytes: 1000,
  maxBytes: 10 * 1024 ** 3,
  minMessages: 1000,
  minAckDeadlineS: 10,
  maxAckDeadlineS: 600,
} as const;

/** Google's form when filenameDatetimeFormat is empty (its sample: 2023-09-25T04:10:00+00:00). */
export const DEFAULT_FILENAME_DATETIME_FORMAT = 'YYYY-MM-DDThh:mm:ss+00:00';

export interface ArchiveSubscriptions {
  /** Feature rows: GCS features/. */
  features: CloudStorageSubscriptionSettings;
  /** Telemetry as sent: GCS raw/. */
  raw: CloudStorageSubscriptionSettings;
}

/**
 * Both archives, for the configured topics. GCS bills every object write, so objects are cut by
 * time (10 min, the maximum) or size (256 MiB), whichever comes first: at the 50k readings/s
 * target (~65 MB/s of rows) that is a write every few seconds; at low traffic one every 10 min.
 * The message count is a backstop (a feature-rows message is a whole flush of rows).
 */
export function archiveSubscriptions(topics: {
  telemetry: string;
  featureRows: string;
}): ArchiveSubscriptions {
  const common = {
    filenameDatetimeFormat: 'YYYY-MM-DD/hh_mm_ssZ',
    maxDurationS: 600,
    maxBytes: 256 * 1024 ** 2,
    maxMessages: 1_000_000,
    ackDeadlineS: 600,
    outputFormat: 'text',
  } as const;
  return {
    // features/2026-03-14/09_58_00Z_<uuid>.ndjson: each message is NDJSON, so is the object.
    features: {
      ...common,
      subscription: `${topics.featureRows}-archive`,
      topic: topics.featureRows,
      filenamePrefix: 'features/',
      filenameSuffix: '.ndjson',
    },
    // raw/2026-03-14/09_58_00Z_<uuid>.txt: the bytes each device sent, one message per line as long
    // as messages hold no newline (malformed ones are kept as they came).
    raw: {
      ...common,
      subscription: `${topics.telemetry}-archive`,
      topic: topics.telemetry,
      filenamePrefix: 'raw/',
      filenameSuffix: '.txt',
    },
  };
}

type DatetimeToken =
  | { kind: 'year4' | 'year2' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'T' }
  | { kind: 'zone' | 'separator'; text: string };

type MatcherKind = Exclude<DatetimeToken['kind'], 'separator'>;
const MATCHERS: ReadonlyArray<readonly [text: string, kind: MatcherKind, group: string]> = [
  ['YYYY', 'year4', 'year'],
  ['YY', 'year2', 'year'],
  ['MM', 'month', 'month'],
  ['DD', 'day', 'day'],
  ['hh', 'hour', 'hour'],
  ['mm', 'minute', 'minute'],
  ['ss', 'second', 'second'],
  ['T', 'T', 'T'],
  ['Z', 'zone', 'zone'],
  ['+00:00', 'zone', 'zone'],
];
const REQUIRED = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;
const SEPARATORS = new Set(['-', '_', ':', '/']);

export interface ParsedDatetimeFormat {
  tokens: readonly DatetimeToken[];
}

/** The format's tokens, or the reasons it is not a valid filenameDatetimeFormat. */
export function parseFilenameDatetimeFormat(
  format: string,
): { ok: true; value: ParsedDatetimeFormat } | { ok: false; problems: string[] } {
  const source = format === '' ? DEFAULT_FILENAME_DATETIME_FORMAT : format;
  const tokens: DatetimeToken[] = [];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  let i = 0;
  while (i < source.length) {
    const matcher = MATCHERS.find(([text]) => source.startsWith(text, i));
    if (matcher !== undefined) {
      const [text, kind, group] = matcher;
      tokens.push(kind === 'zone' ? { kind, text } : { kind });
      seen.set(group, (seen.get(group) ?? 0) + 1);
      i += text.length;
      continue;
    }
    const char = source[i]!;
    if (SEPARATORS.has(char)) {
      tokens.push({ kind: 'separator', text: char });
      i += 1;
      continue;
    }
    problems.push(`"${char}" at position ${i} is neither a matcher nor a separator (- _ : /)`);
    i += 1;
  }
  for (const group of [...REQUIRED, 'T', 'zone']) {
    const count = seen.get(group) ?? 0;
    if (count > 1) problems.push(`the ${group} matcher appears ${count} times (at most once)`);
    if (count === 0 && (REQUIRED as readonly string[]).includes(group)) {
      problems.push(`the ${group} matcher is missing`);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { tokens } };
}

/**
 * Every problem with the settings, in words a user can act on; empty when they are valid. Bounds
 * are the reference's; the local writer refuses what Pub/Sub would refuse.
 */
export function cloudStorageSubscriptionProblems(settings: CloudStorageSubscriptionSettings): string[] {
  const L = CLOUD_STORAGE_LIMITS;
  const problems: string[] = [];
  const name = settings.subscription;
  if (!/^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/.test(name) || name.startsWith('goog')) {
    problems.push(
      `subscription "${name}": 3-255 characters, starting with a letter, of letters, digits and - _ . ~ + %, not starting with "goog"`,
    );
  }
  const intIn = (value: number, what: string, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${what} ${value} is outside ${min}..${max}`);
    }
  };
  intIn(settings.maxDurationS, 'maxDurationS', L.minDurationS, L.maxDurationS);
  intIn(settings.maxBytes, 'maxBytes', L.minBytes, L.maxBytes);
  intIn(settings.maxMessages, 'maxMessages', L.minMessages, Number.MAX_SAFE_INTEGER);
  intIn(settings.ackDeadlineS, 'ackDeadlineS', L.minAckDeadlineS, L.maxAckDeadlineS);
  if (settings.maxDurationS > settings.ackDeadlineS) {
    problems.push(
      `maxDurationS ${settings.maxDurationS} exceeds the subscription's ack deadline ${settings.ackDeadlineS}`,
    );
  }
  if (settings.filenameSuffix.endsWith('/')) problems.push('filenameSuffix must not end in "/"');
  for (const [what, text] of [
    ['filenamePrefix', settings.filenamePrefix],
    ['filenameSuffix', settings.filenameSuffix],
  ] as const) {
    if (/[\r\n]/.test(text)) problems.push(`${what} must not contain a carriage return or line feed`);
  }
  if (settings.filenamePrefix.startsWith('.well-known/acme-challenge/')) {
    problems.push('filenamePrefix must not start with ".well-known/acme-challenge/"');
  }
  const parsed = parseFilenameDatetimeFormat(settings.filenameDatetimeFormat);
  if (!parsed.ok) {
    problems.push(
      ...parsed.problems.map((p) => `filenameDatetimeFormat "${settings.filenameDatetimeFormat}": ${p}`),
    );
  } else {
    const sample = objectName(settings, parsed.value, new Date(Date.UTC(2000, 0, 1)), '0'.repeat(36));
    if (Buffer.byteLength(sample) > 1024) problems.push('object names would exceed 1024 bytes');
  }
  if (settings.outputFormat !== 'text') problems.push(`outputFormat "${settings.outputFormat}": only text`);
  return problems;
}

/** The settings when valid; otherwise a config_invalid error listing every problem. */
export function validateCloudStorageSubscription(
  settings: CloudStorageSubscriptionSettings,
): CloudStorageSubscriptionSettings {
  const problems = cloudStorageSubscriptionProblems(settings);
  if (problems.length > 0) {
    throw new FleetError(
      'config_invalid',
      `Cloud Storage subscription ${settings.subscription}: ${problems.join('; ')}`,
      { metadata: { subscription: settings.subscription, problems } },
    );
  }
  return settings;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** `<prefix><UTC datetime>_<uuid><suffix>`, the datetime rendered from the parsed format. */
export function objectName(
  settings: Pick<CloudStorageSubscriptionSettings, 'filenamePrefix' | 'filenameSuffix'>,
  format: ParsedDatetimeFormat,
  at: Date,
  uuid: string,
): string {
  let datetime = '';
  for (const token of format.tokens) {
    switch (token.kind) {
      case 'year4':
        datetime += pad(at.getUTCFullYear(), 4);
        break;
      case 'year2':
        datetime += pad(at.getUTCFullYear() % 100, 2);
        break;
      case 'month':
        datetime += pad(at.getUTCMonth() + 1, 2);
        break;
      case 'day':
        datetime += pad(at.getUTCDate(), 2);
        break;
      case 'hour':
        datetime += pad(at.getUTCHours(), 2);
        break;
      case 'minute':
        datetime += pad(at.getUTCMinutes(), 2);
        break;
      case 'second':
        datetime += pad(at.getUTCSeconds(), 2);
        break;
      case 'T':
        datetime += 'T';
        break;
      case 'zone':
      case 'separator':
        datetime += token.text;
        break;
    }
  }
  // A format ending in a separator supplies the one before the uuid itself.
  const endsInSeparator = format.tokens.at(-1)?.kind === 'separator';
  return `${settings.filenamePrefix}${datetime}${endsInSeparator ? '' : '_'}${uuid}${settings.filenameSuffix}`;
}
