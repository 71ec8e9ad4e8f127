import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { FleetError } from '../errors.js';
import type { FeatureSink } from '../ports/feature-sink.js';
import type { ObjectStore } from '../ports/object-store.js';
import { FEATURE_COLUMNS, type FeatureRow } from './feature-row.js';

const gzip = promisify(gzipCallback);

export const FEATURES_PREFIX = 'features/';
const CONTENT_TYPE = 'application/x-ndjson';

/**
 * @deprecated Not on the product path any more: each flush now publishes to the feature-rows topic
 * (shared/adapters/pubsub-feature-row-sink.ts) and GCS gets the rows from that topic's Cloud
 * Storage subscription (shared/archive-subscriptions.ts), in objects of minutes, not one per flush.
 * Kept only while bench/sink-bench.ts still measures it; delete with that reference.
 *
 * Feature rows as gzip NDJSON objects, one object per event-time hour per `write` call (so a
 * group-committed flush of hundreds of rows is one or two objects, never one per row):
 *
 *   features/dt=YYYY-MM-DD/hour=HH/part-<24 hex>.ndjson.gz
 *
 * The part name is a hash of the object's content (rows sorted by event_id, columns in schema
 * order), so a retried flush of the same rows writes the same name, and `putIfAbsent`
 * (ifGenerationMatch=0) turns the retry into a no-op. Rows are identical on retry by construction
 * (the window store keeps the computed row with the reading's dedupe mark). A row can still appear
 * in two objects when it is retried in a different group (another flush's companions change the
 * hash): readers de-duplicate by event_id, which the rows make safe because a given event_id
 * always carries the same values.
 */
export class GcsFeatureSink implements FeatureSink {
  readonly name = 'gcs';
  readonly #store: ObjectStore;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  async write(rows: readonly FeatureRow[]): Promise<void> {
    const { partitions, invalid } = partitionRows(rows);
    const objects = await Promise.all(
      [...partitions].map(([partition, partRows]) => encodeFeatureObject(partition, partRows)),
    );
    await Promise.all(
      objects.map((object) =>
        this.#store.putIfAbsent(object.name, object.body, {
          contentType: CONTENT_TYPE,
          contentEncoding: 'gzip',
        }),
      ),
    );
    // The valid rows are written first: sink_rejected promises that only the named rows are missing.
    if (invalid.length > 0) {
      throw new FleetError('sink_rejected', `feature rows without a valid event_ts: ${invalid.join(', ')}`, {
        metadata: { rejectedEventIds: invalid },
        transient: false,
      });
    }
  }
}

export interface FeatureObject {
  name: string;
  /** gzip of the NDJSON text */
  body: Buffer;
  rows: number;
}

/** `dt=YYYY-MM-DD/hour=HH` of an event time (UTC), or undefined when it is not a time. */
export function featurePartition(eventTs: string): string | undefined {
  const ms = Date.parse(eventTs);
  if (Number.isNaN(ms)) return undefined;
  // Rebuilt from a parsed Date, never copied from the input: the name holds only digits we made.
  const iso = new Date(ms).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/**
 * Rows grouped by partition, each group sorted by event_id with repeated event_ids dropped, and
 * the event_ids of rows whose event_ts is not a time.
 */
export function partitionRows(rows: readonly FeatureRow[]): {
  partitions: Map<string, FeatureRow[]>;
  invalid: string[];
} {
  const byPartition = new Map<string, Map<string, FeatureRow>>();
  const invalid: string[] = [];
  for (const row of rows) {
    const partition = featurePartition(row.event_ts);
    if (partition === undefined) {
      invalid.push(row.event_id);
      continue;
    }
    let group = byPartition.get(partition);
    if (group === undefined) {
      group = new Map();
      byPartition.set(partition, group);
    }
    if (!group.has(row.event_id)) group.set(row.event_id, row);
  }
  const partitions = new Map(
    [...byPartition].map(([partition, group]) => [
      partition,
      [...group.values()].sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0)),
    ]),
  );
  return { partitions, invalid };
}

/** One object's name and gzip body for rows of one partition, already sorted by event_id. */
export async function encodeFeatureObject(
  partition: string,
  sortedRows: readonly FeatureRow[],
): Promise<FeatureObject> {
  const ndjson = sortedRows.map((row) => JSON.stringify(canonicalRow(row))).join('\n') + '\n';
  // The text starts with each row's event_id, so the hash covers the sorted ids and every value.
  const digest = createHash('sha256').update(ndjson).digest('hex').slice(0, 24);
  return {
    name: `${FEATURES_PREFIX}${partition}/part-${digest}.ndjson.gz`,
    body: await gzip(ndjson),
    rows: sortedRows.length,
  };
}

/** The row's columns in schema order: the bytes depend on the values only, not on key order. */
function canonicalRow(row: FeatureRow): Record<string, unknown> {
  const values = row as unknown as Record<string, unknown>;
  return Object.fromEntries(FEATURE_COLUMNS.map((column) => [column.name, values[column.name] ?? null]));
}
