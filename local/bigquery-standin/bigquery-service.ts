/**
 * The BigQuery v2 operations the stand-in answers, in terms of API resources: validates requests,
 * applies BigQuery's semantics (404/409 rules, insertAll row errors and insertId de-duplication,
 * logical views, query jobs and paging) and delegates storage and SQL to the DuckDB `Warehouse`.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  alreadyExists,
  BigQueryApiError,
  invalid,
  invalidQuery,
  notFound,
  notImplemented,
} from './api-error.js';
import { InsertIdWindow } from './insert-id-window.js';
import { type InsertFieldError, insertRowChecker, type StoredValue } from './insert-row-check.js';
import { decodePageToken, encodePageToken, type QueryJob, QueryJobs } from './query-jobs.js';
import { bindQueryParameters } from './query-parameters.js';
import { QueryRewriteError, type RewrittenQuery, rewriteBigQuerySql } from './query-rewrite.js';
import { assertDatasetId, assertJobId, assertProjectId, assertTableId } from './resource-ids.js';
import {
  describeResultColumns,
  encodeResultValue,
  type ResultCell,
  type ResultField,
  renderRows,
  tableResultFields,
  timestampOutput,
} from './result-encoding.js';
import {
  normalizeClustering,
  normalizeSchema,
  normalizeTimePartitioning,
  schemaResource,
} from './table-schema.js';
import {
  type DatasetRecord,
  isView,
  type TableOrViewRecord,
  type TableRecord,
  type ViewRecord,
  type Warehouse,
} from './warehouse.js';

export interface BigQueryServiceOptions {
  defaultProjectId?: string;
  insertIdWindowMs: number;
  /** `http://host:port` of the server, for selfLinks. */
  baseUrl: () => string;
}

type Json = Record<string, unknown>;

/** Rows per page when the caller gives no maxResults (the real API pages by ~10 MB). */
const DEFAULT_PAGE_ROWS = 10_000;
const DEFAULT_LOCATION = 'US';

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asRecord = (value: unknown): Json => (isRecord(value) ? value : {});

const etag = (value: unknown): string => createHash('md5').update(JSON.stringify(value)).digest('base64');

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

function stringLabels(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  return Object.fromEntries(Object.entries(value).map(([key, label]) => [key, String(label)]));
}

/** Copies the optional descriptive fields BigQuery keeps on datasets and tables. */
function descriptiveFields(body: Json): {
  description?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
} {
  const description = optionalString(body.description);
  const friendlyName = optionalString(body.friendlyName);
  const labels = stringLabels(body.labels);
  return {
    ...(description !== undefined ? { description } : {}),
    ...(friendlyName !== undefined ? { friendlyName } : {}),
    ...(labels !== undefined ? { labels } : {}),
  };
}

function pageWindow(query: URLSearchParams, total: number): { offset: number; limit: number } {
  const token = query.get('pageToken');
  let offset = 0;
  if (token) {
    const decoded = decodePageToken(token);
    if (decoded === undefined) throw invalid(`Invalid page token: ${token}`);
    offset = decoded;
  } else if (query.get('startIndex')) {
    offset = Number(query.get('startIndex'));
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('Invalid startIndex');
  }
  const max = query.get('maxResults');
  const limit = max === null ? DEFAULT_PAGE_ROWS : Number(max);
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid(`Invalid maxResults: ${max}`);
  return { offset: Math.min(offset, total), limit };
}

/** Query configuration keys whose semantics the stand-in does not implement. */
const UNSUPPORTED_QUERY_OPTIONS = [
  'destinationTable',
  'tableDefinitions',
  'timePartitioning',
  'rangePartitioning',
  'clustering',
  'schemaUpdateOptions',
  'scriptOptions',
  'createSession',
  'continuous',
  'destinationEncryptionConfiguration',
] as const;

/** `#legacySQL`/`#standardSQL` at the start of the text overrides the flag; the API defaults to legacy. */
function isLegacySql(sql: string, useLegacySql: unknown): boolean {
  const dialectPrefix = /^\s*#(standardSQL|legacySQL)\b/i.exec(sql)?.[1]?.toLowerCase();
  return dialectPrefix ? dialectPrefix === 'legacysql' : useLegacySql !== false;
}

/** Fields of a ViewDefinition the stand-in implements; any other one is refused (501). */
const SUPPORTED_VIEW_FIELDS = new Set(['query', 'useLegacySql']);

interface QueryRun {
  fields: ResultField[];
  rows: ResultCell[][];
}

export class BigQueryService {
  private readonly insertIds: InsertIdWindow;
  private readonly jobs = new QueryJobs();
  /** insertAll's check-dedupe-insert-remember runs one request at a time, so insertIds are exact. */
  private insertTail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly options: BigQueryServiceOptions,
  ) {
    this.insertIds = new InsertIdWindow(options.insertIdWindowMs);
  }

  // ------------------------------------------------------------------------------------- datasets

  private datasetResource(record: DatasetRecord): Json {
    const { projectId, datasetId } = record;
    const resource = {
      kind: 'bigquery#dataset',
      id: `${projectId}:${datasetId}`,
      selfLink: `${this.options.baseUrl()}/bigquery/v2/projects/${projectId}/datasets/${datasetId}`,
      datasetReference: { datasetId, projectId },
      location: record.location,
      creationTime: record.creationTime,
      lastModifiedTime: record.lastModifiedTime,
      type: 'DEFAULT',
      access: [],
      ...(record.description !== undefined ? { description: record.description } : {}),
      ...(record.friendlyName !== undefined ? { friendlyName: record.friendlyName } : {}),
      ...(record.labels !== undefined ? { labels: record.labels } : {}),
      ...(record.defaultTableExpirationMs !== undefined
        ? { defaultTableExpirationMs: record.defaultTableExpirationMs }
        : {}),
    };
    return { ...resource, etag: etag(resource) };
  }

  /** The dataset, exactly as named (BigQuery ids are case-sensitive), or a 404. */
  private async requireDataset(projectId: string, datasetId: string): Promise<DatasetRecord> {
    assertProjectId(projectId);
    assertDatasetId(datasetId);
    const record = await this.warehouse.getDataset(datasetId);
    if (!record || record.datasetId !== datasetId || record.projectId !== projectId) {
      throw notFound(`Dataset ${projectId}:${datasetId}`);
    }
    return record;
  }

  async insertDataset(projectId: string, body: Json): Promise<Json> {
    assertProjectId(projectId);
    const reference = asRecord(body.datasetReference);
    const datasetId = reference.datasetId;
    if (typeof datasetId !== 'string')
      throw invalid('Required parameter is missing: datasetReference.datasetId');
    if (reference.projectId !== undefined && reference.projectId !== projectId) {
      throw invalid(`datasetReference.projectId ${String(reference.projectId)} does not match ${projectId}`);
    }
    assertDatasetId(datasetId);
    if (this.warehouse.reservedNames.has(datasetId.toLowerCase())) {
      throw invalid(
        `Dataset ID ${datasetId} is reserved by the BigQuery stand-in (a DuckDB schema or catalog name)`,
      );
    }
    const existing = await this.warehouse.getDataset(datasetId);
    if (existing) {
      const clash =
        existing.datasetId === datasetId && existing.projectId === projectId
          ? ''
          : ` (the stand-in keeps one case-insensitive namespace of datasets; ${existing.projectId}:${existing.datasetId} exists)`;
      throw alreadyExists(`Dataset ${projectId}:${datasetId}${clash}`);
    }
    const now = String(Date.now());
    const record: DatasetRecord = {
      projectId,
      datasetId,
      location: optionalString(body.location) ?? DEFAULT_LOCATION,
      creationTime: now,
      lastModifiedTime: now,
      ...descriptiveFields(body),
      ...(body.defaultTableExpirationMs !== undefined
        ? { defaultTableExpirationMs: String(body.defaultTableExpirationMs) }
        : {}),
    };
    // Checked again when creating: a concurrent datasets.insert of the same name may have won.
    if (!(await this.warehouse.createDataset(record)))
      throw alreadyExists(`Dataset ${projectId}:${datasetId}`);
    return this.datasetResource(record);
  }

  async getDataset(projectId: string, datasetId: string): Promise<Json> {
    return this.datasetResource(await this.requireDataset(projectId, datasetId));
  }

  async deleteDataset(projectId: string, datasetId: string, deleteContents: boolean): Promise<void> {
    const record = await this.requireDataset(projectId, datasetId);
    await this.warehouse.deleteDataset(record, deleteContents);
    this.insertIds.forgetDataset(`${datasetId.toLowerCase()}.`);
  }

  async listDatasets(projectId: string, query: URLSearchParams): Promise<Json> {
    assertProjectId(projectId);
    const datasets = (await this.warehouse.listDatasets()).filter((record) => record.projectId === projectId);
    const { offset, limit } = pageWindow(query, datasets.length);
    const page = datasets.slice(offset, offset + limit).map((record) => ({
      kind: 'bigquery#dataset',
      id: `${record.projectId}:${record.datasetId}`,
      datasetReference: { datasetId: record.datasetId, projectId: record.projectId },
      location: record.location,
      ...(record.labels !== undefined ? { labels: record.labels } : {}),
    }));
    return {
      kind: 'bigquery#datasetList',
      etag: etag(page),
      ...(page.length > 0 ? { datasets: page } : {}),
      ...(offset + limit < datasets.length ? { nextPageToken: encodePageToken(offset + limit) } : {}),
    };
  }

  // --------------------------------------------------------------------------------------- tables

  /** A table's or a view's resource; a view stores no rows (numRows 0) and carries its definition. */
  private tableResource(record: TableOrViewRecord, numRows: number): Json {
    const { projectId, datasetId, tableId } = record;
    const resource = {
      kind: 'bigquery#table',
      id: `${projectId}:${datasetId}.${tableId}`,
      selfLink: `${this.options.baseUrl()}/bigquery/v2/projects/${projectId}/datasets/${datasetId}/tables/${tableId}`,
      tableReference: { projectId, datasetId, tableId },
      ...(isView(record)
        ? { schema: { fields: record.fields }, view: record.view }
        : {
            schema: schemaResource(record.columns),
            ...(record.timePartitioning ? { timePartitioning: record.timePartitioning } : {}),
            ...(record.clustering ? { clustering: record.clustering } : {}),
          }),
      ...(record.description !== undefined ? { description: record.description } : {}),
      ...(record.friendlyName !== undefined ? { friendlyName: record.friendlyName } : {}),
      ...(record.labels !== undefined ? { labels: record.labels } : {}),
      ...(record.expirationTime !== undefined ? { expirationTime: record.expirationTime } : {}),
      numBytes: '0',
      numLongTermBytes: '0',
      numRows: String(numRows),
      creationTime: record.creationTime,
      lastModifiedTime: record.lastModifiedTime,
      type: isView(record) ? 'VIEW' : 'TABLE',
      location: record.location,
    };
    return { ...resource, etag: etag(resource) };
  }

  private async requireTable(
    projectId: string,
    datasetId: string,
    tableId: string,
  ): Promise<TableOrViewRecord> {
    await this.requireDataset(projectId, datasetId);
    assertTableId(tableId);
    const record = await this.warehouse.getTable(datasetId, tableId);
    if (!record || record.tableId !== tableId) throw notFound(`Table ${projectId}:${datasetId}.${tableId}`);
    return record;
  }

  /** A table that stores rows; a view is refused with `viewError` (400 invalid), as BigQuery does. */
  private async requireStoredTable(
    projectId: string,
    datasetId: string,
    tableId: string,
    viewError: string,
  ): Promise<TableRecord> {
    const record = await this.requireTable(projectId, datasetId, tableId);
    if (isView(record)) throw invalid(viewError);
    return record;
  }

  async insertTable(projectId: string, datasetId: string, body: Json): Promise<Json> {
    const dataset = await this.requireDataset(projectId, datasetId);
    const reference = asRecord(body.tableReference);
    const tableId = reference.tableId;
    if (typeof tableId !== 'string') throw invalid('Required parameter is missing: tableReference.tableId');
    if (
      (reference.datasetId !== undefined && reference.datasetId !== datasetId) ||
      (reference.projectId !== undefined && reference.projectId !== projectId)
    ) {
      throw invalid('tableReference does not match the dataset in the request path');
    }
    assertTableId(tableId);
    for (const feature of ['materializedView', 'externalDataConfiguration', 'rangePartitioning'] as const) {
      if (body[feature] !== undefined) throw notImplemented(`Table option ${feature}`);
    }
    const existing = await this.warehouse.getTable(datasetId, tableId);
    if (existing) {
      const clash =
        existing.tableId === tableId
          ? ''
          : ` (table names are case-insensitive here; ${existing.tableId} exists)`;
      throw alreadyExists(`Table ${projectId}:${datasetId}.${tableId}${clash}`);
    }
    if (body.view !== undefined) return this.insertView(dataset, tableId, body);
    const columns = normalizeSchema(body.schema);
    const now = String(Date.now());
    const record: TableRecord = {
      projectId,
      datasetId,
      tableId,
      location: dataset.location,
      columns,
      creationTime: now,
      lastModifiedTime: now,
      ...(body.timePartitioning !== undefined
        ? { timePartitioning: normalizeTimePartitioning(body.timePartitioning, columns) }
        : {}),
      ...(body.clustering !== undefined ? { clustering: normalizeClustering(body.clustering, columns) } : {}),
      ...descriptiveFields(body),
      ...(body.expirationTime !== undefined ? { expirationTime: String(body.expirationTime) } : {}),
    };
    if (!(await this.warehouse.createTable(record))) {
      throw alreadyExists(`Table ${projectId}:${datasetId}.${tableId}`);
    }
    return this.tableResource(record, 0);
  }

  /**
   * tables.insert of a logical view: GoogleSQL only, no query parameters, every table named with
   * its dataset (a view has no default dataset). The query is rewritten and described now, so a
   * view that cannot run is refused at creation, and its result columns become the view's schema.
   */
  private async insertView(dataset: DatasetRecord, tableId: string, body: Json): Promise<Json> {
    const { projectId, datasetId } = dataset;
    const definition = asRecord(body.view);
    for (const key of Object.keys(definition)) {
      if (!SUPPORTED_VIEW_FIELDS.has(key)) throw notImplemented(`View option ${key}`);
    }
    const query = definition.query;
    if (typeof query !== 'string' || query.trim() === '')
      throw invalid('Required parameter is missing: view.query');
    if (isLegacySql(query, definition.useLegacySql)) {
      throw notImplemented(
        'A legacy SQL view (set view.useLegacySql: false; the API defaults to legacy SQL when it is not set)',
      );
    }
    if (body.schema !== undefined) throw notImplemented('A view with schema (column descriptions)');
    for (const option of ['timePartitioning', 'clustering'] as const) {
      if (body[option] !== undefined) throw invalid(`${option} cannot be set on a view.`);
    }
    let rewritten: RewrittenQuery;
    let fields: ResultField[];
    try {
      rewritten = this.rewrite(projectId, query);
      if (rewritten.namedParameters.length > 0 || rewritten.positionalParameterCount > 0) {
        throw invalid('Query parameters cannot be used in a view definition.');
      }
      const output = await this.warehouse.describe(rewritten.sql, { mode: 'none' }, undefined);
      fields = describeResultColumns(output.names, output.types);
      fields.forEach((field, index) => {
        if (field.name !== output.names[index]) {
          throw invalid(`A view's columns must be named, but column ${index + 1} has no name.`);
        }
      });
    } catch (error) {
      // A query error in a view definition is an invalid table, not a failed query job.
      if (error instanceof BigQueryApiError && error.reason === 'invalidQuery') {
        throw invalid(error.message);
      }
      throw error;
    }
    const seen = new Set<string>();
    for (const field of fields) {
      const key = field.name.toLowerCase();
      if (seen.has(key)) {
        throw invalid(
          `Duplicate column names in the result are not supported. Found duplicate(s): ${field.name}`,
        );
      }
      seen.add(key);
    }
    const now = String(Date.now());
    const record: ViewRecord = {
      projectId,
      datasetId,
      tableId,
      location: dataset.location,
      view: { query, useLegacySql: false },
      fields,
      creationTime: now,
      lastModifiedTime: now,
      ...descriptiveFields(body),
      ...(body.expirationTime !== undefined ? { expirationTime: String(body.expirationTime) } : {}),
    };
    // Checked again when creating: a concurrent tables.insert of the same name may have won.
    if (!(await this.warehouse.createView(record, rewritten.sql))) {
      throw alreadyExists(`Table ${projectId}:${datasetId}.${tableId}`);
    }
    return this.tableResource(record, 0);
  }

  async getTable(projectId: string, datasetId: string, tableId: string): Promise<Json> {
    const record = await this.requireTable(projectId, datasetId, tableId);
    return this.tableResource(record, isView(record) ? 0 : await this.warehouse.countRows(record));
  }

  async deleteTable(projectId: string, datasetId: string, tableId: string): Promise<void> {
    const record = await this.requireTable(projectId, datasetId, tableId);
    await this.warehouse.deleteTable(record);
    this.insertIds.forgetTable(`${datasetId.toLowerCase()}.${tableId.toLowerCase()}`);
  }

  async listTables(projectId: string, datasetId: string, query: URLSearchParams): Promise<Json> {
    await this.requireDataset(projectId, datasetId);
    const tables = await this.warehouse.listTables(datasetId);
    const { offset, limit } = pageWindow(query, tables.length);
    const page = tables.slice(offset, offset + limit).map((record) => ({
      kind: 'bigquery#table',
      id: `${projectId}:${datasetId}.${record.tableId}`,
      tableReference: { projectId, datasetId, tableId: record.tableId },
      ...(isView(record)
        ? { type: 'VIEW', view: { useLegacySql: false } }
        : {
            type: 'TABLE',
            ...(record.timePartitioning ? { timePartitioning: record.timePartitioning } : {}),
            ...(record.clustering ? { clustering: record.clustering } : {}),
          }),
      ...(record.labels !== undefined ? { labels: record.labels } : {}),
      creationTime: record.creationTime,
    }));
    return {
      kind: 'bigquery#tableList',
      etag: etag(page),
      ...(page.length > 0 ? { tables: page } : {}),
      totalItems: tables.length,
      ...(offset + limit < tables.length ? { nextPageToken: encodePageToken(offset + limit) } : {}),
    };
  }

  // ------------------------------------------------------------------------------------ tabledata

  /**
   * tabledata.insertAll. Rows are judged one by one; unless `skipInvalidRows`, one invalid row stops
   * the whole request (valid rows come back with reason "stopped" and nothing is stored), as in
   * BigQuery. Rows whose insertId was stored within the window are acknowledged and skipped.
   */
  insertAll(projectId: string, datasetId: string, tableId: string, body: Json): Promise<Json> {
    const run = this.insertTail.then(() => this.insertAllNow(projectId, datasetId, tableId, body));
    this.insertTail = run.catch(() => undefined);
    return run;
  }

  private async insertAllNow(
    projectId: string,
    datasetId: string,
    tableId: string,
    body: Json,
  ): Promise<Json> {
    const record = await this.requireStoredTable(
      projectId,
      datasetId,
      tableId,
      'Cannot add rows to a table of type VIEW.',
    );
    if (body.templateSuffix !== undefined) throw notImplemented('insertAll with templateSuffix');
    const rows = body.rows;
    if (!Array.isArray(rows) || rows.length === 0) throw invalid('No rows present in the request.');
    const ignoreUnknownValues = body.ignoreUnknownValues === true;
    const skipInvalidRows = body.skipInvalidRows === true;

    const checkRow = insertRowChecker(record.columns, { ignoreUnknownValues });
    const checked = rows.map((row) => {
      const entry = asRecord(row);
      const insertId = entry.insertId === undefined ? undefined : String(entry.insertId);
      return { insertId, check: checkRow(entry.json) };
    });
    const insertErrors: { index: number; errors: InsertFieldError[] }[] = [];
    checked.forEach(({ check }, index) => {
      if (!check.ok) insertErrors.push({ index, errors: check.errors });
    });
    const response: Json = { kind: 'bigquery#tableDataInsertAllResponse' };
    if (insertErrors.length > 0 && !skipInvalidRows) {
      const stopped = checked.map(({ check }, index) =>
        check.ok
          ? { index, errors: [{ reason: 'stopped', location: '', debugInfo: '', message: '' }] }
          : undefined,
      );
      const all = [...insertErrors, ...stopped.filter((entry) => entry !== undefined)];
      return { ...response, insertErrors: all.sort((a, b) => a.index - b.index) };
    }

    const tableKey = `${datasetId.toLowerCase()}.${tableId.toLowerCase()}`;
    const toStore: StoredValue[][] = [];
    const storedIds = new Set<string>();
    for (const { insertId, check } of checked) {
      if (!check.ok) continue;
      if (insertId !== undefined && insertId !== '') {
        if (storedIds.has(insertId) || this.insertIds.has(tableKey, insertId)) continue;
        storedIds.add(insertId);
      }
      toStore.push(check.values);
    }
    await this.warehouse.insertRows(record, toStore);
    this.insertIds.remember(tableKey, storedIds);
    return insertErrors.length > 0 ? { ...response, insertErrors } : response;
  }

  /** tabledata.list: rows in storage order, paged. */
  async listTableData(
    projectId: string,
    datasetId: string,
    tableId: string,
    query: URLSearchParams,
  ): Promise<Json> {
    const record = await this.requireStoredTable(
      projectId,
      datasetId,
      tableId,
      'Cannot list a table of type VIEW.',
    );
    const total = await this.warehouse.countRows(record);
    const { offset, limit } = pageWindow(query, total);
    const fields = tableResultFields(record.columns);
    const values = await this.warehouse.readRows(record, offset, limit);
    const selected = query.get('selectedFields');
    const wanted = selected
      ? new Set(selected.split(',').map((name) => name.trim().toLowerCase()))
      : undefined;
    const keep = fields.map((field) => !wanted || wanted.has(field.name.toLowerCase()));
    const cells = values.map((row) =>
      row.flatMap((value, index) =>
        keep[index] ? [encodeResultValue(fields[index] as ResultField, value)] : [],
      ),
    );
    const output = timestampOutput({
      timestampOutputFormat: query.get('formatOptions.timestampOutputFormat') ?? undefined,
      useInt64Timestamp: query.get('formatOptions.useInt64Timestamp') ?? undefined,
    });
    return {
      kind: 'bigquery#tableDataList',
      etag: etag([offset, limit, total]),
      totalRows: String(total),
      ...(offset + cells.length < total ? { pageToken: encodePageToken(offset + cells.length) } : {}),
      ...(cells.length > 0 ? { rows: renderRows(cells, output) } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------- query

  /** Refuses configurations the stand-in cannot honour; these fail the request, not a job. */
  private checkQueryConfiguration(config: Json): string {
    const sql = config.query;
    if (typeof sql !== 'string' || sql.trim() === '') throw invalid('Required parameter is missing: query');
    if (isLegacySql(sql, config.useLegacySql)) {
      throw invalidQuery(
        'Legacy SQL is not supported by the BigQuery stand-in: set useLegacySql: false (the API defaults to legacy SQL when it is not set)',
      );
    }
    for (const option of UNSUPPORTED_QUERY_OPTIONS) {
      const value = config[option];
      if (value !== undefined && value !== null && value !== false)
        throw notImplemented(`Query option ${option}`);
    }
    return sql;
  }

  private async runQuery(projectId: string, sql: string, config: Json, dryRun: boolean): Promise<QueryRun> {
    const defaultDataset = config.defaultDataset === undefined ? undefined : asRecord(config.defaultDataset);
    let defaultDatasetId: string | undefined;
    if (defaultDataset) {
      const datasetProject = optionalString(defaultDataset.projectId) ?? projectId;
      const datasetId = optionalString(defaultDataset.datasetId);
      if (!datasetId) throw invalid('defaultDataset.datasetId is required');
      defaultDatasetId = (await this.requireDataset(datasetProject, datasetId)).datasetId;
    }
    const rewritten = this.rewrite(projectId, sql);
    const bindings = bindQueryParameters(config, rewritten);
    const output = dryRun
      ? await this.warehouse.describe(rewritten.sql, bindings, defaultDatasetId)
      : await this.warehouse.query(rewritten.sql, bindings, defaultDatasetId);
    const fields = describeResultColumns(output.names, output.types);
    const rows = output.rows.map((row) =>
      row.map((value, index) => encodeResultValue(fields[index] as ResultField, value)),
    );
    return { fields, rows };
  }

  /** GoogleSQL → DuckDB; tables may be named in `projectId` or the stand-in's default project. */
  private rewrite(projectId: string, sql: string): RewrittenQuery {
    const projectIds = [projectId, ...(this.options.defaultProjectId ? [this.options.defaultProjectId] : [])];
    try {
      return rewriteBigQuerySql(sql, { projectIds });
    } catch (error) {
      if (error instanceof QueryRewriteError) throw invalidQuery(error.message, { cause: error });
      throw error;
    }
  }

  private newJob(
    projectId: string,
    jobId: string,
    location: string,
    configuration: Json,
    dryRun: boolean,
  ): QueryJob {
    const now = Date.now();
    return {
      projectId,
      jobId,
      location,
      configuration,
      creationTime: now,
      endTime: now,
      statementType: 'SELECT',
      dryRun,
      fields: [],
      rows: [],
    };
  }

  private jobResource(job: QueryJob): Json {
    const { projectId, jobId, location } = job;
    const errorProto = job.error?.toErrorProto();
    const resource = {
      kind: 'bigquery#job',
      id: `${projectId}:${location}.${jobId}`,
      selfLink: `${this.options.baseUrl()}/bigquery/v2/projects/${projectId}/jobs/${jobId}?location=${location}`,
      user_email: 'bigquery-standin@localhost',
      jobReference: { projectId, jobId, location },
      configuration: job.configuration,
      status: errorProto
        ? { state: 'DONE', errorResult: errorProto, errors: [errorProto] }
        : { state: 'DONE' },
      statistics: {
        creationTime: String(job.creationTime),
        startTime: String(job.creationTime),
        endTime: String(job.endTime),
        totalBytesProcessed: '0',
        query: {
          totalBytesProcessed: '0',
          totalBytesBilled: '0',
          cacheHit: false,
          statementType: job.statementType,
          ...(job.dryRun && !errorProto ? { schema: { fields: job.fields } } : {}),
        },
      },
    };
    return { ...resource, etag: etag(resource) };
  }

  private resultsPage(
    job: QueryJob,
    offset: number,
    limit: number,
    output: ReturnType<typeof timestampOutput>,
  ): Json {
    const page = job.rows.slice(offset, offset + limit);
    const next = offset + page.length;
    return {
      schema: { fields: job.fields },
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      totalRows: String(job.rows.length),
      ...(page.length > 0 ? { rows: renderRows(page, output) } : {}),
      ...(next < job.rows.length ? { pageToken: encodePageToken(next) } : {}),
      totalBytesProcessed: '0',
      jobComplete: true,
      cacheHit: false,
    };
  }

  /** jobs.insert: query jobs only; the query runs now and the job comes back DONE (or failed). */
  async insertJob(projectId: string, body: Json): Promise<Json> {
    assertProjectId(projectId);
    const reference = asRecord(body.jobReference);
    if (reference.projectId !== undefined && reference.projectId !== projectId) {
      throw invalid(`jobReference.projectId ${String(reference.projectId)} does not match ${projectId}`);
    }
    const jobId = optionalString(reference.jobId) ?? `job_${randomUUID().replaceAll('-', '')}`;
    assertJobId(jobId);
    const location = optionalString(reference.location) ?? DEFAULT_LOCATION;
    if (this.jobs.has(projectId, jobId)) throw alreadyExists(`Job ${projectId}:${location}.${jobId}`);
    const configuration = asRecord(body.configuration);
    if (!isRecord(configuration.query)) throw notImplemented('Load, copy and extract jobs');
    const queryConfig = configuration.query;
    const sql = this.checkQueryConfiguration(queryConfig);
    const dryRun = configuration.dryRun === true;
    const job = this.newJob(
      projectId,
      jobId,
      location,
      { ...configuration, jobType: 'QUERY', query: { priority: 'INTERACTIVE', ...queryConfig } },
      dryRun,
    );
    try {
      const result = await this.runQuery(projectId, sql, queryConfig, dryRun);
      job.fields = result.fields;
      job.rows = result.rows;
    } catch (error) {
      // A dry run reports problems directly; a real job fails and keeps the error in its status.
      if (dryRun || !(error instanceof BigQueryApiError)) throw error;
      job.error = error;
    }
    job.endTime = Date.now();
    if (!dryRun) this.jobs.add(job);
    return this.jobResource(job);
  }

  private requireJob(projectId: string, jobId: string, location: string | null): QueryJob {
    assertProjectId(projectId);
    assertJobId(jobId);
    const job = this.jobs.get(projectId, jobId);
    if (!job || (location && location !== job.location)) {
      throw notFound(`Job ${projectId}:${location ? `${location}.` : ''}${jobId}`);
    }
    return job;
  }

  getJob(projectId: string, jobId: string, query: URLSearchParams): Json {
    return this.jobResource(this.requireJob(projectId, jobId, query.get('location')));
  }

  cancelJob(projectId: string, jobId: string, query: URLSearchParams): Json {
    const job = this.requireJob(projectId, jobId, query.get('location'));
    return { kind: 'bigquery#jobCancelResponse', job: this.jobResource(job) };
  }

  deleteJob(projectId: string, jobId: string, query: URLSearchParams): void {
    this.requireJob(projectId, jobId, query.get('location'));
    this.jobs.delete(projectId, jobId);
  }

  listJobs(projectId: string, query: URLSearchParams): Json {
    assertProjectId(projectId);
    const jobs = this.jobs.list(projectId);
    const { offset, limit } = pageWindow(query, jobs.length);
    const page = jobs.slice(offset, offset + limit).map((job) => {
      const resource = this.jobResource(job);
      return {
        id: resource.id,
        kind: resource.kind,
        jobReference: resource.jobReference,
        state: 'DONE',
        configuration: resource.configuration,
        status: resource.status,
        statistics: resource.statistics,
        ...(job.error ? { errorResult: job.error.toErrorProto() } : {}),
      };
    });
    return {
      kind: 'bigquery#jobList',
      etag: etag(page.map((job) => job.id)),
      ...(page.length > 0 ? { jobs: page } : {}),
      ...(offset + limit < jobs.length ? { nextPageToken: encodePageToken(offset + limit) } : {}),
    };
  }

  /** jobs.getQueryResults: a page of a finished job's rows, or the job's error. */
  getQueryResults(projectId: string, jobId: string, query: URLSearchParams): Json {
    const job = this.requireJob(projectId, jobId, query.get('location'));
    if (job.error) throw job.error;
    const { offset, limit } = pageWindow(query, job.rows.length);
    const output = timestampOutput({
      timestampOutputFormat: query.get('formatOptions.timestampOutputFormat') ?? undefined,
      useInt64Timestamp: query.get('formatOptions.useInt64Timestamp') ?? undefined,
    });
    const page = this.resultsPage(job, offset, limit, output);
    return { kind: 'bigquery#getQueryResultsResponse', etag: etag(page.jobReference), ...page };
  }

  /** jobs.query: runs the query as a job and answers with its first page; errors fail the request. */
  async query(projectId: string, body: Json): Promise<Json> {
    assertProjectId(projectId);
    const sql = this.checkQueryConfiguration(body);
    const dryRun = body.dryRun === true;
    const location = optionalString(body.location) ?? DEFAULT_LOCATION;
    const limit = body.maxResults === undefined ? DEFAULT_PAGE_ROWS : Number(body.maxResults);
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw invalid(`Invalid maxResults: ${String(body.maxResults)}`);
    }
    const result = await this.runQuery(projectId, sql, body, dryRun);
    if (dryRun) {
      return {
        kind: 'bigquery#queryResponse',
        schema: { fields: result.fields },
        jobComplete: true,
        totalBytesProcessed: '0',
        cacheHit: false,
      };
    }
    const configuration = {
      jobType: 'QUERY',
      query: {
        query: sql,
        useLegacySql: false,
        priority: 'INTERACTIVE',
        ...(body.defaultDataset !== undefined ? { defaultDataset: body.defaultDataset } : {}),
        ...(body.queryParameters !== undefined ? { queryParameters: body.queryParameters } : {}),
        ...(body.parameterMode !== undefined ? { parameterMode: body.parameterMode } : {}),
      },
      ...(body.labels !== undefined ? { labels: body.labels } : {}),
    };
    const job = this.newJob(
      projectId,
      `job_${randomUUID().replaceAll('-', '')}`,
      location,
      configuration,
      false,
    );
    job.fields = result.fields;
    job.rows = result.rows;
    this.jobs.add(job);
    const output = timestampOutput(asRecord(body.formatOptions));
    return { kind: 'bigquery#queryResponse', ...this.resultsPage(job, 0, limit, output) };
  }
}
