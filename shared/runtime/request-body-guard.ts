/**
 * functions-framework reads and parses every request body before the function runs: JSON bodies
 * with its own parser (a malformed one is answered with an HTML page quoting the parser's stack
 * trace and logged with the body), any body up to 1024 MB, gzip inflated. For the ingest gateway
 * that would mean reading an over-long body in full and answering hostile input with stack traces.
 *
 * This guard sees each request as it arrives (Node's
 * `http.server.request.start` diagnostics channel, published before the server's request
 * listeners run) and, before the framework's parsers do:
 *  - refuses unread a body that is compressed, declares more than the limit, or declares no
 *    length (the decision is `checkDeclaredBody`, the app's own): it hides the length headers so
 *    the parsers skip the body, and `refusedBeforeReading` hands the answer to the bridge, which
 *    sends it with `Connection: close` so the rest of the body is never read;
 *  - relabels every other body application/octet-stream, so the framework only buffers the bytes
 *    (`req.rawBody`, at most the limit) and the app parses them with the telemetry contract.
 * The original headers stay in `req.rawHeaders`, which is what the bridge forwards. The guard
 * covers every request of the process (functions-framework serves one function per process, in
 * Cloud Functions as in `npm run dev`), whatever its path or method: a PUT or an unknown path is
 * answered by the app (405, 404), and its body must not meet the framework's parsers either. A
 * test that serves other functions in the same process narrows it to the gateway's paths.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { IngressResponse } from '../ingress/ingress-response.js';
import { checkDeclaredBody } from '../ingress/request-checks.js';

/**
 * The limit for the JSON APIs (features API, trainer, drift): their requests are a few ids or an
 * interval, so 1 MiB is generous; guarding them means a malformed body gets the app's JSON error
 * instead of the framework's HTML page.
 */
export const API_BODY_LIMIT_BYTES = 1 << 20;

export interface RequestBodyGuardOptions {
  /** Only requests to these paths; every request of the process when absent. */
  paths?: readonly string[];
  /**
   * Only requests whose path starts with this. The JSON APIs guard `/v1/`, their routes' root, so
   * that a Pub/Sub push to `/` served in the same process (as in the end-to-end test) still
   * reaches the framework's JSON parser.
   */
  pathPrefix?: string;
  /** Read per request, so the limit comes from configuration once it is loaded. */
  maxBodyBytes: () => number;
}

const refused = new WeakMap<IncomingMessage, IngressResponse>();
let guardedPaths: Set<string> | undefined;
let guardedPrefix = '';
let maxBodyBytes: () => number = () => 0;
let installed = false;

export function guardRequestBodies(options: RequestBodyGuardOptions): void {
  guardedPaths = options.paths === undefined ? undefined : new Set(options.paths);
  guardedPrefix = options.pathPrefix ?? '';
  maxBodyBytes = options.maxBodyBytes;
  if (installed) return;
  installed = true;
  diagnostics.subscribe('http.server.request.start', onRequestStart);
}

/** The answer the guard decided for a request whose body it kept from being read, if any. */
export function refusedBeforeReading(request: IncomingMessage): IngressResponse | undefined {
  return refused.get(request);
}

export function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  if (target.startsWith('/')) {
    const query = target.indexOf('?');
    return query < 0 ? target : target.slice(0, query);
  }
  try {
    return new URL(target).pathname; // absolute-form request target
  } catch {
    return '';
  }
}

function onRequestStart(message: unknown): void {
  try {
    const request = (message as { request?: IncomingMessage }).request;
    if (request === undefined) return;
    const path = pathOf(request.url);
    if (guardedPaths !== undefined && !guardedPaths.has(path)) return;
    if (!path.startsWith(guardedPrefix)) return;
    const headers = request.headers;
    const answer = checkDeclaredBody(
      {
        contentLength: headers['content-length'],
        transferEncoding: headers['transfer-encoding'],
        contentEncoding: headers['content-encoding'],
      },
      maxBodyBytes(),
    );
    if (answer !== null) {
      refused.set(request, answer);
      delete headers['content-length'];
      delete headers['transfer-encoding'];
    }
    headers['content-type'] = 'application/octet-stream';
  } catch {
    // Never break the server: a request left alone still meets the app's own checks.
  }
}
