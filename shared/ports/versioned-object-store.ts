/**
 * Objects with generations (GCS object generations): reads return the generation they saw, and a
 * write can be made conditional on it, which is how a pointer object is swapped atomically.
 */
export interface VersionedObject {
  body: Buffer;
  /** Opaque; changes with every write of the name. */
  generation: string;
}

export interface VersionedObjectStore {
  readonly bucket: string;
  read(name: string): Promise<VersionedObject | null>;
  /**
   * Writes `name`. With `ifGeneration`, only if the object's current generation is that one
   * ('0': only if it does not exist); otherwise resolves `{ written: false }` and changes nothing.
   */
  write(
    name: string,
    body: Buffer,
    options: { contentType: string; ifGeneration?: string },
  ): Promise<{ written: true; generation: string } | { written: false }>;
  /** Object names under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
}
