import { badRequest } from './api-error.js';

/**
 * `Content-Range` of a resumable upload PUT, in the forms GCS clients send:
 * `bytes 0-262143/1048576` and `bytes 262144-524287/*` (a chunk),
 * `bytes 0-*\/*` or `bytes 0-*\/N` (the rest of the data in one request; the Node client),
 * `bytes *\/N` (finalize at N, or ask for status) and `bytes *\/*` (ask for status).
 */
export type UploadContentRange =
  | { kind: 'status'; total: number | undefined }
  | { kind: 'data'; start: number; end: number | undefined; total: number | undefined };

const UPLOAD_RANGE = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/;

export function parseUploadContentRange(header: string): UploadContentRange {
  const match = UPLOAD_RANGE.exec(header.trim());
  if (!match) throw badRequest(`Failed to parse Content-Range header: ${header}`);
  const [, start, end, total] = match;
  const totalBytes = total === '*' ? undefined : Number(total);
  if (start === undefined) return { kind: 'status', total: totalBytes };
  const range = {
    kind: 'data' as const,
    start: Number(start),
    end: end === '*' ? undefined : Number(end),
    total: totalBytes,
  };
  if (range.end !== undefined && range.end < range.start) {
    throw badRequest(`Failed to parse Content-Range header: ${header}`);
  }
  return range;
}

/** A satisfiable single byte range of a download, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The `Range` header of a download. Returns undefined when the whole object
 * should be sent (no header, or a form GCS ignores such as multiple ranges),
 * 'unsatisfiable' for a range past the end.
 */
export function parseDownloadRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first, last] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? undefined : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return size === 0 ? undefined : 'unsatisfiable';
  return { start, end };
}
