/** Small stream helpers shared by the upload paths. */
import type { ResumableHasher } from "../hash/hasher";

/** A stream that hashes what passes through and errors at its end when the digest differs. */
export class VerifyingStream extends TransformStream<Uint8Array, Uint8Array> {
  #mismatch = false;

  constructor(hasher: ResumableHasher, expectedHex: string) {
    super({
      transform: (chunk, controller) => {
        hasher.update(chunk);
        controller.enqueue(chunk);
      },
      flush: (controller) => {
        if (hasher.digestHex() === expectedHex) return;
        this.#mismatch = true;
        controller.error(new Error("digest mismatch"));
      },
    });
  }

  /** True once the stream ended with bytes that do not hash to the expected digest. */
  get mismatch(): boolean {
    return this.#mismatch;
  }
}

/** Reads a stream to its end, discarding the bytes. */
export async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
  }
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}
