// The object a Cloud Storage subscription is filling, in text format (pure): message data joined by
// a newline, cut by max bytes, max messages or max duration as Google's reference describes.

export interface BatchLimits {
  maxBytes: number;
  maxMessages: number;
  maxDurationMs: number;
}

const NEWLINE = Buffer.from('\n');

/**
 * One object's messages and what to acknowledge once it is written (`handles`). It never grows
 * past maxBytes, except that a message larger than maxBytes still goes out, alone, as Pub/Sub's
 * does ("a file might exceed max bytes if the subscription receives messages larger than it").
 */
export class TextObjectBatch<Handle> {
  readonly openedAtMs: number;
  readonly handles: Handle[] = [];
  readonly #limits: BatchLimits;
  readonly #parts: Buffer[] = [];
  #bytes = 0;

  constructor(openedAtMs: number, limits: BatchLimits) {
    this.openedAtMs = openedAtMs;
    this.#limits = limits;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get messages(): number {
    return this.#parts.length;
  }

  /** Whether a message of `size` bytes may join; when not, the batch is finalized first. */
  accepts(size: number): boolean {
    if (this.messages === 0) return true;
    return (
      this.messages < this.#limits.maxMessages && this.#bytes + NEWLINE.length + size <= this.#limits.maxBytes
    );
  }

  add(data: Buffer, handle: Handle): void {
    this.#bytes += (this.messages > 0 ? NEWLINE.length : 0) + data.length;
    this.#parts.push(data);
    this.handles.push(handle);
  }

  /** Nothing more may join: finalize now rather than on the next message. */
  get full(): boolean {
    return this.#bytes >= this.#limits.maxBytes || this.messages >= this.#limits.maxMessages;
  }

  expired(nowMs: number): boolean {
    return nowMs - this.openedAtMs >= this.#limits.maxDurationMs;
  }

  /** The object's bytes: each message's data as received, a newline between two messages. */
  body(): Buffer {
    const pieces: Buffer[] = [];
    for (const [i, part] of this.#parts.entries()) {
      if (i > 0) pieces.push(NEWLINE);
      pieces.push(part);
    }
    return Buffer.concat(pieces, this.#bytes);
  }
}
