import type {
  Request as FunctionRequest,
  Response as FunctionResponse,
} from '@google-cloud/functions-framework';
import type { Hono } from 'hono';

// Hop-by-hop and length headers describe the original connection, not the re-made request.
const SKIPPED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/**
 * Serves a Hono app from a functions-framework HTTP function: the framework's Express request
 * becomes a web Request (its body from `rawBody`, which the framework keeps before parsing), the
 * app's Response is written back. The app never sees Express.
 */
export function honoHttpFunction(app: Hono): (req: FunctionRequest, res: FunctionResponse) => Promise<void> {
  return async (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || SKIPPED_HEADERS.has(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const body = hasBody
      ? (req.rawBody ?? (req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body))))
      : undefined;
    const request = new Request(new URL(req.originalUrl || req.url, 'http://function.invalid'), {
      method: req.method,
      headers,
      ...(body === undefined ? {} : { body: new Uint8Array(body) }),
    });
    const response = await app.fetch(request);
    res.status(response.status);
    response.headers.forEach((value, name) => {
      res.setHeader(name, value);
    });
    res.send(Buffer.from(await response.arrayBuffer()));
  };
}
