import { randomUUID } from 'node:crypto';
import { open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badRequest, GcsApiError, notFound } from './api-error.js';
import type { UploadContentRange } from './byte-ranges.js';
import { type ContentHashes, hashFile } from './content-hashes.js';
import type { DiskObjectStore } from './disk-object-store.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { ObjectAttributes, StoredObject } from './object-resource.js';
import type { Preconditions } from './preconditions.js';

/** GCS accepts non-final chunks of at least, and persists them in multiples of, 256 KiB. */
export const UPLOAD_CHUNK_GRANULARITY = 256 * 1024;

export interface SessionInit {
  bucket: string;
  name: string;
  attributes: ObjectAttributes;
  expected: Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>>;
  preconditions: Preconditions;
  declaredSize: number | undefined;
}

interface UploadSession extends SessionInit {
  id: string;
  path: string;
  /** Bytes persisted so far: the offset the next chunk must start at (or before). */
  received: number;
  outcome: { object: StoredObject } | { error: GcsApiError } | { cancelled: true } | undefined;
}

export type PutResult = { done: false; received: number } | { done: true; object: StoredObject };

/** Resumable upload sessions: bytes in `<root>/.uploads/<id>`, state in memory (lost on restart, like an expired session). */
export class ResumableSessions {
  #sessions = new Map<string, UploadSession>();
  #locks = new KeyedMutex();
  readonly #store: DiskObjectStore;

  constructor(store: DiskObjectStore) {
    this.#store = store;
  }

  async start(init: SessionInit): Promise<string> {
    const id = randomUUID().replaceAll('-', '');
    const session: UploadSession = {
      ...init,
      id,
      path: join(this.#store.uploadsDir, id),
      received: 0,
      outcome: undefined,
    };
    await writeFile(session.path, '');
    this.#sessions.set(id, session);
    return id;
  }

  #get(id: string): UploadSession {
    const session = this.#sessions.get(id);
    if (!session) throw notFound(`No such upload session: ${id}`);
    return session;
  }

  bucketOf(id: string): string {
    return this.#get(id).bucket;
  }

  /** Cancels an open session; GCS answers 499 to the cancel request. */
  async cancel(id: string): Promise<void> {
    const session = this.#get(id);
    await this.#locks.run(id, async () => {
      if (session.outcome && 'object' in session.outcome) {
        throw badRequest('The upload session has already completed.');
      }
      session.outcome = { cancelled: true };
      await rm(session.path, { force: true });
    });
  }

  /**
   * One PUT to the session URI. `range` undefined means the body is the whole
   * object. Writes at the chunk's offset (a re-sent overlap rewrites the same
   * bytes), then either finalizes or reports what is persisted.
   */
  async put(
    id: string,
    body: AsyncIterable<Buffer>,
    range: UploadContentRange | undefined,
    clientHashes: Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>>,
  ): Promise<PutResult> {
    const session = this.#get(id);
    return this.#locks.run(id, async () => {
      const { outcome } = session;
      if (outcome) {
        for await (const _chunk of body) {
          // discard: the session is over
        }
        if ('object' in outcome) return { done: true, object: outcome.object };
        if ('error' in outcome) throw outcome.error;
        throw new GcsApiError(499, 'clientClosedRequest', 'The upload session was cancelled.');
      }
      const effective = range ?? { kind: 'data', start: 0, end: undefined, total: undefined };
      if (effective.kind === 'status') {
        for await (const _chunk of body) {
          // a status request carries no data
        }
        if (effective.total !== undefined) {
          if (effective.total < session.received) {
            throw badRequest(
              `Invalid request. The total size ${effective.total} is smaller than the ${session.received} bytes already uploaded.`,
            );
          }
          if (effective.total === session.received) return this.#finalize(session, clientHashes);
        }
        return { done: false, received: session.received };
      }
      if (effective.start > session.received) {
        for await (const _chunk of body) {
          // rejected below
        }
        throw badRequest(
          `Invalid request. According to the Content-Range header, the upload offset is ${effective.start} byte(s), which exceeds already uploaded size of ${session.received} byte(s).`,
        );
      }
      const written = await this.#writeAt(session, body, effective.start);
      const end = effective.start + written;
      if (effective.end !== undefined && end !== effective.end + 1) {
        await truncate(session.path, session.received);
        throw badRequest(
          `Invalid request. The Content-Range header claims bytes ${effective.start}-${effective.end} but the body has ${written} byte(s).`,
        );
      }
      const final =
        effective.total !== undefined
          ? end >= effective.total
          : effective.end === undefined /* rest of stream */;
      if (final) {
        if (effective.total !== undefined && end !== effective.total) {
          await truncate(session.path, session.received);
          throw badRequest(
            `Invalid request. The upload declared ${effective.total} byte(s) but received ${end}.`,
          );
        }
        await truncate(session.path, end);
        session.received = end;
        return this.#finalize(session, clientHashes);
      }
      if (written < UPLOAD_CHUNK_GRANULARITY) {
        await truncate(session.path, session.received);
        throw badRequest(
          `Invalid request. The number of bytes uploaded is required to be equal or greater than ${UPLOAD_CHUNK_GRANULARITY}, except for the final request (it's recommended to be the exact multiple of ${UPLOAD_CHUNK_GRANULARITY}). The received request contained ${written} bytes, which does not meet this requirement.`,
        );
      }
      // Like GCS, persist whole 256 KiB units only; the client resends the rest.
      const persisted =
        effective.start + Math.floor(written / UPLOAD_CHUNK_GRANULARITY) * UPLOAD_CHUNK_GRANULARITY;
      session.received = Math.max(session.received, persisted);
      await truncate(session.path, session.received);
      return { done: false, received: session.received };
    });
  }

  async #writeAt(session: UploadSession, body: AsyncIterable<Buffer>, start: number): Promise<number> {
    const handle = await open(session.path, 'r+');
    let position = start;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        await handle.write(bytes, 0, bytes.length, position);
        position += bytes.length;
      }
    } catch (error) {
      // The client went away mid-chunk: keep only what was persisted before.
      await handle.truncate(session.received);
      throw error;
    } finally {
      await handle.close();
    }
    return position - start;
  }

  async #finalize(
    session: UploadSession,
    clientHashes: Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>>,
  ): Promise<PutResult> {
    try {
      const hashes = await hashFile(session.path);
      verifyHashes(hashes, session.expected);
      verifyHashes(hashes, clientHashes);
      if (session.declaredSize !== undefined && session.declaredSize !== hashes.size) {
        throw badRequest(
          `Invalid request. X-Upload-Content-Length declared ${session.declaredSize} byte(s) but ${hashes.size} were uploaded.`,
        );
      }
      const object = await this.#store.writeObject({
        bucket: session.bucket,
        name: session.name,
        dataPath: session.path,
        hashes,
        attributes: session.attributes,
        preconditions: session.preconditions,
      });
      session.outcome = { object };
      return { done: true, object };
    } catch (error) {
      if (error instanceof GcsApiError) session.outcome = { error };
      await rm(session.path, { force: true });
      throw error;
    }
  }
}

/** A checksum the client sent (metadata field or `X-Goog-Hash`) must match the bytes, or the write is refused. */
export function verifyHashes(
  actual: ContentHashes,
  expected: Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>>,
): void {
  if (expected.crc32c !== undefined && expected.crc32c !== actual.crc32c) {
    throw badRequest(
      `Provided CRC32C "${expected.crc32c}" doesn't match calculated CRC32C "${actual.crc32c}".`,
    );
  }
  if (expected.md5Hash !== undefined && expected.md5Hash !== actual.md5Hash) {
    throw badRequest(
      `Provided MD5 hash "${expected.md5Hash}" doesn't match calculated MD5 hash "${actual.md5Hash}".`,
    );
  }
}

/** `X-Goog-Hash: crc32c=...,md5=...` */
export function parseGoogHash(value: string | undefined): Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>> {
  const result: Partial<Pick<ContentHashes, 'md5Hash' | 'crc32c'>> = {};
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const key = pair.slice(0, at).trim().toLowerCase();
    const hash = pair.slice(at + 1).trim();
    if (key === 'crc32c') result.crc32c = hash;
    else if (key === 'md5') result.md5Hash = hash;
  }
  return result;
}
