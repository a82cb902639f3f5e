/**
 * Cuts a stream of chunks of any size into parts of exactly `partSize` bytes, the shape R2's
 * multipart uploads demand, holding at most one part in memory.
 *
 * Every chunk is copied into one part buffer at once, and the buffer is reused for every part:
 * incoming chunks die young, and a long upload leaves no part-sized garbage behind. So
 * `onPart` must be done with its argument when it resolves. The buffer grows to the part size
 * only as bytes arrive, so a small blob costs a small buffer.
 */
export class PartWriter {
  readonly #partSize: number;
  readonly #onPart: (part: Uint8Array) => Promise<void>;
  #buffer = new Uint8Array(0);
  #filled = 0;

  constructor(partSize: number, onPart: (part: Uint8Array) => Promise<void>) {
    this.#partSize = partSize;
    this.#onPart = onPart;
  }

  /** Takes `chunk`, handing every part it completes to `onPart` before returning. */
  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const taken = Math.min(chunk.length - offset, this.#partSize - this.#filled);
      this.#reserve(this.#filled + taken);
      this.#buffer.set(chunk.subarray(offset, offset + taken), this.#filled);
      this.#filled += taken;
      offset += taken;
      if (this.#filled === this.#partSize) {
        await this.#onPart(this.#buffer);
        this.#filled = 0;
      }
    }
  }

  /** The bytes after the last whole part; valid until the next `write`. */
  remainder(): Uint8Array {
    return this.#buffer.subarray(0, this.#filled);
  }

  /** Grows the buffer (by doubling, up to the part size) to hold `size` bytes. */
  #reserve(size: number): void {
    if (size <= this.#buffer.length) return;
    const capacity = Math.min(this.#partSize, Math.max(size, this.#buffer.length * 2));
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#filled));
    this.#buffer = grown;
  }
}
