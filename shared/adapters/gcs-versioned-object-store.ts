import type { Storage } from '@google-cloud/storage';
import type { VersionedObject, VersionedObjectStore } from '../ports/versioned-object-store.js';
import { listObjectNames } from './gcs-object-store.js';
import { httpStatusOf, toSinkError } from './google-api-error.js';

/**
 * VersionedObjectStore over Cloud Storage (or the GCS stand-in) with the official client: the
 * generation precondition is `ifGenerationMatch`, which GCS evaluates atomically (412 when another
 * writer got there first). Unconditional writes are retried by the client only when idempotent.
 */
export class GcsVersionedObjectStore implements VersionedObjectStore {
  readonly bucket: string;
  readonly #storage: Storage;

  constructor(storage: Storage, bucket: string) {
    this.#storage = storage;
    this.bucket = bucket;
  }

  async read(name: string): Promise<VersionedObject | null> {
    const bucket = this.#storage.bucket(this.bucket);
    try {
      // Body and generation must match: download the generation the metadata named. If a writer
      // replaced it in between, that generation is gone (404): read again.
      for (let attempt = 0; ; attempt++) {
        let generation: string;
        try {
          const [metadata] = await bucket.file(name).getMetadata();
          generation = String(metadata.generation);
        } catch (error) {
          if (httpStatusOf(error) === 404) return null;
          throw error;
        }
        try {
          const [body] = await bucket.file(name, { generation }).download();
          return { body, generation };
        } catch (error) {
          if (httpStatusOf(error) !== 404 || attempt >= 4) throw error;
        }
      }
    } catch (error) {
      throw toSinkError(error, `gs://${this.bucket}/${name}: read failed`, { bucket: this.bucket, name });
    }
  }

  async write(
    name: string,
    body: Buffer,
    options: { contentType: string; ifGeneration?: string },
  ): Promise<{ written: true; generation: string } | { written: false }> {
    const file = this.#storage.bucket(this.bucket).file(name);
    try {
      await file.save(body, {
        resumable: false,
        gzip: false,
        contentType: options.contentType,
        metadata: { contentType: options.contentType },
        ...(options.ifGeneration === undefined
          ? {}
          : { preconditionOpts: { ifGenerationMatch: Number(options.ifGeneration) } }),
      });
      return { written: true, generation: String(file.metadata.generation) };
    } catch (error) {
      if (httpStatusOf(error) === 412) return { written: false };
      throw toSinkError(error, `gs://${this.bucket}/${name}: write failed`, { bucket: this.bucket, name });
    }
  }

  list(prefix: string): Promise<string[]> {
    return listObjectNames(this.#storage, this.bucket, prefix);
  }
}
