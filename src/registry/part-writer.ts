/**
 * Cuts a stream of chunks of any size into parts of exactly `partSize` bytes, the shape R2's
 * multipart uploads demand, holding at most one part (plus one incoming chunk) in memory.
 */
export class PartWriter {
  readonly #partSize: number;
  readonly #onPart: (part: Uint8Array) => Promise<void>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  constructor(partSize: number, onPart: (part: Uint8Array) => Promise<void>) {
    this.#partSize = partSize;
    this.#onPart = onPart;
  }

  /** Buffers `chunk`, handing every part it completes to `onPart` before returning. */
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= this.#partSize) await this.#onPart(this.#take(this.#partSize));
  }

  /** The bytes after the last whole part. */
  remainder(): Uint8Array {
    return this.#take(this.#buffered);
  }

  #take(length: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length === length) {
      this.#chunks.shift();
      this.#buffered -= length;
      return first;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.#chunks[0] as Uint8Array;
      const used = Math.min(chunk.length, length - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#buffered -= length;
    return out;
  }
}
