import { badRequest, notImplemented } from './api-error.js';

/**
 * Parameters any call may carry that change nothing locally, accepted at any value and ignored:
 * - `alt`: `json` is the only metadata format (media downloads read `alt=media` themselves);
 * - `prettyPrint`, `fields`, `projection`: formatting and field masks; the full resource is a superset;
 * - `userProject`, `quotaUser`: billing and quota attribution;
 * - `predefinedAcl`, `predefinedDefaultObjectAcl`, `destinationPredefinedAcl`: ACLs do not exist locally;
 * - `includeFoldersAsPrefixes`: lists managed folders as prefixes; there are none locally (gcloud
 *   sends it on every `ls` and `rm -r`).
 */
export const IGNORED_PARAMETERS = [
  'alt',
  'prettyPrint',
  'fields',
  'projection',
  'userProject',
  'quotaUser',
  'predefinedAcl',
  'predefinedDefaultObjectAcl',
  'destinationPredefinedAcl',
  'includeFoldersAsPrefixes',
] as const;

/**
 * Switches accepted while off, since off is what the stand-in does; on, they would change the
 * answer, so they are refused (501) like any unsupported parameter:
 * - `enableObjectRetention` (buckets.insert; gcloud sends `False` on every `buckets create`);
 * - `softDeleted` (lists or gets soft-deleted objects; there is no soft delete locally).
 */
export const ACCEPTED_WHEN_FALSE = ['enableObjectRetention', 'softDeleted'] as const;

/** A boolean query parameter as Google reads it: `true`/`false` in any case (gcloud sends `True`). */
export function booleanParameter(query: URLSearchParams, key: string): boolean | undefined {
  const raw = query.get(key);
  if (raw === null) return undefined;
  const value = raw.toLowerCase();
  if (value !== 'true' && value !== 'false') throw badRequest(`Invalid value for ${key}: ${raw}`);
  return value === 'true';
}

const ignored: ReadonlySet<string> = new Set(IGNORED_PARAMETERS);
const acceptedWhenFalse: ReadonlySet<string> = new Set(ACCEPTED_WHEN_FALSE);

/** Refuses, by name, any query parameter an operation does not honour and that would change its answer. */
export function checkQuery(query: URLSearchParams, operation: string, honoured: readonly string[]): void {
  for (const key of new Set(query.keys())) {
    if (honoured.includes(key) || ignored.has(key)) continue;
    if (acceptedWhenFalse.has(key)) {
      if (booleanParameter(query, key) === false) continue;
      throw notImplemented(`${key}=${query.get(key)} on ${operation}`);
    }
    throw notImplemented(`the query parameter '${key}' on ${operation}`);
  }
}
