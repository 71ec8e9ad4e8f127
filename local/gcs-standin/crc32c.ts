// CRC-32C (Castagnoli), the checksum GCS reports as `crc32c`. node:zlib only
// ships plain CRC-32, so a slicing-by-8 table implementation is kept here.
const POLYNOMIAL = 0x82f63b78;

const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n]!;
    for (let t = 1; t < 8; t++) {
      c = first[c & 0xff]! ^ (c >>> 8);
      tables[t]![n] = c >>> 0;
    }
  }
  return tables;
})();

/** Incremental CRC-32C: feed `update` chunk by chunk, read `value` or `base64`. */
export class Crc32c {
  #crc = 0xffffffff;

  update(chunk: Uint8Array): this {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
    ];
    let crc = this.#crc;
    let i = 0;
    const end8 = chunk.length - (chunk.length % 8);
    for (; i < end8; i += 8) {
      const lo =
        (crc ^ (chunk[i]! | (chunk[i + 1]! << 8) | (chunk[i + 2]! << 16) | (chunk[i + 3]! << 24))) >>> 0;
      crc =
        t7[lo & 0xff]! ^
        t6[(lo >>> 8) & 0xff]! ^
        t5[(lo >>> 16) & 0xff]! ^
        t4[lo >>> 24]! ^
        t3[chunk[i + 4]!]! ^
        t2[chunk[i + 5]!]! ^
        t1[chunk[i + 6]!]! ^
        t0[chunk[i + 7]!]!;
    }
    for (; i < chunk.length; i++) crc = t0[(crc ^ chunk[i]!) & 0xff]! ^ (crc >>> 8);
    this.#crc = crc >>> 0;
    return this;
  }

  get value(): number {
    return (this.#crc ^ 0xffffffff) >>> 0;
  }

  /** Big-endian 4 bytes in base64, the encoding of the JSON API and `x-goog-hash`. */
  get base64(): string {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.value);
    return bytes.toString('base64');
  }
}

export function crc32cBase64(data: Uint8Array): string {
  return new Crc32c().update(data).base64;
}
