/**
 * Runs a fetch-style app (hono's `app.fetch`) inside a functions-framework HTTP function: builds a
 * web `Request` from the framework's request (its original headers, and the body bytes the
 * framework has already read, `req.rawBody`) and writes the `Response` back. The request body
 * guard's refusals are answered here, before the app, and close the connection.
 */
import type {
  Request as FrameworkRequest,
  Response as FrameworkResponse,
} from '@google-cloud/functions-framework';
import { errorResponse, type IngressResponse } from '../ingress/ingress-response.js';
import { refusedBeforeReading } from './request-body-guard.js';

/** Hop-by-hop and framing headers: they describe the connection, not the request. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'host',
]);

export async function respondWithFetch(
  req: FrameworkRequest,
  res: FrameworkResponse,
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<void> {
  const refused = refusedBeforeReading(req);
  if (refused !== undefined) {
    writeAnswer(res, refused, { connection: 'close' });
    return;
  }
  let request: Request;
  try {
    request = toFetchRequest(req);
  } catch {
    writeAnswer(res, errorResponse(400, 'invalid_request', 'the request line or a header cannot be read'));
    return;
  }
  const response = await fetch(request);
  const body = Buffer.from(await response.arrayBuffer());
  res.status(response.status);
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.end(body);
}

/** A functions-framework HTTP handler serving a fetch-style app (`honoApp.fetch`). */
export function fetchHttpFunction(
  fetch: (request: Request) => Response | Promise<Response>,
): (req: FrameworkRequest, res: FrameworkResponse) => Promise<void> {
  return (req, res) => respondWithFetch(req, res, fetch);
}

export function writeAnswer(
  res: FrameworkResponse,
  answer: IngressResponse,
  extra: Record<string, string> = {},
): void {
  res
    .status(answer.status)
    .set({ ...answer.headers, ...extra })
    .json(answer.body);
}

function toFetchRequest(req: FrameworkRequest): Request {
  const url = new URL(req.originalUrl || req.url || '/', 'http://ingest.invalid');
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!NOT_FORWARDED.has(name)) headers.append(name, raw[i + 1]!);
  }
  const method = req.method ?? 'GET';
  const bytes = Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.isBuffer(req.body) ? req.body : undefined;
  const hasBody = method !== 'GET' && method !== 'HEAD' && bytes !== undefined;
  return new Request(url, { method, headers, ...(hasBody ? { body: bytes } : {}) });
}
