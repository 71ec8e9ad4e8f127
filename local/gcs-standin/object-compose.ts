import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { badRequest, required } from './api-error.js';
import { ContentHasher, type ContentHashes } from './content-hashes.js';
import { readJson, sendJson } from './http-io.js';
import {
  DEFAULT_CONTENT_TYPE,
  objectResource,
  parseUploadMetadata,
  type UploadMetadata,
} from './object-resource.js';
import { parsePreconditions } from './preconditions.js';
import { checkQuery } from './query-parameters.js';
import type { RequestContext } from './request-context.js';
import { validateObjectName } from './resource-names.js';

/** GCS composes at most 32 sources per request, into objects of at most 1,024 components. */
export const MAX_COMPOSE_SOURCES = 32;
export const MAX_COMPONENT_COUNT = 1024;

export interface ComposeSource {
  name: string;
  generation?: string;
  ifGenerationMatch?: string;
}

export interface ComposeRequest {
  destination: UploadMetadata;
  sources: ComposeSource[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function int64(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^\d{1,19}$/.test(String(value))) {
    throw badRequest(`Invalid value for ${field}: ${String(value)}`);
  }
  return BigInt(value).toString();
}

/** The body of objects.compose: `{destination?, sourceObjects: [{name, generation?, objectPreconditions?}]}`. */
export function parseComposeRequest(body: unknown): ComposeRequest {
  if (!isRecord(body)) throw badRequest('The compose request must be a JSON object.');
  const { sourceObjects } = body;
  if (!Array.isArray(sourceObjects) || sourceObjects.length === 0) throw required('sourceObjects');
  if (sourceObjects.length > MAX_COMPOSE_SOURCES) {
    throw badRequest(
      `The number of source components provided (${sourceObjects.length}) exceeds the maximum (${MAX_COMPOSE_SOURCES}).`,
    );
  }
  const sources = sourceObjects.map((source, index): ComposeSource => {
    if (!isRecord(source) || typeof source.name !== 'string' || source.name === '') {
      throw required(`sourceObjects[${index}].name`);
    }
    const result: ComposeSource = { name: validateObjectName(source.name) };
    const generation = int64(source.generation, `sourceObjects[${index}].generation`);
    if (generation !== undefined) result.generation = generation;
    const preconditions = source.objectPreconditions;
    if (preconditions !== undefined && preconditions !== null) {
      if (!isRecord(preconditions))
        throw badRequest(`Invalid value for sourceObjects[${index}].objectPreconditions.`);
      const match = int64(
        preconditions.ifGenerationMatch,
        `sourceObjects[${index}].objectPreconditions.ifGenerationMatch`,
      );
      if (match !== undefined) result.ifGenerationMatch = match;
    }
    return result;
  });
  return { destination: parseUploadMetadata(body.destination ?? {}), sources };
}

/**
 * POST /storage/v1/b/{bucket}/o/{object}/compose: concatenates up to 32 objects of the bucket into
 * one. gcloud uses it for parallel composite uploads (files above
 * `storage/parallel_composite_upload_threshold`, 150 MiB by default). Like Google's, a composite
 * object has a `componentCount` and a CRC-32C but no MD5.
 */
export async function composeObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  checkQuery(ctx.query, 'objects.compose', ['ifGenerationMatch', 'ifMetagenerationMatch']);
  const request = parseComposeRequest(await readJson(ctx.req));
  const preconditions = parsePreconditions(ctx.query);
  ctx.store.getBucket(bucket);
  const dataPath = ctx.store.tempPath();
  const hasher = new ContentHasher();
  let componentCount = 0;
  let hashes: ContentHashes;
  try {
    const output = createWriteStream(dataPath);
    try {
      for (const source of request.sources) {
        const { object, handle } = await ctx.store.openObject(bucket, source.name, {
          ...(source.generation === undefined ? {} : { generation: source.generation }),
          preconditions:
            source.ifGenerationMatch === undefined ? {} : { ifGenerationMatch: source.ifGenerationMatch },
        });
        try {
          for await (const chunk of handle.createReadStream({ autoClose: false })) {
            hasher.update(chunk as Buffer);
            if (!output.write(chunk)) await once(output, 'drain');
          }
        } finally {
          await handle.close();
        }
        componentCount += object.componentCount ?? 1;
      }
    } finally {
      output.end();
      await finished(output);
    }
    if (componentCount > MAX_COMPONENT_COUNT) {
      throw badRequest(
        `The number of components in the composite object would exceed the maximum (${MAX_COMPONENT_COUNT}).`,
      );
    }
    // Unlike an upload's, the destination's md5Hash and crc32c are not checked: gcloud sends
    // values that are not the composite's, and Google ignores them.
    hashes = hasher.digest();
  } catch (error) {
    await rm(dataPath, { force: true });
    throw error;
  }
  const object = await ctx.store.writeObject({
    bucket,
    name: validateObjectName(name),
    dataPath,
    hashes,
    attributes: {
      ...request.destination.attributes,
      contentType: request.destination.attributes.contentType ?? DEFAULT_CONTENT_TYPE,
    },
    preconditions,
    componentCount,
  });
  sendJson(ctx.res, 200, objectResource(object, ctx.baseUrl));
}
