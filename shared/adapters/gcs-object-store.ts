import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { FleetConfig } from '../config.js';
import type { ObjectStore } from '../ports/object-store.js';
import { httpStatusOf, toSinkError } from './google-api-error.js';

/**
 * ObjectStore over Cloud Storage (or the GCS stand-in) through the official client. Uploads are
 * single-request (`resumable: false`: objects are small, and a resumable session costs an extra
 * round trip) and conditional on the object not existing (`ifGenerationMatch: 0`), which also
 * makes them safe for the client to retry on 5xx / 429.
 */
export class GcsObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly #storage: Storage;

  constructor(storage: Storage, bucket: string) {
    this.#storage = storage;
    this.bucket = bucket;
  }

  async putIfAbsent(
    name: string,
    body: Buffer,
    options: { contentType: string; contentEncoding?: 'gzip' },
  ): Promise<'created' | 'exists'> {
    const file = this.#storage.bucket(this.bucket).file(name);
    try {
      await file.save(body, {
        resumable: false,
        // The body is already encoded as stored; the client must not gzip it again.
        gzip: false,
        contentType: options.contentType,
        metadata: {
          contentType: options.contentType,
          ...(options.contentEncoding === undefined ? {} : { contentEncoding: options.contentEncoding }),
        },
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      return 'created';
    } catch (error) {
      // 412: the name exists. Names are derived from content, so it holds these bytes. This is
      // also what a client-side retry sees when the first attempt landed but its response was lost.
      if (httpStatusOf(error) === 412) return 'exists';
      throw toSinkError(error, `gs://${this.bucket}/${name}: upload failed`, { bucket: this.bucket, name });
    }
  }

  async get(name: string): Promise<Buffer | null> {
    try {
      // decompress: false returns the stored (possibly gzip) bytes, as the port promises.
      const [contents] = await this.#storage.bucket(this.bucket).file(name).download({ decompress: false });
      return contents;
    } catch (error) {
      if (httpStatusOf(error) === 404) return null;
      throw toSinkError(error, `gs://${this.bucket}/${name}: download failed`, { bucket: this.bucket, name });
    }
  }

  list(prefix: string): Promise<string[]> {
    return listObjectNames(this.#storage, this.bucket, prefix);
  }
}

/**
 * A Storage client for the configured target: Cloud Storage with Application Default Credentials,
 * or, when `storageEmulatorHost` is set (`host:port` or a URL), the local stand-in without auth
 * (the client skips authentication for a custom endpoint).
 */
export function createStorageClient(
  config: Pick<FleetConfig, 'projectId' | 'storageEmulatorHost'>,
  overrides: StorageOptions = {},
): Storage {
  const options: StorageOptions = {
    projectId: config.projectId,
    // Bounded client-side retries: a flush must fail (and be redelivered) in seconds, not minutes.
    retryOptions: {
      autoRetry: true,
      maxRetries: 3,
      retryDelayMultiplier: 2,
      maxRetryDelay: 2,
      totalTimeout: 30,
    },
    ...overrides,
  };
  if (config.storageEmulatorHost === undefined) return new Storage(options);
  const apiEndpoint = endpointUrl(config.storageEmulatorHost);
  const storage = new Storage({ ...options, apiEndpoint });
  // A STORAGE_EMULATOR_HOST variable in the process environment also feeds the client, verbatim, as
  // the JSON API base URL; a scheme-less `host:port` there breaks every metadata call. Pin it.
  storage.baseUrl = `${apiEndpoint}/storage/v1`;
  return storage;
}

function endpointUrl(hostOrUrl: string): string {
  return /^https?:\/\//.test(hostOrUrl) ? hostOrUrl : `http://${hostOrUrl}`;
}

/** Object names under a prefix, in lexicographic order (every page). */
export async function listObjectNames(storage: Storage, bucket: string, prefix: string): Promise<string[]> {
  try {
    const [files] = await storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
    // GCS lists in lexicographic order already; sorting keeps that true for any backend.
    return files.map((file) => file.name).sort();
  } catch (error) {
    throw toSinkError(error, `gs://${bucket}/${prefix}*: listing failed`, { bucket, prefix });
  }
}
