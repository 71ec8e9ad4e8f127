import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { badRequest, notImplemented, required } from './api-error.js';
import { parseUploadContentRange } from './byte-ranges.js';
import { ContentHasher, type ContentHashes, hashBuffer } from './content-hashes.js';
import { drain, header, parseJson, readBody, sendEmpty, sendJson, uploadBody } from './http-io.js';
import { multipartBoundary, parseMultipartRelated } from './multipart-related.js';
import {
  DEFAULT_CONTENT_TYPE,
  type ObjectAttributes,
  objectResource,
  parseUploadMetadata,
} from './object-resource.js';
import { checkPreconditions, PRECONDITION_PARAMETERS, parsePreconditions } from './preconditions.js';
import { checkQuery } from './query-parameters.js';
import type { RequestContext } from './request-context.js';
import { validateObjectName } from './resource-names.js';
import { parseGoogHash, verifyHashes } from './resumable-sessions.js';

const MULTIPART_LIMIT_BYTES = 512 * 1024 * 1024;

function objectName(fromQuery: string | null, fromMetadata: string | undefined): string {
  const name = fromQuery ?? fromMetadata;
  if (name === undefined || name === '') throw required('name');
  return validateObjectName(name);
}

/** Streams a body into a file, hashing as it goes. */
async function receiveToFile(source: AsyncIterable<unknown>, path: string): Promise<ContentHashes> {
  const hasher = new ContentHasher();
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hasher.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(source, hashing, createWriteStream(path));
  return hasher.digest();
}

/** POST /upload/storage/v1/b/{bucket}/o?uploadType=media|multipart|resumable */
export async function insertObject(ctx: RequestContext, bucket: string): Promise<void> {
  const uploadType = ctx.query.get('uploadType');
  if (uploadType === 'media') return mediaUpload(ctx, bucket);
  if (uploadType === 'multipart') return multipartUpload(ctx, bucket);
  if (uploadType === 'resumable') return startResumableUpload(ctx, bucket);
  await drain(ctx.req);
  if (uploadType === null) throw required('uploadType');
  throw notImplemented(`uploadType=${uploadType}`);
}

async function commit(
  ctx: RequestContext,
  bucket: string,
  name: string,
  dataPath: string,
  hashes: ContentHashes,
  attributes: ObjectAttributes,
): Promise<void> {
  const object = await ctx.store.writeObject({
    bucket,
    name,
    dataPath,
    hashes,
    attributes,
    preconditions: parsePreconditions(ctx.query),
  });
  sendJson(ctx.res, 200, objectResource(object, ctx.baseUrl));
}

async function mediaUpload(ctx: RequestContext, bucket: string): Promise<void> {
  checkQuery(ctx.query, 'a media upload', [
    'uploadType',
    'name',
    'contentEncoding',
    ...PRECONDITION_PARAMETERS,
  ]);
  ctx.store.getBucket(bucket);
  const name = objectName(ctx.query.get('name'), undefined);
  // Invalid preconditions fail before the body is read.
  parsePreconditions(ctx.query);
  const dataPath = ctx.store.tempPath();
  let hashes: ContentHashes;
  try {
    hashes = await receiveToFile(uploadBody(ctx.req), dataPath);
    verifyHashes(hashes, parseGoogHash(header(ctx.req, 'x-goog-hash')));
  } catch (error) {
    await rm(dataPath, { force: true });
    throw error;
  }
  const attributes: ObjectAttributes = {
    contentType: header(ctx.req, 'content-type') ?? DEFAULT_CONTENT_TYPE,
  };
  const contentEncoding = ctx.query.get('contentEncoding');
  if (contentEncoding) attributes.contentEncoding = contentEncoding;
  await commit(ctx, bucket, name, dataPath, hashes, attributes);
}

async function multipartUpload(ctx: RequestContext, bucket: string): Promise<void> {
  checkQuery(ctx.query, 'a multipart upload', ['uploadType', 'name', ...PRECONDITION_PARAMETERS]);
  const boundary = multipartBoundary(header(ctx.req, 'content-type'));
  const body = await readBody(uploadBody(ctx.req), MULTIPART_LIMIT_BYTES);
  ctx.store.getBucket(bucket);
  const parts = parseMultipartRelated(body, boundary);
  const [metadataPart, mediaPart] = parts;
  if (parts.length !== 2 || !metadataPart || !mediaPart) {
    throw badRequest(`A multipart upload has exactly two parts (metadata, media); got ${parts.length}.`);
  }
  const metadata = parseUploadMetadata(parseJson(metadataPart.body.toString('utf8'), 'the metadata part'));
  const name = objectName(ctx.query.get('name'), metadata.name);
  const hashes = hashBuffer(mediaPart.body);
  verifyHashes(hashes, metadata.expected);
  const dataPath = ctx.store.tempPath();
  await writeFile(dataPath, mediaPart.body);
  const attributes: ObjectAttributes = {
    ...metadata.attributes,
    contentType:
      metadata.attributes.contentType ?? mediaPart.headers.get('content-type') ?? DEFAULT_CONTENT_TYPE,
  };
  await commit(ctx, bucket, name, dataPath, hashes, attributes);
}

async function startResumableUpload(ctx: RequestContext, bucket: string): Promise<void> {
  checkQuery(ctx.query, 'a resumable upload', ['uploadType', 'name', ...PRECONDITION_PARAMETERS]);
  const metadata = parseUploadMetadata(
    parseJson((await readBody(ctx.req, 1024 * 1024)).toString('utf8'), 'the body'),
  );
  ctx.store.getBucket(bucket);
  const name = objectName(ctx.query.get('name'), metadata.name);
  const preconditions = parsePreconditions(ctx.query);
  // Checked again when the upload completes; failing early spares the client the upload.
  checkPreconditions(ctx.store.peekObject(bucket, name), preconditions, 'write');
  const declared = header(ctx.req, 'x-upload-content-length');
  if (declared !== undefined && !/^\d+$/.test(declared)) {
    throw badRequest(`Invalid X-Upload-Content-Length: ${declared}`);
  }
  const id = await ctx.sessions.start({
    bucket,
    name,
    attributes: {
      ...metadata.attributes,
      contentType:
        header(ctx.req, 'x-upload-content-type') ?? metadata.attributes.contentType ?? DEFAULT_CONTENT_TYPE,
    },
    expected: metadata.expected,
    preconditions,
    declaredSize: declared === undefined ? undefined : Number(declared),
  });
  const location = `${ctx.baseUrl}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
  sendEmpty(ctx.res, 200, { Location: location, 'X-GUploader-UploadID': id });
}

function sessionId(ctx: RequestContext, bucket: string): string {
  checkQuery(ctx.query, 'a resumable upload session', ['uploadType', 'name', 'upload_id']);
  const id = ctx.query.get('upload_id');
  if (!id) throw required('upload_id');
  if (ctx.sessions.bucketOf(id) !== bucket) throw badRequest('The upload session belongs to another bucket.');
  return id;
}

/** PUT {session URI}: a chunk, the final data, or a status query. */
export async function putResumableChunk(ctx: RequestContext, bucket: string): Promise<void> {
  let id: string;
  let rangeHeader: string | undefined;
  try {
    id = sessionId(ctx, bucket);
    rangeHeader = header(ctx.req, 'content-range');
    if (rangeHeader !== undefined) parseUploadContentRange(rangeHeader);
  } catch (error) {
    await drain(ctx.req);
    throw error;
  }
  const range = rangeHeader === undefined ? undefined : parseUploadContentRange(rangeHeader);
  const result = await ctx.sessions.put(
    id,
    uploadBody(ctx.req),
    range,
    parseGoogHash(header(ctx.req, 'x-goog-hash')),
  );
  if (result.done) {
    sendJson(ctx.res, 200, objectResource(result.object, ctx.baseUrl));
    return;
  }
  // 308 "Resume Incomplete": Range tells which bytes are persisted (absent when none).
  sendEmpty(ctx.res, 308, result.received > 0 ? { Range: `bytes=0-${result.received - 1}` } : {});
}

/** DELETE {session URI}: cancel. GCS answers 499. */
export async function cancelResumableUpload(ctx: RequestContext, bucket: string): Promise<void> {
  await drain(ctx.req);
  await ctx.sessions.cancel(sessionId(ctx, bucket));
  sendEmpty(ctx.res, 499);
}
