import { describe, expect, it } from 'vitest';
import {
  archiveSubscriptions,
  type CloudStorageSubscriptionSettings,
  cloudStorageSubscriptionProblems,
  objectName,
  parseFilenameDatetimeFormat,
  validateCloudStorageSubscription,
} from '../../shared/archive-subscriptions.js';
import { FleetError } from '../../shared/errors.js';

// Object names and settings bounds as Google's CloudStorageConfig reference states them ("Filename
// prefix, suffix, and datetime", "File batching"); its own examples are the first cases.

const AT = new Date(Date.UTC(2023, 8, 25, 4, 10, 0));
const UUID = 'uNiQuE';

function nameFor(format: string, prefix = 'prod_', suffix = '_archive'): string {
  const parsed = parseFilenameDatetimeFormat(format);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return objectName({ filenamePrefix: prefix, filenameSuffix: suffix }, parsed.value, AT, UUID);
}

describe('object names: <prefix><UTC datetime>_<uuid><suffix>', () => {
  it.each([
    // The reference's examples.
    ['', 'prod_2023-09-25T04:10:00+00:00_uNiQuE_archive'],
    ['YYYY-MM-DD/hh_mm_ssZ', 'prod_2023-09-25/04_10_00Z_uNiQuE_archive'],
    // A trailing separator replaces the one before the uuid.
    ['YYYY-MM-DDThh_mm_ss-', 'prod_2023-09-25T04_10_00-uNiQuE_archive'],
    ['YYYY/MM/DD/hh/mm/ss/', 'prod_2023/09/25/04/10/00/uNiQuE_archive'],
    // T and the zone are matchers, not separators: the "_" stays.
    ['YYYYMMDDThhmmss', 'prod_20230925T041000_uNiQuE_archive'],
    ['YY:MM:DD_hh:mm:ss+00:00', 'prod_23:09:25_04:10:00+00:00_uNiQuE_archive'],
    // Matchers in any order.
    ['hh-mm-ss_DD-MM-YYYY', 'prod_04-10-00_25-09-2023_uNiQuE_archive'],
  ])('format %j names %s', (format, expected) => {
    expect(nameFor(format)).toBe(expected);
  });

  it('without prefix or suffix is <UTC datetime>_<uuid>', () => {
    expect(nameFor('', '', '')).toBe('2023-09-25T04:10:00+00:00_uNiQuE');
  });

  it('pads every field and renders in UTC', () => {
    const parsed = parseFilenameDatetimeFormat('YYYY-MM-DD/hh_mm_ssZ');
    if (!parsed.ok) throw new Error('valid');
    const name = objectName(
      { filenamePrefix: 'features/', filenameSuffix: '.ndjson' },
      parsed.value,
      new Date('2026-01-02T03:04:05.678-05:00'),
      'u',
    );
    expect(name).toBe('features/2026-01-02/08_04_05Z_u.ndjson');
  });
});

describe('filenameDatetimeFormat validation', () => {
  it.each([
    ['YY-YYYY-MM-DD-hh-mm-ss', 'the year matcher appears 2 times'],
    ['YYYY-MMM-DD-hh-mm-ss', '"M" at position 7 is neither a matcher nor a separator'],
    ['YYYY-MM-DD-hh-mm', 'the second matcher is missing'],
    ['YYYY-MM-DDThh-mm-ssT', 'the T matcher appears 2 times'],
    ['YYYY-MM-DD-hh-mm-ssZ+00:00', 'the zone matcher appears 2 times'],
    ['YYYY.MM.DD hh:mm:ss', '"." at position 4 is neither a matcher nor a separator'],
    ['yyyy-MM-DD-hh-mm-ss', 'the year matcher is missing'],
  ])('%j is refused: %s', (format, problem) => {
    const parsed = parseFilenameDatetimeFormat(format);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems.join('; ')).toContain(problem);
  });
});

const valid: CloudStorageSubscriptionSettings = {
  subscription: 'feature-rows-archive',
  topic: 'feature-rows',
  filenamePrefix: 'features/',
  filenameSuffix: '.ndjson',
  filenameDatetimeFormat: 'YYYY-MM-DD/hh_mm_ssZ',
  maxDurationS: 300,
  maxBytes: 1000,
  maxMessages: 1000,
  ackDeadlineS: 600,
  outputFormat: 'text',
};

describe('settings bounds', () => {
  it('accepts the bounds themselves: 1-10 min, 1 KB-10 GiB, >= 1000 messages', () => {
    for (const settings of [
      { ...valid, maxDurationS: 60, maxBytes: 1000, maxMessages: 1000 },
      { ...valid, maxDurationS: 600, maxBytes: 10 * 1024 ** 3, maxMessages: 10_000_000 },
    ]) {
      expect(cloudStorageSubscriptionProblems(settings)).toEqual([]);
    }
  });

  it.each([
    [{ maxDurationS: 59 }, 'maxDurationS 59 is outside 60..600'],
    [{ maxDurationS: 601, ackDeadlineS: 600 }, 'maxDurationS 601 is outside 60..600'],
    [{ maxDurationS: 120, ackDeadlineS: 60 }, "maxDurationS 120 exceeds the subscription's ack deadline 60"],
    [{ maxBytes: 999 }, 'maxBytes 999 is outside 1000..10737418240'],
    [{ maxBytes: 10 * 1024 ** 3 + 1 }, 'maxBytes 10737418241 is outside'],
    [{ maxMessages: 999 }, 'maxMessages 999 is outside 1000..'],
    [{ maxBytes: 1500.5 }, 'maxBytes 1500.5 is outside'],
    [{ filenameSuffix: 'x/' }, 'filenameSuffix must not end in "/"'],
    [{ filenamePrefix: 'a\nb' }, 'filenamePrefix must not contain a carriage return or line feed'],
    [{ filenamePrefix: 'x'.repeat(1000) }, 'object names would exceed 1024 bytes'],
    [{ subscription: 'goog-archive' }, 'subscription "goog-archive"'],
    [{ filenameDatetimeFormat: 'YYYY' }, 'filenameDatetimeFormat "YYYY": the month matcher is missing'],
  ] as const)('%j: %s', (change, problem) => {
    expect(cloudStorageSubscriptionProblems({ ...valid, ...change }).join('; ')).toContain(problem);
  });

  it('validate throws one config_invalid error naming every problem', () => {
    const error = (() => {
      try {
        validateCloudStorageSubscription({ ...valid, maxDurationS: 30, maxBytes: 10 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toMatchObject({ code: 'config_invalid' });
    expect((error as FleetError).message).toContain('maxDurationS 30');
    expect((error as FleetError).message).toContain('maxBytes 10');
    expect((error as FleetError).metadata.problems).toHaveLength(2);
  });
});

describe('the archives', () => {
  const archives = archiveSubscriptions({ telemetry: 'telemetry-raw', featureRows: 'feature-rows' });

  it('are valid Cloud Storage subscriptions on their topics with features/ and raw/ prefixes', () => {
    expect(archives.features).toMatchObject({ topic: 'feature-rows', filenamePrefix: 'features/' });
    expect(archives.raw).toMatchObject({ topic: 'telemetry-raw', filenamePrefix: 'raw/' });
    for (const settings of [archives.features, archives.raw]) {
      expect(validateCloudStorageSubscription(settings)).toBe(settings);
    }
    expect(archives.features.subscription).not.toBe(archives.raw.subscription);
  });

  it('cut objects of minutes or many MB, not one per flush', () => {
    for (const settings of [archives.features, archives.raw]) {
      expect(settings.maxDurationS).toBeGreaterThanOrEqual(300);
      expect(settings.maxBytes).toBeGreaterThanOrEqual(100 * 1024 ** 2);
    }
  });
});
