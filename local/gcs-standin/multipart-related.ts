import { badRequest } from './api-error.js';

export interface MultipartPart {
  headers: Map<string, string>;
  body: Buffer;
}

/**
 * The boundary of a `multipart/related` Content-Type. Besides RFC 2046's bare
 * token and double quotes, it takes single quotes: gcloud (apitools, through
 * Python's email package) sends `boundary='===============0123456789=='`.
 */
export function multipartBoundary(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|'([^']+)'|([^;\s]+))/i.exec(
    contentType ?? '',
  );
  const boundary = match?.[1] ?? match?.[2] ?? match?.[3];
  if (!boundary)
    throw badRequest('A multipart upload needs a Content-Type of multipart/related with a boundary.');
  return boundary;
}

const LF = 0x0a;
const CR = 0x0d;

/** The end of the line starting at `from` (index after its LF), or -1. */
function lineEnd(body: Buffer, from: number): number {
  const at = body.indexOf(LF, from);
  return at < 0 ? -1 : at + 1;
}

/** The line from `start` to `end` without its CRLF or LF. */
function lineText(body: Buffer, start: number, end: number): string {
  let stop = end;
  if (stop > start && body[stop - 1] === LF) stop--;
  if (stop > start && body[stop - 1] === CR) stop--;
  return body.subarray(start, stop).toString('latin1');
}

/**
 * Splits a `multipart/related` body (RFC 2387) into its parts. Lines may end
 * in CRLF (RFC 2046, the Node client) or a bare LF (gcloud); a part may have
 * no headers; `Content-Transfer-Encoding: base64` is decoded.
 */
export function parseMultipartRelated(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  // A delimiter starts a line: the line break before it belongs to the delimiter, not the part.
  const innerDelimiter = Buffer.concat([Buffer.from([LF]), delimiter]);
  const invalid = () => badRequest('The multipart body is malformed.');
  let position = 0;
  if (!body.subarray(0, delimiter.length).equals(delimiter)) {
    const afterPreamble = body.indexOf(innerDelimiter);
    if (afterPreamble < 0) throw invalid();
    position = afterPreamble + 1;
  }
  const parts: MultipartPart[] = [];
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString('latin1') === '--') return parts;
    // The rest of the delimiter line may hold only transport padding (RFC 2046 5.1.1).
    const partStart = lineEnd(body, position);
    if (partStart < 0 || lineText(body, position, partStart).trim() !== '') throw invalid();
    const headers = new Map<string, string>();
    let bodyStart = partStart;
    for (;;) {
      const end = lineEnd(body, bodyStart);
      if (end < 0) throw invalid();
      const line = lineText(body, bodyStart, end);
      bodyStart = end;
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon <= 0) throw invalid();
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    // Searching from the blank line's LF finds the delimiter of an empty part too.
    const next = body.indexOf(innerDelimiter, bodyStart - 1);
    if (next < 0) throw invalid();
    const contentEnd = Math.max(bodyStart, body[next - 1] === CR ? next - 1 : next);
    let content = body.subarray(bodyStart, contentEnd);
    if (headers.get('content-transfer-encoding')?.toLowerCase() === 'base64') {
      content = Buffer.from(content.toString('latin1'), 'base64');
    }
    parts.push({ headers, body: content });
    position = next + 1;
  }
}
