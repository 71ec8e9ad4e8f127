import { badRequest } from './api-error.js';

export interface MultipartPart {
  headers: Map<string, string>;
  body: Buffer;
}

export function multipartBoundary(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary)
    throw badRequest('A multipart upload needs a Content-Type of multipart/related with a boundary.');
  return boundary;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** Splits a `multipart/related` body (RFC 2387) into its parts. */
export function parseMultipartRelated(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const innerDelimiter = Buffer.concat([CRLF, delimiter]);
  const invalid = () => badRequest('The multipart body is malformed.');
  let position = body.indexOf(delimiter);
  if (position < 0) throw invalid();
  const parts: MultipartPart[] = [];
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString('latin1') === '--') return parts;
    if (!body.subarray(position, position + 2).equals(CRLF)) throw invalid();
    position += 2;
    const headerEnd = body.indexOf(HEADER_END, position);
    // A part without headers starts directly with the blank line.
    const bodyStart = body.subarray(position, position + 2).equals(CRLF) ? position + 2 : headerEnd + 4;
    if (headerEnd < 0 && bodyStart !== position + 2) throw invalid();
    const headers = new Map<string, string>();
    if (bodyStart !== position + 2) {
      for (const line of body.subarray(position, headerEnd).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw invalid();
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const next = body.indexOf(innerDelimiter, bodyStart);
    if (next < 0) throw invalid();
    let content = body.subarray(bodyStart, next);
    if (headers.get('content-transfer-encoding')?.toLowerCase() === 'base64') {
      content = Buffer.from(content.toString('latin1'), 'base64');
    }
    parts.push({ headers, body: content });
    position = next + CRLF.length;
  }
}
