/**
 * Identifier rules. Every id that reaches DuckDB SQL text (dataset → schema, table, column) passes one of
 * these checks first, so quoting them can never be broken out of.
 */
import { invalid } from './api-error.js';

const PROJECT_ID = /^[a-z][a-z0-9-]{4,61}[a-z0-9]$/;
const DATASET_OR_TABLE_ID = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
const JOB_ID = /^[A-Za-z0-9_-]{1,1024}$/;
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Field-name prefixes BigQuery reserves for pseudo-columns. */
const RESERVED_FIELD_PREFIXES = ['_partition', '_table_', '_file_', '_row_timestamp', '__root__', '_colon_'];

export function assertProjectId(projectId: string): void {
  if (!PROJECT_ID.test(projectId)) {
    throw invalid(
      `Invalid project ID '${projectId}'. Project IDs must contain 6-63 lowercase letters, digits, or dashes, start with a letter and not end with a dash.`,
    );
  }
}

export function assertDatasetId(datasetId: string): void {
  if (!DATASET_OR_TABLE_ID.test(datasetId)) {
    throw invalid(
      `Invalid dataset ID "${datasetId}". Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.`,
    );
  }
}

export function assertTableId(tableId: string): void {
  if (!DATASET_OR_TABLE_ID.test(tableId)) {
    throw invalid(
      `Invalid table ID "${tableId}". The stand-in accepts letters, digits and underscores, starting with a letter or underscore, at most 1024 characters.`,
    );
  }
}

export function assertFieldName(name: string): void {
  if (!FIELD_NAME.test(name)) {
    throw invalid(
      `Invalid field name "${name}". Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most 300 characters long.`,
    );
  }
  const lower = name.toLowerCase();
  if (RESERVED_FIELD_PREFIXES.some((prefix) => lower.startsWith(prefix))) {
    throw invalid(
      `Invalid field name "${name}". Field names are not allowed to start with the (case-insensitive) prefixes _PARTITION, _TABLE_, _FILE_, _ROW_TIMESTAMP, __ROOT__ and _COLON_`,
    );
  }
}

export function assertJobId(jobId: string): void {
  if (!JOB_ID.test(jobId)) {
    throw invalid(
      `Invalid job ID "${jobId}". Job IDs must be alphanumeric (plus underscores and dashes) and must be at most 1024 characters long.`,
    );
  }
}

export function isValidParameterName(name: string): boolean {
  return PARAMETER_NAME.test(name);
}

/** `"name"`: safe only for ids that passed one of the assertions above. */
export function quoteIdentifier(id: string): string {
  return `"${id.replaceAll('"', '""')}"`;
}
