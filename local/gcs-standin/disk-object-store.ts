import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketNotFound, conflict, objectNotFound } from './api-error.js';
import type { StoredBucket } from './bucket-resource.js';
import type { ContentHashes } from './content-hashes.js';
import { KeyedMutex } from './keyed-mutex.js';
import { type ListPage, type ListQuery, listPage } from './object-listing.js';
import type { ObjectAttributes, StoredObject } from './object-resource.js';
import { checkPreconditions, type ObjectSelector, type Preconditions } from './preconditions.js';
import { objectFileStem, validateBucketName } from './resource-names.js';

/** Generations are microsecond timestamps like GCS's, strictly increasing within the process. */
class GenerationClock {
  #last = 0;
  next(): string {
    this.#last = Math.max(Date.now() * 1000, this.#last + 1);
    return String(this.#last);
  }
}

interface BucketEntry {
  bucket: StoredBucket;
  objects: Map<string, StoredObject>;
}

export interface NewObject {
  bucket: string;
  name: string;
  /** A file under the store's temp folder holding the bytes; it is moved, not copied. */
  dataPath: string;
  hashes: ContentHashes;
  attributes: ObjectAttributes;
  preconditions: Preconditions;
  /** The number of components of a composed object. */
  componentCount?: number;
}

/**
 * Buckets and objects in a folder:
 *   <root>/<bucket>/bucket.json
 *   <root>/<bucket>/objects/<stem>.json          sidecar: the object resource, the commit point
 *   <root>/<bucket>/objects/<stem>.<generation>.bin   the bytes of that generation
 *   <root>/.tmp/ and <root>/.uploads/             in-flight data (bucket names cannot start with a dot)
 * A write lands its bytes under a new generation's file name, then renames
 * the sidecar over the old one, so a reader or a crash sees the old object or
 * the new one, never a mix. Metadata is indexed in memory: one server owns a root.
 */
export class DiskObjectStore {
  readonly root: string;
  readonly tempDir: string;
  readonly uploadsDir: string;
  #buckets = new Map<string, BucketEntry>();
  #locks = new KeyedMutex();
  #clock = new GenerationClock();

  private constructor(root: string) {
    this.root = root;
    this.tempDir = join(root, '.tmp');
    this.uploadsDir = join(root, '.uploads');
  }

  static async open(root: string): Promise<DiskObjectStore> {
    const store = new DiskObjectStore(root);
    await mkdir(root, { recursive: true });
    // In-flight data of a previous run cannot be resumed: start clean.
    await rm(store.tempDir, { recursive: true, force: true });
    await rm(store.uploadsDir, { recursive: true, force: true });
    await mkdir(store.tempDir);
    await mkdir(store.uploadsDir);
    await store.#load();
    return store;
  }

  async #load(): Promise<void> {
    for (const dirent of await readdir(this.root, { withFileTypes: true })) {
      if (!dirent.isDirectory() || dirent.name.startsWith('.')) continue;
      let bucket: StoredBucket;
      try {
        validateBucketName(dirent.name);
        bucket = JSON.parse(
          await readFile(join(this.root, dirent.name, 'bucket.json'), 'utf8'),
        ) as StoredBucket;
      } catch {
        continue; // not a bucket folder
      }
      const objects = new Map<string, StoredObject>();
      const dir = this.#objectsDir(bucket.name);
      await mkdir(dir, { recursive: true });
      const files = await readdir(dir);
      const live = new Set<string>();
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        const object = JSON.parse(await readFile(join(dir, file), 'utf8')) as StoredObject;
        objects.set(object.name, object);
        live.add(this.#dataFileName(object));
      }
      // Bytes of superseded generations left by an interrupted write.
      for (const file of files.filter((f) => f.endsWith('.bin') && !live.has(f))) {
        await rm(join(dir, file), { force: true });
      }
      this.#buckets.set(bucket.name, { bucket, objects });
    }
  }

  /** A fresh path in the temp folder, on the same file system as the objects (rename is atomic). */
  tempPath(): string {
    return join(this.tempDir, randomUUID());
  }

  #objectsDir(bucket: string): string {
    return join(this.root, bucket, 'objects');
  }

  #dataFileName(object: StoredObject): string {
    return `${objectFileStem(object.name)}.${object.generation}.bin`;
  }

  #dataPath(object: StoredObject): string {
    return join(this.#objectsDir(object.bucket), this.#dataFileName(object));
  }

  #sidecarPath(bucket: string, name: string): string {
    return join(this.#objectsDir(bucket), `${objectFileStem(name)}.json`);
  }

  async #writeJsonAtomic(path: string, value: unknown): Promise<void> {
    const temp = this.tempPath();
    await writeFile(temp, JSON.stringify(value, null, 2));
    await rename(temp, path);
  }

  #entry(bucket: string): BucketEntry {
    const entry = this.#buckets.get(bucket);
    if (!entry) throw bucketNotFound();
    return entry;
  }

  getBucket(name: string): StoredBucket {
    return this.#entry(name).bucket;
  }

  listBuckets(project: string, prefix = ''): StoredBucket[] {
    return [...this.#buckets.values()]
      .map((entry) => entry.bucket)
      .filter((bucket) => bucket.project === project && bucket.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async createBucket(bucket: StoredBucket): Promise<StoredBucket> {
    if (this.#buckets.has(bucket.name)) {
      throw conflict('Your previous request to create the named bucket succeeded and you already own it.');
    }
    // Claimed before any await, so two concurrent inserts cannot both succeed.
    const entry: BucketEntry = { bucket, objects: new Map() };
    this.#buckets.set(bucket.name, entry);
    try {
      await mkdir(this.#objectsDir(bucket.name), { recursive: true });
      await this.#writeJsonAtomic(join(this.root, bucket.name, 'bucket.json'), bucket);
    } catch (error) {
      this.#buckets.delete(bucket.name);
      throw error;
    }
    return bucket;
  }

  async deleteBucket(name: string): Promise<void> {
    const entry = this.#entry(name);
    if (entry.objects.size > 0) throw conflict('The bucket you tried to delete is not empty.');
    this.#buckets.delete(name);
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  listObjects(bucket: string, query: ListQuery): ListPage<StoredObject> {
    return listPage(this.#entry(bucket).objects, query);
  }

  #live(bucket: string, name: string, selector: ObjectSelector, kind: 'read' | 'write'): StoredObject {
    const object = this.#entry(bucket).objects.get(name);
    if (!object || (selector.generation !== undefined && selector.generation !== object.generation)) {
      throw objectNotFound(bucket, name);
    }
    checkPreconditions(object, selector.preconditions, kind);
    return object;
  }

  /** The live object or undefined; the bucket must exist. */
  peekObject(bucket: string, name: string): StoredObject | undefined {
    return this.#entry(bucket).objects.get(name);
  }

  /** The object resource, after its preconditions hold. */
  getObject(bucket: string, name: string, selector: ObjectSelector): StoredObject {
    return this.#live(bucket, name, selector, 'read');
  }

  /**
   * Opens the bytes of the live object. The handle stays valid even if the
   * object is replaced or deleted while the caller streams it.
   */
  async openObject(
    bucket: string,
    name: string,
    selector: ObjectSelector,
  ): Promise<{ object: StoredObject; handle: FileHandle }> {
    return this.#locks.run(`${bucket}/${name}`, async () => {
      const object = this.#live(bucket, name, selector, 'read');
      return { object, handle: await open(this.#dataPath(object), 'r') };
    });
  }

  async writeObject(input: NewObject): Promise<StoredObject> {
    const { bucket, name } = input;
    try {
      return await this.#locks.run(`${bucket}/${name}`, async () => {
        const entry = this.#entry(bucket);
        const current = entry.objects.get(name);
        checkPreconditions(current, input.preconditions, 'write');
        const now = new Date().toISOString();
        const object: StoredObject = {
          ...input.attributes,
          ...input.hashes,
          ...(input.componentCount === undefined ? {} : { componentCount: input.componentCount }),
          bucket,
          name,
          generation: this.#clock.next(),
          metageneration: '1',
          timeCreated: now,
          updated: now,
        };
        const dataPath = this.#dataPath(object);
        await rename(input.dataPath, dataPath);
        try {
          await this.#writeJsonAtomic(this.#sidecarPath(bucket, name), object);
        } catch (error) {
          await rm(dataPath, { force: true });
          throw error;
        }
        entry.objects.set(name, object);
        if (current) await rm(this.#dataPath(current), { force: true });
        return object;
      });
    } finally {
      // Left over only when the write was refused.
      await rm(input.dataPath, { force: true });
    }
  }

  async deleteObject(bucket: string, name: string, selector: ObjectSelector): Promise<void> {
    await this.#locks.run(`${bucket}/${name}`, async () => {
      const object = this.#live(bucket, name, selector, 'write');
      await rm(this.#sidecarPath(bucket, name), { force: true });
      this.#entry(bucket).objects.delete(name);
      await rm(this.#dataPath(object), { force: true });
    });
  }

  /** objects.patch: new attributes, same bytes and generation, next metageneration. */
  async patchObject(
    bucket: string,
    name: string,
    selector: ObjectSelector,
    patch: (current: ObjectAttributes) => ObjectAttributes,
  ): Promise<StoredObject> {
    return this.#locks.run(`${bucket}/${name}`, async () => {
      const current = this.#live(bucket, name, selector, 'write');
      const {
        contentType: _contentType,
        contentEncoding: _contentEncoding,
        contentDisposition: _contentDisposition,
        contentLanguage: _contentLanguage,
        cacheControl: _cacheControl,
        customTime: _customTime,
        metadata: _metadata,
        ...fixed
      } = current;
      const object: StoredObject = {
        ...fixed,
        ...patch(current),
        metageneration: String(Number(current.metageneration) + 1),
        updated: new Date().toISOString(),
      };
      await this.#writeJsonAtomic(this.#sidecarPath(bucket, name), object);
      this.#entry(bucket).objects.set(name, object);
      return object;
    });
  }
}
