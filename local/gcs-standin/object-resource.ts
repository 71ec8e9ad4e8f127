import { badRequest, notImplemented } from './api-error.js';
import type { ContentHashes } from './content-hashes.js';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The writable object fields the stand-in stores and returns. */
export interface ObjectAttributes {
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  customTime?: string;
  metadata?: Record<string, string>;
}

/** What the sidecar JSON holds for one live object. */
export interface StoredObject extends ObjectAttributes, ContentHashes {
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  timeCreated: string;
  updated: string;
  /** Set on objects made by objects.compose, which, like Google's, report no MD5. */
  componentCount?: number;
}

const STRING_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'customTime',
] as const;
type StringField = (typeof STRING_FIELDS)[number];

// Output-only or access-control fields: accepted in a request body and ignored,
// as GCS ignores output-only fields (ACLs do not exist locally).
const IGNORED_FIELDS = new Set([
  'kind',
  'id',
  'selfLink',
  'mediaLink',
  'bucket',
  'generation',
  'metageneration',
  'size',
  'etag',
  'timeCreated',
  'updated',
  'timeStorageClassUpdated',
  'storageClass',
  'acl',
  'owner',
  'contentLength',
  'componentCount',
]);

export interface UploadMetadata {
  name?: string;
  attributes: Partial<ObjectAttributes>;
  /** Client-supplied checksums the stored bytes must match. */
  expected: Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>>;
}

function asRecord(body: unknown, what: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(`${what} must be a JSON object.`);
  return body as Record<string, unknown>;
}

function parseCustomMetadata(value: unknown): Record<string, string> {
  const record = asRecord(value, 'metadata');
  const result: Record<string, string> = {};
  for (const [key, v] of Object.entries(record)) {
    if (v === null) continue;
    if (typeof v === 'object') throw badRequest(`Invalid value for metadata.${key}: must be a string.`);
    result[key] = String(v);
  }
  return result;
}

function checkString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw badRequest(`Invalid value for ${field}: must be a string.`);
  if (field === 'customTime' && Number.isNaN(Date.parse(value))) {
    throw badRequest(`Invalid value for customTime: ${value}`);
  }
  return value;
}

/** The object resource sent with a multipart or resumable upload. */
export function parseUploadMetadata(body: unknown): UploadMetadata {
  const record = asRecord(body ?? {}, 'The object metadata');
  const result: UploadMetadata = { attributes: {}, expected: {} };
  for (const [field, value] of Object.entries(record)) {
    if (value === undefined || IGNORED_FIELDS.has(field)) continue;
    if (field === 'name') result.name = checkString(field, value);
    else if (field === 'md5Hash' || field === 'crc32c') result.expected[field] = checkString(field, value);
    else if (field === 'metadata') {
      if (value !== null) result.attributes.metadata = parseCustomMetadata(value);
    } else if ((STRING_FIELDS as readonly string[]).includes(field)) {
      if (value !== null) result.attributes[field as StringField] = checkString(field, value);
    } else throw notImplemented(`the object field '${field}'`);
  }
  return result;
}

// Checksums are checked against the bytes of an upload; a patch cannot change the bytes, and gcloud's
// `objects update` sends the whole resource back, checksums included.
const PATCH_IGNORED_FIELDS = new Set(['md5Hash', 'crc32c']);

/** objects.patch semantics: present fields replace, null clears, `metadata` merges key by key. */
export function applyObjectPatch(current: ObjectAttributes, body: unknown): ObjectAttributes {
  const patch = asRecord(body, 'The patch');
  const next: ObjectAttributes = { ...current };
  if (current.metadata) next.metadata = { ...current.metadata };
  for (const [field, value] of Object.entries(patch)) {
    if (
      value === undefined ||
      IGNORED_FIELDS.has(field) ||
      PATCH_IGNORED_FIELDS.has(field) ||
      field === 'name'
    ) {
      continue;
    }
    if (field === 'metadata') {
      if (value === null) {
        delete next.metadata;
        continue;
      }
      const merged = { ...next.metadata };
      for (const [key, v] of Object.entries(asRecord(value, 'metadata'))) {
        if (v === null) delete merged[key];
        else if (typeof v === 'object')
          throw badRequest(`Invalid value for metadata.${key}: must be a string.`);
        else merged[key] = String(v);
      }
      if (Object.keys(merged).length > 0) next.metadata = merged;
      else delete next.metadata;
    } else if ((STRING_FIELDS as readonly string[]).includes(field)) {
      const key = field as StringField;
      if (value === null) {
        if (key === 'contentType') next.contentType = DEFAULT_CONTENT_TYPE;
        else delete next[key];
      } else next[key] = checkString(field, value);
    } else throw notImplemented(`patching the object field '${field}'`);
  }
  return next;
}

function etag(generation: string, metageneration: string): string {
  return Buffer.from(`${generation}/${metageneration}`).toString('base64');
}

/** The JSON API object resource (storage#object). */
export function objectResource(object: StoredObject, baseUrl: string): Record<string, unknown> {
  const encodedName = encodeURIComponent(object.name);
  const resource: Record<string, unknown> = {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${baseUrl}/storage/v1/b/${object.bucket}/o/${encodedName}`,
    mediaLink: `${baseUrl}/download/storage/v1/b/${object.bucket}/o/${encodedName}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: object.metageneration,
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.size),
    ...(object.componentCount === undefined
      ? { md5Hash: object.md5Hash }
      : { componentCount: object.componentCount }),
    crc32c: object.crc32c,
    etag: etag(object.generation, object.metageneration),
    timeCreated: object.timeCreated,
    updated: object.updated,
    timeStorageClassUpdated: object.timeCreated,
  };
  for (const field of STRING_FIELDS) {
    if (field !== 'contentType' && object[field] !== undefined) resource[field] = object[field];
  }
  if (object.metadata) resource.metadata = { ...object.metadata };
  return resource;
}
