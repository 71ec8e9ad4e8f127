import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GcsApiError } from './api-error.js';
import { parseDownloadRange } from './byte-ranges.js';
import { header, sendJson } from './http-io.js';
import { PRECONDITION_PARAMETERS, parseObjectSelector } from './preconditions.js';
import { checkQuery } from './query-parameters.js';
import type { RequestContext } from './request-context.js';

/**
 * objects.get with alt=media. Serves the stored bytes with GCS's headers
 * (`x-goog-hash`, `x-goog-stored-content-encoding`, ...), honours a single
 * `Range`, and, like GCS, decompresses (transcodes) a gzip-encoded object only
 * for a client that does not accept gzip.
 */
export async function downloadObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  checkQuery(ctx.query, 'a media download', ['generation', ...PRECONDITION_PARAMETERS]);
  const { object, handle } = await ctx.store.openObject(bucket, name, parseObjectSelector(ctx.query));
  try {
    const storedEncoding = object.contentEncoding ?? 'identity';
    const headers: Record<string, string> = {
      'Content-Type': object.contentType,
      'Cache-Control': object.cacheControl ?? 'no-cache, no-store, max-age=0, must-revalidate',
      ETag: `"${Buffer.from(object.md5Hash, 'base64').toString('hex')}"`,
      'Last-Modified': new Date(object.updated).toUTCString(),
      'x-goog-generation': object.generation,
      'x-goog-metageneration': object.metageneration,
      'x-goog-stored-content-encoding': storedEncoding,
      'x-goog-stored-content-length': String(object.size),
      'x-goog-storage-class': 'STANDARD',
      // A composite object has no MD5 on Google's side either.
      'x-goog-hash':
        object.componentCount === undefined
          ? `crc32c=${object.crc32c},md5=${object.md5Hash}`
          : `crc32c=${object.crc32c}`,
    };
    if (object.contentDisposition) headers['Content-Disposition'] = object.contentDisposition;
    if (object.contentLanguage) headers['Content-Language'] = object.contentLanguage;

    const acceptsGzip = /(^|[\s,])gzip(\s*(;|,|$))/i.test(header(ctx.req, 'accept-encoding') ?? '');
    if (storedEncoding.toLowerCase() === 'gzip' && !acceptsGzip) {
      // Decompressive transcoding: length unknown, Range ignored.
      ctx.res.writeHead(200, { ...headers, Warning: '214 UploadServer gunzipped' });
      await pipeline(handle.createReadStream({ autoClose: false }), createGunzip(), ctx.res);
      return;
    }
    if (object.contentEncoding) headers['Content-Encoding'] = object.contentEncoding;

    const range = parseDownloadRange(header(ctx.req, 'range'), object.size);
    if (range === 'unsatisfiable') {
      const error = new GcsApiError(
        416,
        'requestedRangeNotSatisfiable',
        'The requested range cannot be satisfied.',
      );
      sendJson(ctx.res, 416, error.toBody(), { 'Content-Range': `bytes */${object.size}` });
      return;
    }
    if (range) {
      ctx.res.writeHead(206, {
        ...headers,
        'Content-Range': `bytes ${range.start}-${range.end}/${object.size}`,
        'Content-Length': String(range.end - range.start + 1),
      });
      await pipeline(
        handle.createReadStream({ start: range.start, end: range.end, autoClose: false }),
        ctx.res,
      );
      return;
    }
    ctx.res.writeHead(200, { ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': String(object.size) });
    if (object.size === 0) {
      ctx.res.end();
      return;
    }
    await pipeline(handle.createReadStream({ autoClose: false }), ctx.res);
  } finally {
    await handle.close();
  }
}
