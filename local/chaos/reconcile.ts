// After a scenario: every published reading against what landed. Identity is (vehicle, event
// instant in ms), as the warehouse view `features_by_identity` de-duplicates.
//
// - lost: valid readings with no row in the view (or, archive_lost, no row in the features/ archive);
// - duplicated: rows in the view beyond exactly one per valid reading (a second row for an identity,
//   or a row for something that is not a valid reading): must be 0;
// - raw_duplicates: rows in the raw table beyond one per identity (a retry whose insertId the
//   warehouse no longer remembered); the view absorbs them;
// - archive_duplicates: feature rows in the archive beyond one per identity (a crash between the
//   topic publish and the acknowledgement);
// - dead_lettered: the function's dead letters (with a reason); invalid_missed: invalid messages
//   without one; policy_dead_lettered: messages the subscription gave up on (valid ones count lost).

import type { BigQuery } from '@google-cloud/bigquery';
import type { Storage } from '@google-cloud/storage';
import type { FleetConfig } from '../../shared/config.js';
import type { DeadLetterRecord } from './chaos-stack.js';
import { identityOf, type PublishedMessage, VALID_KINDS } from './chaos-workload.js';

export interface Reconciliation {
  /** Readings (and malformed payloads) published. */
  published: number;
  messages: number;
  valid: number;
  invalid: number;
  rows: number;
  raw_rows: number;
  lost: number;
  duplicated: number;
  raw_duplicates: number;
  archive_rows: number;
  archive_lost: number;
  archive_duplicates: number;
  raw_archive_lost: number;
  raw_archive_extra: number;
  dead_lettered: number;
  invalid_missed: number;
  quarantined: number;
  invalid_without_quarantine_reason: number;
  policy_dead_lettered: number;
}

export async function reconcile(args: {
  config: FleetConfig;
  bigquery: BigQuery;
  storage: Storage;
  published: readonly PublishedMessage[];
  deadLetters: readonly DeadLetterRecord[];
}): Promise<Reconciliation> {
  const { config, published } = args;
  const valid = new Set<string>();
  const invalidIds = new Set<string>();
  for (const m of published) {
    for (const item of m.items) {
      if (VALID_KINDS.has(item.kind))
        valid.add(identityOf(item.reading.vehicle_id, item.reading.event_ts_ms));
      if (item.kind === 'malformed') invalidIds.add(m.messageId);
    }
  }

  const table = `\`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}\``;
  const view = `\`${config.projectId}.${config.bigquery.dataset}.${config.bigquery.featuresTable}_by_identity\``;
  const perIdentity = async (from: string) => {
    const [rows] = await args.bigquery.query({
      query: `SELECT vehicle_id, UNIX_MILLIS(event_ts) AS t, COUNT(*) AS n FROM ${from} GROUP BY vehicle_id, t`,
    });
    const counts = new Map<string, number>();
    for (const row of rows as { vehicle_id: string; t: number | string; n: number | string }[])
      counts.set(identityOf(row.vehicle_id, Number(row.t)), Number(row.n));
    return counts;
  };
  const [inView, inTable] = await Promise.all([perIdentity(view), perIdentity(table)]);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

  const bucket = args.storage.bucket(config.featuresBucket);
  const lines = async (prefix: string) => {
    const [files] = await bucket.getFiles({ prefix });
    const all: string[] = [];
    for (const file of files) {
      const [bytes] = await file.download();
      all.push(
        ...bytes
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
    }
    return all;
  };
  const archived = new Map<string, number>();
  for (const line of await lines('features/')) {
    const row = JSON.parse(line) as { vehicle_id: string; event_ts: string | number };
    const id = identityOf(
      row.vehicle_id,
      typeof row.event_ts === 'number' ? row.event_ts : Date.parse(row.event_ts),
    );
    archived.set(id, (archived.get(id) ?? 0) + 1);
  }
  const rawLines = new Map<string, number>();
  for (const line of await lines('raw/')) rawLines.set(line, (rawLines.get(line) ?? 0) + 1);
  let rawLost = 0;
  let rawExtra = 0;
  const sent = new Map<string, number>();
  for (const m of published) sent.set(m.data, (sent.get(m.data) ?? 0) + 1);
  for (const [data, n] of sent) rawLost += Math.max(0, n - (rawLines.get(data) ?? 0));
  for (const [data, n] of rawLines) rawExtra += Math.max(0, n - (sent.get(data) ?? 0));

  const quarantinedIds = new Set<string>();
  let missingReason = 0;
  for (const line of await lines('quarantine/')) {
    const object = JSON.parse(line) as { message_id: string; rejects: { reason?: string }[] };
    quarantinedIds.add(object.message_id);
    if (invalidIds.has(object.message_id) && object.rejects.some((r) => !r.reason)) missingReason++;
  }
  const functionDeadLetters = args.deadLetters.filter((d) => d.reason !== undefined);
  const deadLetteredIds = new Set(functionDeadLetters.map((d) => d.sourceMessageId));
  let invalidMissed = 0;
  for (const id of invalidIds) {
    if (!deadLetteredIds.has(id)) invalidMissed++;
    if (!quarantinedIds.has(id)) missingReason++;
  }

  let lost = 0;
  let archiveLost = 0;
  for (const id of valid) {
    if (!inView.has(id)) lost++;
    if (!archived.has(id)) archiveLost++;
  }
  let validInView = 0;
  for (const id of inView.keys()) if (valid.has(id)) validInView++;
  return {
    published: published.reduce((a, m) => a + m.items.length, 0),
    messages: published.length,
    valid: valid.size,
    invalid: invalidIds.size,
    rows: sum(inView),
    raw_rows: sum(inTable),
    lost,
    duplicated: sum(inView) - validInView,
    raw_duplicates: sum(inTable) - inTable.size,
    archive_rows: sum(archived),
    archive_lost: archiveLost,
    archive_duplicates: sum(archived) - archived.size,
    raw_archive_lost: rawLost,
    raw_archive_extra: rawExtra,
    dead_lettered: functionDeadLetters.length,
    invalid_missed: invalidMissed,
    quarantined: quarantinedIds.size,
    invalid_without_quarantine_reason: missingReason,
    policy_dead_lettered: args.deadLetters.length - functionDeadLetters.length,
  };
}
