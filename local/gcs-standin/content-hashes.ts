import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Crc32c } from './crc32c.js';

export interface ContentHashes {
  size: number;
  md5Hash: string;
  crc32c: string;
}

/** Computes the size, MD5 and CRC-32C of a byte stream as it passes. */
export class ContentHasher {
  #md5: Hash = createHash('md5');
  #crc = new Crc32c();
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#md5.update(chunk);
    this.#crc.update(chunk);
    this.#size += chunk.length;
  }

  digest(): ContentHashes {
    return { size: this.#size, md5Hash: this.#md5.digest('base64'), crc32c: this.#crc.base64 };
  }
}

export function hashBuffer(data: Uint8Array): ContentHashes {
  const hasher = new ContentHasher();
  hasher.update(data);
  return hasher.digest();
}

export async function hashFile(path: string): Promise<ContentHashes> {
  const hasher = new ContentHasher();
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
  return hasher.digest();
}
