import { createHash } from 'node:crypto';
import { badRequest } from './api-error.js';

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/;
const IPV4_LIKE = /^\d+\.\d+\.\d+\.\d+$/;

/** GCS bucket naming rules; a valid name is also a safe directory name (no `/`, no leading dot). */
export function validateBucketName(name: string): string {
  const components = name.split('.');
  const valid =
    BUCKET_NAME.test(name) &&
    name.length >= 3 &&
    name.length <= (components.length > 1 ? 222 : 63) &&
    components.every((c) => c.length > 0 && c.length <= 63) &&
    !IPV4_LIKE.test(name) &&
    !name.startsWith('goog') &&
    !name.includes('google');
  if (!valid) throw badRequest(`Invalid bucket name: '${name}'`);
  return name;
}

const MAX_OBJECT_NAME_BYTES = 1024;
// A JSON body can carry lone surrogates, which have no UTF-8 form.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** GCS object naming rules: 1..1024 bytes of UTF-8, no CR/LF, not `.` or `..`. */
export function validateObjectName(name: string): string {
  const bytes = Buffer.byteLength(name, 'utf8');
  const valid =
    bytes > 0 &&
    bytes <= MAX_OBJECT_NAME_BYTES &&
    !/[\r\n]/.test(name) &&
    name !== '.' &&
    name !== '..' &&
    !name.startsWith('.well-known/acme-challenge/') &&
    !LONE_SURROGATE.test(name);
  if (!valid) throw badRequest(`The object name '${name}' is invalid.`);
  return name;
}

const SAFE_BYTE = /[A-Za-z0-9_-]/;
const MAX_STEM_LENGTH = 180;

/**
 * Maps an object name to a single flat file name stem that can never leave its
 * directory: every byte outside [A-Za-z0-9_-] (and `.` unless leading) is
 * percent-encoded, so `/` and `..` never survive. Names whose encoding would
 * be too long for a file system use `~` + SHA-256 (a literal `~` is always
 * encoded, so the two forms cannot collide). The real name lives in the
 * sidecar, so the stem never has to be decoded.
 */
export function objectFileStem(name: string): string {
  let stem = '';
  const bytes = Buffer.from(name, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const char = String.fromCharCode(byte);
    stem +=
      byte < 0x80 && (SAFE_BYTE.test(char) || (char === '.' && i > 0))
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (stem.length > MAX_STEM_LENGTH) break;
  }
  if (stem.length > MAX_STEM_LENGTH) return `~${createHash('sha256').update(bytes).digest('hex')}`;
  return stem;
}
