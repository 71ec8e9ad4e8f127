import { createHash } from 'node:crypto';
import { badRequest, notImplemented, required } from './api-error.js';
import { validateBucketName } from './resource-names.js';

/** What `bucket.json` holds for one bucket. */
export interface StoredBucket {
  name: string;
  project: string;
  timeCreated: string;
  location: string;
  storageClass: string;
  /** Configuration echoed back as given; it has no local effect (labels, lifecycle, cors, iamConfiguration). */
  settings: Record<string, unknown>;
}

const ECHOED_FIELDS = new Set([
  'labels',
  'lifecycle',
  'cors',
  'iamConfiguration',
  'locationType',
  'rpo',
  'website',
  'logging',
  'billing',
  'softDeletePolicy',
]);
const IGNORED_FIELDS = new Set([
  'name',
  'kind',
  'id',
  'selfLink',
  'etag',
  'timeCreated',
  'updated',
  'metageneration',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Validates a buckets.insert body; refuses features whose semantics the stand-in lacks (versioning, retention, ...). */
export function parseBucketInsert(body: unknown, project: string, now: string): StoredBucket {
  if (!isRecord(body)) throw badRequest('The bucket resource must be a JSON object.');
  if (body.name === undefined || body.name === null || body.name === '') throw required('resource.name');
  if (typeof body.name !== 'string') throw badRequest('Invalid value for resource.name.');
  const bucket: StoredBucket = {
    name: validateBucketName(body.name),
    project,
    timeCreated: now,
    location: 'US',
    storageClass: 'STANDARD',
    settings: {},
  };
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined || value === null || IGNORED_FIELDS.has(field)) continue;
    if (field === 'location' || field === 'storageClass') {
      if (typeof value !== 'string') throw badRequest(`Invalid value for ${field}.`);
      bucket[field] = value.toUpperCase();
    } else if (field === 'versioning') {
      if (isRecord(value) && value.enabled === true) throw notImplemented('object versioning');
    } else if (ECHOED_FIELDS.has(field)) {
      bucket.settings[field] = value;
    } else throw notImplemented(`the bucket field '${field}'`);
  }
  return bucket;
}

/** A stable fake project number, so resources look like real ones. */
function projectNumber(project: string): string {
  const digest = createHash('sha256').update(project).digest();
  return String(100_000_000_000 + (digest.readUInt32BE(0) % 900_000_000_000));
}

export function bucketResource(bucket: StoredBucket, baseUrl: string): Record<string, unknown> {
  return {
    kind: 'storage#bucket',
    selfLink: `${baseUrl}/storage/v1/b/${bucket.name}`,
    id: bucket.name,
    name: bucket.name,
    projectNumber: projectNumber(bucket.project),
    metageneration: '1',
    location: bucket.location,
    storageClass: bucket.storageClass,
    etag: 'CAE=',
    timeCreated: bucket.timeCreated,
    updated: bucket.timeCreated,
    ...bucket.settings,
  };
}
