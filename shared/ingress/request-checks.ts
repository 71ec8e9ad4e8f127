import { errorResponse, type IngressResponse } from './ingress-response.js';

/**
 * Checks on a request's headers that come before its body is read (pure). The function's bridge
 * runs `checkDeclaredBody` before the framework would read the body; the app runs both again on
 * every request, so in-process callers get the same answers.
 */

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

export function checkContentType(contentType: string | undefined): IngressResponse | null {
  if (contentType !== undefined && JSON_MEDIA_TYPE.test(contentType.trim())) return null;
  return errorResponse(
    415,
    'unsupported_media_type',
    'send the body as Content-Type: application/json (UTF-8)',
  );
}

export interface DeclaredBody {
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  contentEncoding: string | undefined;
}

/**
 * What the headers say about the body, before any of it is read: a compressed body (its inflated
 * size is unknown until inflated), a length over the limit, or no length at all, is refused
 * unread. A chunked body without Content-Length could only be measured by reading it.
 */
export function checkDeclaredBody(declared: DeclaredBody, maxBodyBytes: number): IngressResponse | null {
  const encoding = declared.contentEncoding?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    return errorResponse(
      415,
      'unsupported_content_encoding',
      'send the body uncompressed (no Content-Encoding)',
    );
  }
  const length = declared.contentLength?.trim();
  if (length === undefined) {
    if (declared.transferEncoding !== undefined) {
      return errorResponse(411, 'length_required', 'send Content-Length (chunked bodies are not accepted)');
    }
    return null;
  }
  if (!/^[0-9]{1,15}$/.test(length)) {
    return errorResponse(400, 'invalid_content_length', 'Content-Length must be a decimal byte count');
  }
  if (Number(length) > maxBodyBytes) return bodyTooLarge(maxBodyBytes);
  return null;
}

export function bodyTooLarge(maxBodyBytes: number): IngressResponse {
  return errorResponse(
    413,
    'body_too_large',
    `the body limit is ${maxBodyBytes} bytes; send smaller batches`,
  );
}
