import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { FeatureTableRef, SqlParam, SqlQuery, SqlValue } from '../ports/warehouse.js';
import { FEATURE_COLUMNS } from '../rows/feature-row.js';
import { featuresByIdentitySql, tablePath } from './features-by-identity.js';
import { ModelError } from './model-error.js';
import type { DataInterval } from './training-set.js';

/**
 * Data-quality expectations for a data interval, checked before anything trains on it
 * (workflows/expectations.yaml): row volume per hour, the share of duplicate rows (copies of one
 * identity), null rates and value ranges per column.
 */
const COLUMN_TYPES = new Map(FEATURE_COLUMNS.map((c) => [c.name, c.type]));
const share = z.number().min(0).max(1);

export const ExpectationsSchema = z
  .object({
    volume: z
      .object({
        min_rows_per_hour: z.number().nonnegative(),
        max_rows_per_hour: z.number().positive().optional(),
      })
      .strict(),
    duplicates: z.object({ max_share: share }).strict(),
    null_rates: z.record(z.string(), share).default({}),
    ranges: z
      .record(
        z.string(),
        z
          .object({ min: z.number(), max: z.number(), max_outside_share: share.default(0) })
          .strict()
          .refine((r) => r.min <= r.max, { message: 'min must not exceed max' }),
      )
      .default({}),
  })
  .strict()
  .superRefine((value, ctx) => {
    // Column names end up in SQL text: only the features table's own names pass.
    for (const [section, numericOnly] of [
      ['null_rates', false],
      ['ranges', true],
    ] as const) {
      for (const name of Object.keys(value[section])) {
        const type = COLUMN_TYPES.get(name);
        if (type === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [section, name],
            message: 'not a column of the features table',
          });
        else if (numericOnly && type !== 'FLOAT64' && type !== 'INT64') {
          ctx.addIssue({
            code: 'custom',
            path: [section, name],
            message: 'ranges apply to numeric columns only',
          });
        }
      }
    }
  });

export type Expectations = z.infer<typeof ExpectationsSchema>;

export function parseExpectations(yamlText: string, source = 'expectations'): Expectations {
  let document: unknown;
  try {
    document = parseYaml(yamlText);
  } catch (error) {
    throw new ModelError('invalid_expectations', `${source}: not YAML: ${(error as Error).message}`);
  }
  const parsed = ExpectationsSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new ModelError('invalid_expectations', `${source}: ${problems}`);
  }
  return parsed.data;
}

/** The columns a profile needs, in a stable order (their index names the result columns). */
function profiledColumns(expectations: Expectations): string[] {
  return [...new Set([...Object.keys(expectations.null_rates), ...Object.keys(expectations.ranges)])].sort();
}

/**
 * One query, one row: rows stored in the interval (copies included), identities, and per profiled
 * column its nulls and (for ranges) its non-null values outside [min, max], over one row per identity.
 */
export function qualityProfileQuery(options: {
  table: FeatureTableRef;
  interval: DataInterval;
  expectations: Expectations;
}): SqlQuery {
  const { expectations } = options;
  const columns = profiledColumns(expectations);
  const params: Record<string, SqlParam> = {
    start: { type: 'TIMESTAMP', value: new Date(options.interval.startMs).toISOString() },
    end: { type: 'TIMESTAMP', value: new Date(options.interval.endMs).toISOString() },
  };
  const aggregates = ['COUNT(*) AS row_count'];
  columns.forEach((name, c) => {
    aggregates.push(`COUNTIF(${name} IS NULL) AS null_${c}`);
    const range = expectations.ranges[name];
    if (range !== undefined) {
      params[`min_${c}`] = { type: 'FLOAT64', value: range.min };
      params[`max_${c}`] = { type: 'FLOAT64', value: range.max };
      aggregates.push(`COUNTIF(${name} < @min_${c} OR ${name} > @max_${c}) AS outside_${c}`);
    }
  });
  const sql = `WITH copies AS (
  SELECT vehicle_id, event_ts, COUNT(*) AS copies FROM ${tablePath(options.table)}
  WHERE event_ts >= @start AND event_ts < @end
  GROUP BY vehicle_id, event_ts
),
readings AS (
  ${featuresByIdentitySql(options.table)}
)
SELECT * FROM
  (SELECT IFNULL(SUM(copies), 0) AS stored_rows, COUNT(*) AS identities FROM copies) AS stored
  CROSS JOIN (
    SELECT
      ${aggregates.join(',\n      ')}
    FROM readings
  ) AS profile`;
  return { sql, params };
}

export interface QualityFailure {
  /** Stable name: volume.min_rows_per_hour, duplicates.max_share, null_rate.<column>, range.<column>. */
  expectation: string;
  observed: number;
  /** What was expected, as a comparison (`>= 500`, `<= 0.05`, `<= 0 outside [0, 400]`). */
  expected: string;
}

export interface QualityReport {
  passed: boolean;
  /** Rows after de-duplication by identity. */
  rows: number;
  storedRows: number;
  failures: QualityFailure[];
  /** How many expectations were evaluated. */
  checked: number;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** Judges the profile (the query's single row) against the expectations. */
export function evaluateExpectations(
  expectations: Expectations,
  profileRow: Readonly<Record<string, SqlValue>>,
  interval: DataInterval,
): QualityReport {
  const count = (name: string): number => {
    const value = profileRow[name];
    if (typeof value !== 'number') throw new ModelError('invalid_request', `quality profile lacks ${name}`);
    return value;
  };
  const rows = count('row_count');
  const storedRows = count('stored_rows');
  const identities = count('identities');
  const failures: QualityFailure[] = [];
  let checked = 0;
  const check = (expectation: string, ok: boolean, observed: number, expected: string) => {
    checked++;
    if (!ok) failures.push({ expectation, observed: round6(observed), expected });
  };

  const hours = (interval.endMs - interval.startMs) / 3_600_000;
  const perHour = rows / hours;
  const { volume } = expectations;
  check(
    'volume.min_rows_per_hour',
    perHour >= volume.min_rows_per_hour,
    perHour,
    `>= ${volume.min_rows_per_hour}`,
  );
  if (volume.max_rows_per_hour !== undefined) {
    check(
      'volume.max_rows_per_hour',
      perHour <= volume.max_rows_per_hour,
      perHour,
      `<= ${volume.max_rows_per_hour}`,
    );
  }
  const duplicateShare = storedRows === 0 ? 0 : (storedRows - identities) / storedRows;
  check(
    'duplicates.max_share',
    duplicateShare <= expectations.duplicates.max_share,
    duplicateShare,
    `<= ${expectations.duplicates.max_share}`,
  );
  // With no rows there is no rate to judge; the volume expectation has already failed.
  if (rows > 0) {
    profiledColumns(expectations).forEach((name, c) => {
      const nulls = count(`null_${c}`);
      const maxNullRate = expectations.null_rates[name];
      if (maxNullRate !== undefined) {
        check(`null_rate.${name}`, nulls / rows <= maxNullRate, nulls / rows, `<= ${maxNullRate}`);
      }
      const range = expectations.ranges[name];
      if (range !== undefined) {
        const present = rows - nulls;
        const outside = present === 0 ? 0 : count(`outside_${c}`) / present;
        check(
          `range.${name}`,
          outside <= range.max_outside_share,
          outside,
          `<= ${range.max_outside_share} outside [${range.min}, ${range.max}]`,
        );
      }
    });
  }
  return { passed: failures.length === 0, rows, storedRows, failures, checked };
}
