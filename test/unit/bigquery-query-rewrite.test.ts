// The BigQuery → DuckDB SQL rewrite of the BigQuery stand-in (local/bigquery-standin/query-rewrite.ts):
// what it translates, and what it refuses rather than answer differently from BigQuery. Running the
// rewritten SQL through the official client is specified in test/integration/bigquery-standin.test.ts.
import { describe, expect, it } from 'vitest';
import { QueryRewriteError, rewriteBigQuerySql } from '../../local/bigquery-standin/query-rewrite.js';

const options = { projectIds: ['fleet-project'] };
const rewrite = (sql: string): string => rewriteBigQuerySql(sql, options).sql;

function rejection(sql: string): { code: string; message: string } {
  try {
    rewriteBigQuerySql(sql, options);
  } catch (error) {
    if (error instanceof QueryRewriteError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`expected ${sql} to be rejected`);
}

describe('table paths', () => {
  it.each([
    ['a backticked project.dataset.table of the job project', 'SELECT * FROM `fleet-project.fleet.features`'],
    ['a backticked dataset.table', 'SELECT * FROM `fleet.features`'],
    ['separately backticked parts', 'SELECT * FROM `fleet-project`.`fleet`.`features`'],
    ['a project part outside the backticks', 'SELECT * FROM `fleet-project`.fleet.`features`'],
  ])('%s becomes "dataset"."table"', (_, sql) => {
    expect(rewrite(sql)).toMatch(/^SELECT \* FROM "?fleet"?\."features"$/);
  });

  it('keeps unquoted dataset.table and alias.column paths as they are', () => {
    expect(rewrite('SELECT f.speed_kmh FROM fleet.features AS f')).toBe(
      'SELECT f.speed_kmh FROM fleet.features AS f',
    );
  });

  it('drops an unquoted project qualifier that names the job project', () => {
    expect(rewriteBigQuerySql('SELECT 1 FROM myproject.fleet.t', { projectIds: ['myproject'] }).sql).toBe(
      'SELECT 1 FROM fleet.t',
    );
  });

  it.each([
    ['another project', 'SELECT * FROM `other-project.fleet.features`', /Project other-project/],
    ['a wildcard table', 'SELECT * FROM `fleet.features_*`', /wildcard table/],
    ['INFORMATION_SCHEMA', 'SELECT * FROM fleet.INFORMATION_SCHEMA.TABLES', /INFORMATION_SCHEMA/],
  ])('rejects %s', (_, sql, message) => {
    const { code, message: text } = rejection(sql);
    expect(code).toBe('QUERY_UNSUPPORTED');
    expect(text).toMatch(message);
  });
});

describe('literals and comments', () => {
  it.each([
    ['a double-quoted string is a string, not an identifier', `SELECT "v1"`, `SELECT 'v1'`],
    ['quotes inside strings are re-escaped', `SELECT "it's", 'a\\'b'`, `SELECT 'it''s', 'a''b'`],
    ['backslash escapes are decoded', `SELECT 'a\\tb\\x41\\u00e9'`, "SELECT 'a\tbAé'"],
    ['raw strings keep backslashes', `SELECT r'\\d+'`, `SELECT '\\d+'`],
    ['triple-quoted strings may hold quotes', `SELECT '''say "hi" it's'''`, `SELECT 'say "hi" it''s'`],
    [
      'decimal literals are FLOAT64',
      'SELECT 1.5, 2e3, .5',
      'SELECT CAST(1.5 AS DOUBLE), CAST(2e3 AS DOUBLE), CAST(.5 AS DOUBLE)',
    ],
    ['integer literals stay integers, hex becomes decimal', 'SELECT 42, 0x1F', 'SELECT 42, 31'],
    [
      'TIMESTAMP literals are instants',
      "SELECT TIMESTAMP '2024-03-01 08:00:00+00'",
      "SELECT TIMESTAMPTZ '2024-03-01 08:00:00+00'",
    ],
    [
      'DATETIME literals are civil times',
      "SELECT DATETIME '2024-03-01 08:00:00'",
      "SELECT TIMESTAMP '2024-03-01 08:00:00'",
    ],
    ['NUMERIC literals are exact', "SELECT NUMERIC '1.25'", "SELECT CAST('1.25' AS DECIMAL(38,9))"],
    ['comments of all three kinds vanish', 'SELECT 1 -- one\n# two\n/* three */ + 1', 'SELECT 1 + 1'],
    ['"#" inside a string is not a comment', "SELECT '#1'", "SELECT '#1'"],
  ])('%s', (_, sql, expected) => {
    expect(rewrite(sql)).toBe(expected);
  });

  it.each([
    ['an unclosed string', "SELECT 'oops", 'QUERY_SYNTAX'],
    ['an unknown escape', "SELECT '\\q'", 'QUERY_SYNTAX'],
    ['a BYTES literal', "SELECT b'abc'", 'QUERY_UNSUPPORTED'],
    ['an INT64 overflow', 'SELECT 9223372036854775808', 'QUERY_SYNTAX'],
  ])('rejects %s', (_, sql, code) => {
    expect(rejection(sql).code).toBe(code);
  });
});

describe('parameters', () => {
  it('turns @name into a DuckDB named parameter and lists the names once, lower-cased', () => {
    const result = rewriteBigQuerySql(
      'SELECT * FROM fleet.features WHERE vehicle_id = @Vehicle AND event_ts >= @since OR vehicle_id = @vehicle',
      options,
    );
    expect(result.sql).toBe(
      'SELECT * FROM fleet.features WHERE vehicle_id = $vehicle AND event_ts >= $since OR vehicle_id = $vehicle',
    );
    expect(result.namedParameters).toEqual(['vehicle', 'since']);
  });

  it('numbers positional ? parameters in order', () => {
    const result = rewriteBigQuerySql('SELECT ? + ?', options);
    expect(result.sql).toBe('SELECT $1 + $2');
    expect(result.positionalParameterCount).toBe(2);
  });

  it('never treats @ inside strings or comments as a parameter', () => {
    const result = rewriteBigQuerySql("SELECT '@x' -- @y\n", options);
    expect(result.namedParameters).toEqual([]);
    expect(result.sql).toBe("SELECT '@x'");
  });

  it('a parameter value can only be bound, never spliced: a hostile name is not even a token', () => {
    expect(rejection("SELECT @'; DROP TABLE x").code).toBe('QUERY_SYNTAX');
  });

  it.each([
    ['mixed named and positional parameters', 'SELECT @a, ?'],
    ['system variables', 'SELECT @@project_id'],
  ])('rejects %s', (_, sql) => {
    expect(() => rewriteBigQuerySql(sql, options)).toThrow(QueryRewriteError);
  });
});

describe('functions and expressions', () => {
  it.each([
    [
      'a window average',
      'SELECT AVG(speed_kmh) OVER (PARTITION BY vehicle_id ORDER BY event_ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS a FROM t',
      'SELECT avg(speed_kmh) OVER (PARTITION BY vehicle_id ORDER BY event_ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS a FROM t',
    ],
    [
      'COUNT(DISTINCT …)',
      'SELECT COUNT(DISTINCT vehicle_id) FROM t',
      'SELECT count(DISTINCT vehicle_id) FROM t',
    ],
    [
      'TIMESTAMP_SUB',
      'SELECT TIMESTAMP_SUB(@since, INTERVAL 5 MINUTE)',
      'SELECT (($since) - INTERVAL (5) MINUTE)',
    ],
    [
      'TIMESTAMP_ADD with a computed amount',
      'SELECT TIMESTAMP_ADD(ts, INTERVAL n * 2 SECOND)',
      'SELECT ((ts) + INTERVAL (n * 2) SECOND)',
    ],
    [
      'DATE_SUB stays a DATE',
      'SELECT DATE_SUB(d, INTERVAL 1 MONTH)',
      'SELECT CAST(((d) - INTERVAL (1) MONTH) AS DATE)',
    ],
    [
      'TIMESTAMP_DIFF counts whole parts',
      'SELECT TIMESTAMP_DIFF(a, b, HOUR)',
      "SELECT date_sub('hour', (b), (a))",
    ],
    ['TIMESTAMP_TRUNC', 'SELECT TIMESTAMP_TRUNC(ts, HOUR)', "SELECT date_trunc('hour', (ts))"],
    [
      'UNIX_SECONDS floors',
      'SELECT UNIX_SECONDS(ts)',
      'SELECT CAST(floor(epoch_us((ts)) / 1000000) AS BIGINT)',
    ],
    [
      'CAST to BigQuery type names',
      'SELECT CAST(x AS INT64), SAFE_CAST(y AS FLOAT64)',
      'SELECT CAST(x AS BIGINT), TRY_CAST(y AS DOUBLE)',
    ],
    [
      'CAST to TIMESTAMP is an instant',
      "SELECT CAST('2024-03-01' AS TIMESTAMP)",
      "SELECT CAST('2024-03-01' AS TIMESTAMPTZ)",
    ],
    [
      'EXTRACT(DAYOFWEEK) counts from Sunday = 1',
      'SELECT EXTRACT(DAYOFWEEK FROM ts)',
      'SELECT (EXTRACT(dow FROM ts) + 1)',
    ],
    ['CONCAT is NULL when any argument is', "SELECT CONCAT(a, '-', b)", "SELECT ((a) || ('-') || (b))"],
    ['LOG is the natural logarithm', 'SELECT LOG(x), LOG(x, 2)', 'SELECT ln((x)), (ln((x)) / ln((2)))'],
    [
      'COUNTIF and LOGICAL_AND',
      'SELECT COUNTIF(x > 1), LOGICAL_AND(ok)',
      'SELECT count_if(x > 1), bool_and(ok)',
    ],
    ['SELECT * EXCEPT', 'SELECT * EXCEPT (raw) FROM t', 'SELECT * EXCLUDE (raw) FROM t'],
    ['alias.* EXCEPT', 'SELECT t.* EXCEPT (raw) FROM t', 'SELECT t.* EXCLUDE (raw) FROM t'],
    [
      'REPLACE() as a function is not a star modifier',
      "SELECT a * REPLACE(b, 'x', 'y')",
      "SELECT a * replace(b, 'x', 'y')",
    ],
    [
      'CTEs and set operations',
      'WITH x AS (SELECT 1 AS a) SELECT a FROM x UNION ALL SELECT 2',
      'WITH x AS (SELECT 1 AS a) SELECT a FROM x UNION ALL SELECT 2',
    ],
    ['a column named like a type', 'SELECT timestamp, date FROM t', 'SELECT timestamp, date FROM t'],
  ])('%s', (_, sql, expected) => {
    expect(rewrite(sql)).toBe(expected);
  });

  it.each([
    ['functions outside the allowlist', 'SELECT ARRAY_AGG(x) FROM t', /Function ARRAY_AGG/],
    ['SUBSTR (position 0 differs)', 'SELECT SUBSTR(s, 0, 2) FROM t', /Function SUBSTR/],
    ['dotted function names', 'SELECT SAFE.LOG(x) FROM t', /Function SAFE\.LOG/],
    ['UNNEST', 'SELECT v FROM t, UNNEST(t.vs) AS v', /UNNEST/],
    ['array literals', 'SELECT [1, 2]', /"\["/],
    ['EXTRACT(WEEK), whose weeks start on Sunday', 'SELECT EXTRACT(WEEK FROM d) FROM t', /EXTRACT\(WEEK/],
    ['TIMESTAMP_ADD by months', 'SELECT TIMESTAMP_ADD(ts, INTERVAL 1 MONTH)', /MONTH/],
    ['formatted CASTs', "SELECT CAST(d AS STRING FORMAT 'YYYY')", /formatted type/],
    [
      'time travel',
      'SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 HOUR)',
      /SYSTEM_TIME/,
    ],
  ])('rejects %s', (_, sql, message) => {
    const { code, message: text } = rejection(sql);
    expect(code).toBe('QUERY_UNSUPPORTED');
    expect(text).toMatch(message);
  });
});

describe('statements', () => {
  it('drops trailing semicolons', () => {
    expect(rewrite('SELECT 1;;')).toBe('SELECT 1');
  });

  it.each([
    ['DML', 'DELETE FROM fleet.features WHERE TRUE', /Statement DELETE/],
    ['DDL', 'CREATE TABLE fleet.x AS SELECT 1', /Statement CREATE/],
    ['scripting', 'DECLARE x INT64 DEFAULT 1', /Statement DECLARE/],
    ['several statements', 'SELECT 1; SELECT 2', /multi-statement/],
  ])('rejects %s with a message naming what is unsupported', (_, sql, message) => {
    const { code, message: text } = rejection(sql);
    expect(code).toBe('QUERY_UNSUPPORTED');
    expect(text).toMatch(message);
    expect(text).toMatch(/not supported by the BigQuery stand-in/);
  });

  it('reports where a syntax problem is, as BigQuery does', () => {
    expect(rejection('SELECT 1,\n  (2').message).toMatch(/\[2:3\]/);
  });
});
