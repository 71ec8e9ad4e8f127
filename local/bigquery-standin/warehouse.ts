/**
 * The DuckDB side of the stand-in: one schema per dataset, one table per table, one DuckDB view per
 * logical view, resource metadata (schema modes, partitioning, clustering, view definitions, times)
 * as JSON in the private `_bq_standin` schema.
 * Every statement runs on one connection, one at a time: metadata changes are transactional and
 * per-query settings (search_path for the default dataset) cannot leak between requests.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDecimalValue,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  dateValue,
  StatementType,
  timestampTZValue,
  timestampValue,
} from '@duckdb/node-api';
import { BigQueryApiError, invalidQuery, notFound } from './api-error.js';
import { NUMERIC_SCALE, type StoredValue } from './insert-row-check.js';
import type { ParameterBindings } from './query-parameters.js';
import { quoteIdentifier } from './resource-ids.js';
import type { ResultField } from './result-encoding.js';
import {
  type Clustering,
  type ColumnSpec,
  columnDefinitionsSql,
  type TimePartitioning,
} from './table-schema.js';

const META_SCHEMA = '_bq_standin';

export interface DatasetRecord {
  projectId: string;
  datasetId: string;
  location: string;
  creationTime: string;
  lastModifiedTime: string;
  description?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
  defaultTableExpirationMs?: string;
}

/** What tables and views share: BigQuery lists both as tables of one dataset. */
interface TableCommon {
  projectId: string;
  datasetId: string;
  tableId: string;
  location: string;
  creationTime: string;
  lastModifiedTime: string;
  description?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
  expirationTime?: string;
}

/** A table that stores rows (type TABLE). */
export interface TableRecord extends TableCommon {
  columns: ColumnSpec[];
  timePartitioning?: TimePartitioning;
  clustering?: Clustering;
}

/** A logical view (type VIEW): a DuckDB view over the rewritten query. */
export interface ViewRecord extends TableCommon {
  /** As the client sent it (GoogleSQL), reported back by tables.get. */
  view: { query: string; useLegacySql: false };
  /** The query's result columns when the view was created: BigQuery keeps a view's schema from then. */
  fields: ResultField[];
}

export type TableOrViewRecord = TableRecord | ViewRecord;

export const isView = (record: TableOrViewRecord): record is ViewRecord => 'view' in record;

export interface QueryOutput {
  names: string[];
  types: DuckDBType[];
  rows: DuckDBValue[][];
}

/** Appends one checked value (see insert-row-check.ts for each type's JS representation). */
function appendStored(appender: DuckDBAppender, column: ColumnSpec, value: StoredValue): void {
  if (value === null) {
    appender.appendNull();
    return;
  }
  switch (column.type) {
    case 'STRING':
    case 'JSON':
      appender.appendVarchar(value as string);
      return;
    case 'INTEGER':
      appender.appendBigInt(value as bigint);
      return;
    case 'FLOAT':
      appender.appendDouble(value as number);
      return;
    case 'BOOLEAN':
      appender.appendBoolean(value as boolean);
      return;
    case 'NUMERIC':
      appender.appendDecimal(new DuckDBDecimalValue(value as bigint, 38, NUMERIC_SCALE));
      return;
    case 'TIMESTAMP':
      appender.appendTimestampTZ(timestampTZValue(value as bigint));
      return;
    case 'DATETIME':
      appender.appendTimestamp(timestampValue(value as bigint));
      return;
    case 'DATE':
      appender.appendDate(dateValue(value as number));
      return;
  }
}

/** DuckDB's message without its caret diagram: "Binder Error: Referenced column …". */
function duckdbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() || message;
}

/**
 * Database files open in this process. DuckDB locks a file against other processes only, and two
 * instances on one file in the same process would corrupt it.
 */
const openFiles = new Set<string>();

export class Warehouse {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** Lower-cased names a dataset may not take: DuckDB's own schemas and catalogs. */
    readonly reservedNames: ReadonlySet<string>,
    private readonly path: string,
  ) {}

  static async open(dbPath: string): Promise<Warehouse> {
    const path = dbPath === ':memory:' ? dbPath : resolve(dbPath);
    if (path !== ':memory:') {
      if (openFiles.has(path)) throw new Error(`DuckDB file ${path} is already open in this process`);
      openFiles.add(path);
    }
    try {
      if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
      // Queries come from clients: no file, network or extension access from SQL.
      const instance = await DuckDBInstance.create(path, { enable_external_access: 'false' });
      try {
        const connection = await instance.connect();
        const reserved = await Warehouse.prepare(connection);
        return new Warehouse(instance, connection, reserved, path);
      } catch (error) {
        instance.closeSync();
        throw error;
      }
    } catch (error) {
      openFiles.delete(path);
      throw error;
    }
  }

  /** Session settings and metadata tables; returns the names datasets may not take. */
  private static async prepare(connection: DuckDBConnection): Promise<Set<string>> {
    // BigQuery TIMESTAMPs are instants shown in UTC; BigQuery sorts NULLs first ascending, last descending.
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run("SET default_null_order = 'nulls_first_on_asc_last_on_desc'");
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA}`);
    await connection.run(
      `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.datasets (dataset_key VARCHAR PRIMARY KEY, resource JSON NOT NULL)`,
    );
    await connection.run(
      `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.tables (dataset_key VARCHAR, table_key VARCHAR, resource JSON NOT NULL, PRIMARY KEY (dataset_key, table_key))`,
    );
    const catalogs = await connection.runAndReadAll('SELECT database_name FROM duckdb_databases()');
    const reserved = new Set(['main', 'information_schema', 'pg_catalog', 'temp', 'system', META_SCHEMA]);
    for (const [name] of catalogs.getRows()) reserved.add(String(name).toLowerCase());
    return reserved;
  }

  /** Runs `work` after everything queued before it; one statement sequence at a time. */
  private exclusive<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => work(this.connection));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async transaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
    await connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await connection.run('COMMIT');
      return result;
    } catch (error) {
      await connection.run('ROLLBACK');
      throw error;
    }
  }

  close(): Promise<void> {
    return this.exclusive(async (connection) => {
      connection.closeSync();
      this.instance.closeSync();
      openFiles.delete(this.path);
    });
  }

  // ------------------------------------------------------------------------------------- datasets

  getDataset(datasetId: string): Promise<DatasetRecord | undefined> {
    return this.exclusive(async (connection) => {
      const reader = await connection.runAndReadAll(
        `SELECT resource FROM ${META_SCHEMA}.datasets WHERE dataset_key = $1`,
        [datasetId.toLowerCase()],
      );
      const row = reader.getRows()[0];
      return row ? (JSON.parse(String(row[0])) as DatasetRecord) : undefined;
    });
  }

  listDatasets(): Promise<DatasetRecord[]> {
    return this.exclusive(async (connection) => {
      const reader = await connection.runAndReadAll(
        `SELECT resource FROM ${META_SCHEMA}.datasets ORDER BY dataset_key`,
      );
      return reader.getRows().map(([resource]) => JSON.parse(String(resource)) as DatasetRecord);
    });
  }

  /**
   * `record.datasetId` must have passed `assertDatasetId`. False, and nothing created, when the name
   * is taken (a concurrent datasets.insert got there first).
   */
  createDataset(record: DatasetRecord): Promise<boolean> {
    return this.exclusive((connection) =>
      this.transaction(connection, async () => {
        const taken = await connection.runAndReadAll(
          `SELECT count(*) FROM ${META_SCHEMA}.datasets WHERE dataset_key = $1`,
          [record.datasetId.toLowerCase()],
        );
        if (Number(taken.getRows()[0]?.[0] ?? 0) > 0) return false;
        await connection.run(`CREATE SCHEMA ${quoteIdentifier(record.datasetId)}`);
        await connection.run(`INSERT INTO ${META_SCHEMA}.datasets VALUES ($1, $2)`, [
          record.datasetId.toLowerCase(),
          JSON.stringify(record),
        ]);
        return true;
      }),
    );
  }

  deleteDataset(record: DatasetRecord, deleteContents: boolean): Promise<void> {
    const key = record.datasetId.toLowerCase();
    return this.exclusive((connection) =>
      this.transaction(connection, async () => {
        const tables = await connection.runAndReadAll(
          `SELECT count(*) FROM ${META_SCHEMA}.tables WHERE dataset_key = $1`,
          [key],
        );
        if (!deleteContents && Number(tables.getRows()[0]?.[0] ?? 0) > 0) {
          throw new BigQueryApiError(
            400,
            'resourceInUse',
            `Dataset ${record.projectId}:${record.datasetId} is still in use`,
          );
        }
        await connection.run(`DROP SCHEMA ${quoteIdentifier(record.datasetId)} CASCADE`);
        await connection.run(`DELETE FROM ${META_SCHEMA}.tables WHERE dataset_key = $1`, [key]);
        await connection.run(`DELETE FROM ${META_SCHEMA}.datasets WHERE dataset_key = $1`, [key]);
      }),
    );
  }

  // --------------------------------------------------------------------------------------- tables

  getTable(datasetId: string, tableId: string): Promise<TableOrViewRecord | undefined> {
    return this.exclusive(async (connection) => {
      const reader = await connection.runAndReadAll(
        `SELECT resource FROM ${META_SCHEMA}.tables WHERE dataset_key = $1 AND table_key = $2`,
        [datasetId.toLowerCase(), tableId.toLowerCase()],
      );
      const row = reader.getRows()[0];
      return row ? (JSON.parse(String(row[0])) as TableOrViewRecord) : undefined;
    });
  }

  listTables(datasetId: string): Promise<TableOrViewRecord[]> {
    return this.exclusive(async (connection) => {
      const reader = await connection.runAndReadAll(
        `SELECT resource FROM ${META_SCHEMA}.tables WHERE dataset_key = $1 ORDER BY table_key`,
        [datasetId.toLowerCase()],
      );
      return reader.getRows().map(([resource]) => JSON.parse(String(resource)) as TableOrViewRecord);
    });
  }

  /**
   * Ids and column names in `record` must have passed the identifier assertions. False, and nothing
   * created, when the name is taken (a concurrent tables.insert got there first).
   */
  createTable(record: TableRecord): Promise<boolean> {
    return this.exclusive((connection) =>
      this.transaction(connection, async () => {
        if (await this.tableNameTaken(connection, record)) return false;
        await connection.run(
          `CREATE TABLE ${this.tableSql(record)} (${columnDefinitionsSql(record.columns)})`,
        );
        await this.insertTableMetadata(connection, record);
        return true;
      }),
    );
  }

  /**
   * `sql` is one rewritten SELECT without parameters whose table names are all qualified (it was
   * described with no default dataset), so the DuckDB view reads the same tables whoever queries it.
   * False, and nothing created, when the name is taken.
   */
  createView(record: ViewRecord, sql: string): Promise<boolean> {
    return this.exclusive((connection) =>
      this.transaction(connection, async () => {
        if (await this.tableNameTaken(connection, record)) return false;
        try {
          await connection.run(`CREATE VIEW ${this.tableSql(record)} AS ${sql}`);
        } catch (error) {
          throw this.queryError(error);
        }
        await this.insertTableMetadata(connection, record);
        return true;
      }),
    );
  }

  private async tableNameTaken(connection: DuckDBConnection, record: TableOrViewRecord): Promise<boolean> {
    const reader = await connection.runAndReadAll(
      `SELECT count(*) FROM ${META_SCHEMA}.tables WHERE dataset_key = $1 AND table_key = $2`,
      [record.datasetId.toLowerCase(), record.tableId.toLowerCase()],
    );
    return Number(reader.getRows()[0]?.[0] ?? 0) > 0;
  }

  private async insertTableMetadata(connection: DuckDBConnection, record: TableOrViewRecord): Promise<void> {
    await connection.run(`INSERT INTO ${META_SCHEMA}.tables VALUES ($1, $2, $3)`, [
      record.datasetId.toLowerCase(),
      record.tableId.toLowerCase(),
      JSON.stringify(record),
    ]);
  }

  deleteTable(record: TableOrViewRecord): Promise<void> {
    return this.exclusive((connection) =>
      this.transaction(connection, async () => {
        await connection.run(`DROP ${isView(record) ? 'VIEW' : 'TABLE'} ${this.tableSql(record)}`);
        await connection.run(`DELETE FROM ${META_SCHEMA}.tables WHERE dataset_key = $1 AND table_key = $2`, [
          record.datasetId.toLowerCase(),
          record.tableId.toLowerCase(),
        ]);
      }),
    );
  }

  countRows(record: TableRecord): Promise<number> {
    return this.exclusive(async (connection) => {
      const reader = await connection.runAndReadAll(`SELECT count(*) FROM ${this.tableSql(record)}`);
      return Number(reader.getRows()[0]?.[0] ?? 0);
    });
  }

  /** Appends rows (values in column order) atomically: all of them or none. */
  insertRows(record: TableRecord, rows: readonly StoredValue[][]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.exclusive((connection) =>
      this.transaction(connection, async () => {
        // The appender writes inside the open transaction, so a failure rolls every row back.
        const appender = await connection.createAppender(record.tableId, record.datasetId);
        try {
          for (const row of rows) {
            record.columns.forEach((column, index) => {
              appendStored(appender, column, row[index] ?? null);
            });
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
      }),
    );
  }

  /** Rows in storage order, for tabledata.list. */
  readRows(record: TableRecord, offset: number, limit: number): Promise<DuckDBValue[][]> {
    const columnList = record.columns.map((column) => quoteIdentifier(column.name)).join(', ');
    return this.exclusive(async (connection) => {
      const reader = await connection.runAndReadAll(
        `SELECT ${columnList} FROM ${this.tableSql(record)} LIMIT $1 OFFSET $2`,
        [BigInt(limit), BigInt(offset)],
      );
      return reader.getRows();
    });
  }

  // -------------------------------------------------------------------------------------- queries

  /**
   * Runs one rewritten SELECT with its bindings. `defaultDatasetId` (validated, existing) resolves
   * unqualified table names, as BigQuery's defaultDataset does; without it they resolve nowhere.
   */
  query(
    sql: string,
    bindings: ParameterBindings,
    defaultDatasetId: string | undefined,
  ): Promise<QueryOutput> {
    return this.withPrepared(sql, bindings, defaultDatasetId, async (prepared) => {
      const reader = await prepared.runAndReadAll();
      return { names: reader.columnNames(), types: reader.columnTypes(), rows: reader.getRows() };
    });
  }

  /** The result columns of a query, without running it (dry runs). */
  describe(
    sql: string,
    bindings: ParameterBindings,
    defaultDatasetId: string | undefined,
  ): Promise<QueryOutput> {
    return this.withPrepared(sql, bindings, defaultDatasetId, async (prepared) => {
      const names: string[] = [];
      const types: DuckDBType[] = [];
      for (let i = 0; i < prepared.columnCount; i++) {
        names.push(prepared.columnName(i));
        types.push(prepared.columnType(i));
      }
      return { names, types, rows: [] };
    });
  }

  private withPrepared<T>(
    sql: string,
    bindings: ParameterBindings,
    defaultDatasetId: string | undefined,
    use: (prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>) => Promise<T>,
  ): Promise<T> {
    return this.exclusive(async (connection) => {
      await connection.run(`SET search_path = '${defaultDatasetId ?? 'main'}'`);
      let prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>;
      try {
        prepared = await connection.prepare(sql);
      } catch (error) {
        throw this.queryError(error);
      }
      try {
        if (prepared.statementType !== StatementType.SELECT) {
          throw invalidQuery('Only SELECT statements are supported by the BigQuery stand-in');
        }
        if (bindings.mode !== 'none') prepared.bind(bindings.values, bindings.types);
        return await use(prepared);
      } catch (error) {
        throw error instanceof BigQueryApiError ? error : this.queryError(error);
      } finally {
        prepared.destroySync();
      }
    });
  }

  private queryError(error: unknown): BigQueryApiError {
    const message = duckdbMessage(error);
    const missingTable = /^Catalog Error: Table with name (\S+) does not exist/.exec(message);
    if (missingTable) {
      const error404 = notFound(`Table ${missingTable[1]} (as DuckDB reports it: ${message})`);
      return error404;
    }
    return invalidQuery(`Query error (DuckDB): ${message}`, { cause: error });
  }

  private tableSql(record: { datasetId: string; tableId: string }): string {
    return `${quoteIdentifier(record.datasetId)}.${quoteIdentifier(record.tableId)}`;
  }
}
