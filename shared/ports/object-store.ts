/** A bucket of immutable objects (GCS in production, the GCS stand-in locally). */
export interface ObjectStore {
  readonly bucket: string;
  /**
   * Create `name` unless it exists (GCS ifGenerationMatch=0). 'exists' is success for our writes:
   * names are derived from content, so an existing object holds the same bytes.
   */
  putIfAbsent(
    name: string,
    body: Buffer,
    options: { contentType: string; contentEncoding?: 'gzip' },
  ): Promise<'created' | 'exists'>;
  /** The object's stored bytes (not decompressed), or null when missing. */
  get(name: string): Promise<Buffer | null>;
  /** Object names under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
}
