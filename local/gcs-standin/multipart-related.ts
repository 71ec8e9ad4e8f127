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
 * in CRLF (RFC 2046, the Node client) or a bare LF (gcloud, through Python's
 * email package); the first delimiter line tells which, and the line break
 * before every later delimiter is that one, so media ending in a CR keeps it.
 * A part may have no headers; `Content-Transfer-Encoding: base64` is decoded.
 */
export function parseMultipartRelated(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const invalid = () => badRequest('The multipart body is malformed.');
  let position = 0;
  if (!body.subarray(0, delimiter.length).equals(delimiter)) {
    const afterPreamble = body.indexOf(Buffer.concat([Buffer.from([LF]), delimiter]));
    if (afterPreamble < 0) throw invalid();
    position = afterPreamble + 1;
  }
  const firstLineEnd = lineEnd(body, position);
  if (firstLineEnd < 0) throw invalid();
  const lineBreak = Buffer.from(body[firstLineEnd - 2] === CR ? [CR, LF] : [LF]);
  // A delimiter starts a line: the line break before it belongs to the delimiter, not the part.
  const innerDelimiter = Buffer.concat([lineBreak, delimiter]);
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
    // Searching from the blank line's own line break finds the delimiter of an empty part too.
    const next = body.indexOf(innerDelimiter, bodyStart - lineBreak.length);
    if (next < 0) throw invalid();
    let content = body.subarray(bodyStart, Math.max(bodyStart, next));
    if (headers.get('content-transfer-encoding')?.toLowerCase() === 'base64') {
      content = Buffer.from(content.toString('latin1'), 'base64');
    }
    parts.push({ headers, body: content });
    position = next + lineBreak.length;
  }
}
