import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Reads a whole request body; the JSON API's metadata bodies and multipart uploads are bounded. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
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

/** Parameters any call may carry that change nothing locally (formatting, billing, field masks, ACLs). */
const HARMLESS_PARAMETERS = [
  'alt',
  'prettyPrint',
  'userProject',
  'fields',
  'projection',
  'quotaUser',
  'predefinedAcl',
  'predefinedDefaultObjectAcl',
];

/** Refuses, by name, any query parameter an operation does not honour. */
export function checkQuery(query: URLSearchParams, operation: string, honoured: readonly string[]): void {
  for (const key of new Set(query.keys())) {
    if (!honoured.includes(key) && !HARMLESS_PARAMETERS.includes(key)) {
      throw notImplemented(`the query parameter '${key}' on ${operation}`);
    }
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
