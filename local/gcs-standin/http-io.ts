import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { badRequest, GcsApiError, notImplemented } from './api-error.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers });
  res.end();
}

export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const apiError =
    error instanceof GcsApiError
      ? error
      : new GcsApiError(500, 'backendError', `Internal error in the local GCS stand-in: ${String(error)}`, {
          cause: error,
        });
  if (apiError.status === 304) {
    sendEmpty(res, 304);
    return;
  }
  sendJson(res, apiError.status, apiError.toBody());
}

/**
 * The bytes of an upload's body, decoded. `gcloud storage cp -J` (gzip in flight) sends
 * `Content-Encoding: gzip`; Google stores what the encoding wraps, and a resumable chunk's
 * Content-Range counts those decoded bytes.
 */
export function uploadBody(req: IncomingMessage): AsyncIterable<Buffer> {
  const encoding = header(req, 'content-encoding')?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') {
    return req as AsyncIterable<Buffer>;
  }
  if (encoding !== 'gzip') throw notImplemented(`the request Content-Encoding '${encoding}'`);
  return gunzipped(req);
}

async function* gunzipped(req: IncomingMessage): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  // A failure on either side destroys gunzip, so the loop below sees it.
  pipeline(req, gunzip).catch(() => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    // zlib's errors carry codes such as Z_DATA_ERROR and Z_BUF_ERROR (truncated data).
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw badRequest(`The request body is not valid gzip data: ${(error as Error).message}`);
    }
    throw error;
  }
}

/** Reads a whole request body; the JSON API's metadata bodies and multipart uploads are bounded. */
export async function readBody(req: AsyncIterable<unknown>, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      throw new GcsApiError(413, 'uploadTooLarge', `The request body exceeds ${limitBytes} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const JSON_BODY_LIMIT = 16 * 1024 * 1024;

export function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest(`Parse Error: ${what} is not valid JSON.`, 'parseError');
  }
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  return parseJson((await readBody(req, JSON_BODY_LIMIT)).toString('utf8'), 'the request body');
}

/** Consumes and discards a body we answer without reading, so keep-alive stays usable. */
export async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // discard
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
