import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { readJson, sendJson } from './http-io.js';
import { type ObjectAttributes, objectResource, parseUploadMetadata } from './object-resource.js';
import {
  checkPreconditions,
  PRECONDITION_PARAMETERS,
  type Preconditions,
  parseObjectSelector,
  parsePreconditions,
} from './preconditions.js';
import { checkQuery } from './query-parameters.js';
import type { RequestContext } from './request-context.js';
import { validateObjectName } from './resource-names.js';

const SOURCE_PRECONDITIONS = {
  ifSourceGenerationMatch: 'ifGenerationMatch',
  ifSourceGenerationNotMatch: 'ifGenerationNotMatch',
  ifSourceMetagenerationMatch: 'ifMetagenerationMatch',
  ifSourceMetagenerationNotMatch: 'ifMetagenerationNotMatch',
} as const;

/** The source's `ifSource*` preconditions and `sourceGeneration`, in the form the store checks. */
function sourceSelector(query: URLSearchParams): { generation?: string; preconditions: Preconditions } {
  const renamed = new URLSearchParams();
  for (const [from, to] of Object.entries(SOURCE_PRECONDITIONS)) {
    const value = query.get(from);
    if (value !== null) renamed.set(to, value);
  }
  const generation = query.get('sourceGeneration');
  if (generation !== null) renamed.set('generation', generation);
  return parseObjectSelector(renamed);
}

/**
 * POST /storage/v1/b/{bucket}/o/{object}/rewriteTo/b/{bucket}/o/{object}: copies an object, within
 * or across buckets (gcloud's cloud-to-cloud `cp` and `mv`). Always done in one call, which Google
 * also answers for small objects, so `maxBytesRewrittenPerCall` is accepted and no `rewriteToken`
 * is ever issued. Without a body the copy keeps the source's metadata; with one, the body's
 * metadata replaces it (checksums in it are not checked, as on compose). The source's checksums
 * and a composite's component count carry over.
 */
export async function rewriteObject(
  ctx: RequestContext,
  source: { bucket: string; name: string },
  destination: { bucket: string; name: string },
): Promise<void> {
  checkQuery(ctx.query, 'objects.rewrite', [
    'sourceGeneration',
    'maxBytesRewrittenPerCall',
    ...Object.keys(SOURCE_PRECONDITIONS),
    ...PRECONDITION_PARAMETERS,
  ]);
  const body = await readJson(ctx.req);
  const metadata = body === undefined ? undefined : parseUploadMetadata(body);
  const selector = sourceSelector(ctx.query);
  const preconditions = parsePreconditions(ctx.query);
  const name = validateObjectName(destination.name);
  ctx.store.getBucket(destination.bucket);
  const { object, handle } = await ctx.store.openObject(source.bucket, source.name, {
    ...(selector.generation === undefined ? {} : { generation: selector.generation }),
    preconditions: {},
  });
  const dataPath = ctx.store.tempPath();
  try {
    // A failed source precondition is a 412 here, as for a write (a read would answer 304).
    checkPreconditions(object, selector.preconditions, 'write');
    await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(dataPath));
  } catch (error) {
    await rm(dataPath, { force: true });
    throw error;
  } finally {
    await handle.close();
  }
  const { size, md5Hash, crc32c, componentCount } = object;
  const attributes: ObjectAttributes =
    metadata === undefined || Object.keys(metadata.attributes).length === 0
      ? copiedAttributes(object)
      : { contentType: object.contentType, ...metadata.attributes };
  const written = await ctx.store.writeObject({
    bucket: destination.bucket,
    name,
    dataPath,
    hashes: { size, md5Hash, crc32c },
    attributes,
    preconditions,
    ...(componentCount === undefined ? {} : { componentCount }),
  });
  sendJson(ctx.res, 200, {
    kind: 'storage#rewriteResponse',
    totalBytesRewritten: String(size),
    objectSize: String(size),
    done: true,
    resource: objectResource(written, ctx.baseUrl),
  });
}

function copiedAttributes(object: ObjectAttributes): ObjectAttributes {
  const {
    contentType,
    contentEncoding,
    contentDisposition,
    contentLanguage,
    cacheControl,
    customTime,
    metadata,
  } = object;
  return {
    contentType,
    ...(contentEncoding === undefined ? {} : { contentEncoding }),
    ...(contentDisposition === undefined ? {} : { contentDisposition }),
    ...(contentLanguage === undefined ? {} : { contentLanguage }),
    ...(cacheControl === undefined ? {} : { cacheControl }),
    ...(customTime === undefined ? {} : { customTime }),
    ...(metadata === undefined ? {} : { metadata: { ...metadata } }),
  };
}
