/**
 * The block buffering shared by the TypeScript SHA-2 implementations: whole blocks are
 * compressed straight from the caller's bytes; only a trailing partial block is copied.
 */
import type { DigestAlgorithm } from "../registry/digest";
import type { ResumableHasher } from "./hasher";
import { encodeState, type HashState, toHex } from "./state";

export abstract class Sha2Base implements ResumableHasher {
  abstract readonly algorithm: DigestAlgorithm;
  readonly #blockSize: number;
  readonly #pending: Uint8Array;
  readonly #pendingView: DataView;
  #pendingLength = 0;
  #length = 0;

  constructor(blockSize: number) {
    this.#blockSize = blockSize;
    this.#pending = new Uint8Array(blockSize);
    this.#pendingView = new DataView(this.#pending.buffer);
  }

  /** Compresses the block at `offset` of `view` into the chaining value. */
  protected abstract compress(view: DataView, offset: number): void;
  /** The chaining value, big-endian. */
  protected abstract words(): Uint8Array;
  /** Replaces the chaining value with big-endian `words`. */
  protected abstract loadWords(words: Uint8Array): void;
  /** Writes the message length in bits at the end of the final block. */
  protected abstract writeLength(view: DataView, bits: number): void;

  update(data: Uint8Array): void {
    let offset = 0;
    this.#length += data.length;
    if (this.#pendingLength > 0) offset = this.#fill(data);

    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const wholeEnd =
      offset + Math.floor((data.length - offset) / this.#blockSize) * this.#blockSize;
    for (; offset < wholeEnd; offset += this.#blockSize) this.compress(view, offset);

    this.#pending.set(data.subarray(offset), this.#pendingLength);
    this.#pendingLength += data.length - offset;
  }

  save(): string {
    return encodeState(this.state());
  }

  state(): HashState {
    return {
      algorithm: this.algorithm,
      words: this.words(),
      length: this.#length,
      pending: this.#pending.slice(0, this.#pendingLength),
    };
  }

  load(state: HashState): this {
    this.loadWords(state.words);
    this.#length = state.length;
    this.#pending.set(state.pending);
    this.#pendingLength = state.pending.length;
    return this;
  }

  digestHex(): string {
    const bits = this.#length * 8;
    const block = this.#pending;
    block.fill(0, this.#pendingLength);
    block[this.#pendingLength] = 0x80;
    if (this.#pendingLength + 1 > this.#blockSize - this.#blockSize / 8) {
      this.compress(this.#pendingView, 0);
      block.fill(0);
    }
    this.writeLength(this.#pendingView, bits);
    this.compress(this.#pendingView, 0);
    return toHex(this.words());
  }

  /** Tops up the pending block from `data`; returns how many bytes of `data` it took. */
  #fill(data: Uint8Array): number {
    const taken = Math.min(this.#blockSize - this.#pendingLength, data.length);
    this.#pending.set(data.subarray(0, taken), this.#pendingLength);
    this.#pendingLength += taken;
    if (this.#pendingLength === this.#blockSize) {
      this.compress(this.#pendingView, 0);
      this.#pendingLength = 0;
    }
    return taken;
  }
}
