import { rewriteBigQuerySql } from './local/bigquery-standin/query-rewrite.js';
const qs = [
  "SELECT vehicle_id, AVG(speed) OVER (PARTITION BY vehicle_id ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS a FROM `test-project.fleet.features` WHERE ts >= TIMESTAMP_SUB(@since, INTERVAL 1 HOUR) AND vehicle_id = @Vehicle",
  "SELECT COUNT(DISTINCT vehicle_id), t.* EXCEPT (x) FROM fleet.features AS t -- comment\n # another\n WHERE name = \"it's\\n\" /* c */ GROUP BY 1 ORDER BY 1 DESC;",
  "select * except (a), * replace (1 as b) from `fleet`.`t`",
  "SELECT a * REPLACE(b, 'x', 'y') FROM t",
  "SELECT CAST(x AS INT64), SAFE_CAST(y AS TIMESTAMP), EXTRACT(DAYOFWEEK FROM ts), TIMESTAMP '2024-01-01 00:00:00+00', DATE_ADD(d, INTERVAL 1 DAY), TIMESTAMP_DIFF(a, b, MINUTE), 1.5, 0x1F, r'a\\b', '''tri'ple'''",
  "SELECT ? , ?",
  "WITH x AS (SELECT 1 AS a) SELECT a FROM x UNION ALL SELECT 2",
];
for (const q of qs) { try { console.log(JSON.stringify(rewriteBigQuerySql(q, { projectIds: ['test-project'] }))); } catch (e) { console.log('ERR', (e as Error).message); } }
const bad = ["INSERT INTO t VALUES (1)", "SELECT 1; SELECT 2", "SELECT ARRAY_AGG(x) FROM t", "SELECT * FROM `other-proj.ds.t`", "SELECT * FROM ds.INFORMATION_SCHEMA.TABLES", "SELECT SUBSTR(a, 0) FROM t", "SELECT @a, ?", "SELECT x FROM t, UNNEST(y)", "SELECT b'abc'", "SELECT @@project_id", "SELECT [1,2]", "SELECT 'unclosed", "SELECT * FROM `ds.t_*`", "SELECT SAFE.LOG(1)", "SELECT CAST(x AS STRING FORMAT 'x')", "SELECT EXTRACT(WEEK FROM d)", "SELECT TIMESTAMP_ADD(ts, INTERVAL 1 MONTH)", "select 99999999999999999999"];
for (const q of bad) { try { console.log('UNEXPECTED OK', JSON.stringify(rewriteBigQuerySql(q, { projectIds: ['test-project'] }))); } catch (e) { console.log('ERR', (e as any).code, (e as Error).message); } }
