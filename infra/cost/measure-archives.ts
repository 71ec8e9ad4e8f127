// `tsx infra/cost/measure-archives.ts <bucket folder>`: what a dev run's archives hold, for
// infra/cost/measured.json: features/ objects, rows, NDJSON bytes and BigQuery logical bytes per
// row; raw/ objects and bytes. Run it on the local object store after `npm run dev`, e.g.
// `.local/dev/object-store/fleet-features-local`. The GCS stand-in keeps each object generation's
// data in `objects/<URL-encoded name>.<generation>.bin`.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_COLUMNS, type FeatureColumn } from '../../shared/rows/feature-row.js';

/**
 * A value's size in BigQuery's logical storage ("data size calculation"): INT64, FLOAT64 and
 * TIMESTAMP 8 bytes, BOOL 1, STRING 2 + its UTF-8 length, NULL 0.
 */
export function bigqueryLogicalBytes(
  row: Record<string, unknown>,
  columns: readonly FeatureColumn[],
): number {
  let bytes = 0;
  for (const column of columns) {
    const value = row[column.name];
    if (value === null || value === undefined) continue;
    if (column.type === 'STRING') bytes += 2 + Buffer.byteLength(String(value));
    else if (column.type === 'BOOL') bytes += 1;
    else bytes += 8;
  }
  return bytes;
}

/** The data file of the newest generation of every object whose name starts with `prefix`. */
async function objectsUnder(bucketDir: string, prefix: string): Promise<string[]> {
  const newest = new Map<string, { generation: bigint; file: string }>();
  for (const file of await readdir(join(bucketDir, 'objects'))) {
    const match = /^(.+)\.(\d+)\.bin$/.exec(file);
    if (match === null) continue;
    const name = decodeURIComponent(match[1]!);
    const generation = BigInt(match[2]!);
    if (!name.startsWith(prefix)) continue;
    const seen = newest.get(name);
    if (seen === undefined || seen.generation < generation) newest.set(name, { generation, file });
  }
  return [...newest.values()].map((v) => join(bucketDir, 'objects', v.file));
}

async function main(): Promise<void> {
  const bucketDir = process.argv[2];
  if (bucketDir === undefined) throw new Error('usage: tsx infra/cost/measure-archives.ts <bucket folder>');
  const featureFiles = await objectsUnder(bucketDir, 'features/');
  let rows = 0;
  let featureBytes = 0;
  let logicalBytes = 0;
  for (const file of featureFiles) {
    const text = await readFile(file, 'utf8');
    featureBytes += Buffer.byteLength(text);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      rows += 1;
      logicalBytes += bigqueryLogicalBytes(JSON.parse(line) as Record<string, unknown>, FEATURE_COLUMNS);
    }
  }
  const rawFiles = await objectsUnder(bucketDir, 'raw/');
  let rawBytes = 0;
  for (const file of rawFiles) rawBytes += (await readFile(file)).length;
  process.stdout.write(
    `${JSON.stringify({
      featureObjects: featureFiles.length,
      featureRows: rows,
      featureBytes,
      featureBytesPerRow: rows === 0 ? null : featureBytes / rows,
      bigqueryLogicalBytesPerRow: rows === 0 ? null : logicalBytes / rows,
      rawObjects: rawFiles.length,
      rawBytes,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
