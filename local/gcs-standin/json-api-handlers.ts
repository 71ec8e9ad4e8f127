import { badRequest, required } from './api-error.js';
import { bucketResource, parseBucketInsert } from './bucket-resource.js';
import { readJson, sendEmpty, sendJson } from './http-io.js';
import { type ListQuery, listPage } from './object-listing.js';
import { applyObjectPatch, objectResource } from './object-resource.js';
import { PRECONDITION_PARAMETERS, parseObjectSelector } from './preconditions.js';
import { booleanParameter, checkQuery } from './query-parameters.js';
import type { RequestContext } from './request-context.js';

function positiveInteger(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw badRequest(`Invalid value for ${key}: ${raw}`);
  return Number(raw);
}

function optional<K extends string, V>(key: K, value: V | undefined | null): { [P in K]?: V } {
  return (value === undefined || value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

export async function insertBucket(ctx: RequestContext): Promise<void> {
  checkQuery(ctx.query, 'buckets.insert', ['project']);
  const project = ctx.query.get('project');
  if (!project) throw required('project');
  const bucket = parseBucketInsert(await readJson(ctx.req), project, new Date().toISOString());
  sendJson(ctx.res, 200, bucketResource(await ctx.store.createBucket(bucket), ctx.baseUrl));
}

export function getBucket(ctx: RequestContext, name: string): void {
  checkQuery(ctx.query, 'buckets.get', []);
  sendJson(ctx.res, 200, bucketResource(ctx.store.getBucket(name), ctx.baseUrl));
}

export function listBuckets(ctx: RequestContext): void {
  checkQuery(ctx.query, 'buckets.list', ['project', 'prefix', 'maxResults', 'pageToken']);
  const project = ctx.query.get('project');
  if (!project) throw required('project');
  const buckets = new Map(ctx.store.listBuckets(project).map((b) => [b.name, b]));
  const page = listPage(buckets, {
    ...optional('prefix', ctx.query.get('prefix')),
    ...optional('maxResults', positiveInteger(ctx.query, 'maxResults')),
    ...optional('pageToken', ctx.query.get('pageToken')),
  });
  sendJson(ctx.res, 200, {
    kind: 'storage#buckets',
    ...(page.items.length > 0 ? { items: page.items.map((b) => bucketResource(b, ctx.baseUrl)) } : {}),
    ...optional('nextPageToken', page.nextPageToken),
  });
}

/**
 * buckets.getStorageLayout: a flat namespace, no hierarchical namespace. gcloud asks for it before
 * `rm -r` and recursive listings, to decide whether folders are resources of their own.
 */
export function getStorageLayout(ctx: RequestContext, name: string): void {
  // `prefix` scopes the permission check on Google's side; the layout is the bucket's either way.
  checkQuery(ctx.query, 'buckets.getStorageLayout', ['prefix']);
  const bucket = ctx.store.getBucket(name);
  sendJson(ctx.res, 200, {
    kind: 'storage#storageLayout',
    bucket: bucket.name,
    location: bucket.location,
    locationType: bucket.settings.locationType ?? 'multi-region',
  });
}

/** managedFolders.list: managed folders (folder-level IAM) do not exist locally; gcloud lists them on `rm -r gs://bucket`. */
export function listManagedFolders(ctx: RequestContext, name: string): void {
  checkQuery(ctx.query, 'managedFolders.list', ['prefix', 'pageSize', 'pageToken']);
  ctx.store.getBucket(name);
  sendJson(ctx.res, 200, { kind: 'storage#managedFolders' });
}

export async function deleteBucket(ctx: RequestContext, name: string): Promise<void> {
  checkQuery(ctx.query, 'buckets.delete', []);
  await ctx.store.deleteBucket(name);
  sendEmpty(ctx.res, 204);
}

export function listObjects(ctx: RequestContext, bucket: string): void {
  const q = ctx.query;
  checkQuery(q, 'objects.list', [
    'prefix',
    'delimiter',
    'maxResults',
    'pageToken',
    'startOffset',
    'endOffset',
    'includeTrailingDelimiter',
    // Without versioning, the live objects are all the versions there are.
    'versions',
  ]);
  const query: ListQuery = {
    ...optional('prefix', q.get('prefix')),
    ...optional('delimiter', q.get('delimiter') || undefined),
    ...optional('maxResults', positiveInteger(q, 'maxResults')),
    ...optional('pageToken', q.get('pageToken') || undefined),
    ...optional('startOffset', q.get('startOffset')),
    ...optional('endOffset', q.get('endOffset')),
    includeTrailingDelimiter: booleanParameter(q, 'includeTrailingDelimiter') ?? false,
  };
  const page = ctx.store.listObjects(bucket, query);
  sendJson(ctx.res, 200, {
    kind: 'storage#objects',
    ...(page.prefixes.length > 0 ? { prefixes: page.prefixes } : {}),
    ...(page.items.length > 0 ? { items: page.items.map((o) => objectResource(o, ctx.baseUrl)) } : {}),
    ...optional('nextPageToken', page.nextPageToken),
  });
}

export function getObjectMetadata(ctx: RequestContext, bucket: string, name: string): void {
  checkQuery(ctx.query, 'objects.get', ['generation', ...PRECONDITION_PARAMETERS]);
  sendJson(
    ctx.res,
    200,
    objectResource(ctx.store.getObject(bucket, name, parseObjectSelector(ctx.query)), ctx.baseUrl),
  );
}

export async function deleteObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  checkQuery(ctx.query, 'objects.delete', ['generation', ...PRECONDITION_PARAMETERS]);
  await ctx.store.deleteObject(bucket, name, parseObjectSelector(ctx.query));
  sendEmpty(ctx.res, 204);
}

export async function patchObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  checkQuery(ctx.query, 'objects.patch', ['generation', ...PRECONDITION_PARAMETERS]);
  const body = await readJson(ctx.req);
  const object = await ctx.store.patchObject(bucket, name, parseObjectSelector(ctx.query), (current) =>
    applyObjectPatch(current, body ?? {}),
  );
  sendJson(ctx.res, 200, objectResource(object, ctx.baseUrl));
}
