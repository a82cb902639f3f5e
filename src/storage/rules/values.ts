/** A `PutValue`, whatever its form, as bytes in memory or as a stream of its declared length. */
import type { PutValue, SizedStream } from "../storage";
import { bytesStream } from "./bodies";
import { utf8 } from "./bytes";
import { StorageError } from "./errors";
import { isCount } from "./ranges";

/** The bytes of a `PutValue` already in memory; `undefined` for a stream or a `Blob`. */
export function putValueBytes(value: PutValue): Uint8Array | undefined {
  if (isSizedStream(value) || value instanceof Blob) return undefined;
  if (value === null) return new Uint8Array(0);
  if (typeof value === "string") return utf8(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Any `PutValue` as a stream of exactly `length` bytes: a `SizedStream` that yields more or fewer
 * fails while it is read, so a driver that writes it through stores nothing.
 */
export function putValueStream(value: PutValue): SizedStream {
  if (isSizedStream(value)) {
    if (!isCount(value.length)) throw new StorageError("InvalidLength", `length ${value.length}`);
    return { stream: value.stream.pipeThrough(exactly(value.length)), length: value.length };
  }
  if (value instanceof Blob) return { stream: value.stream(), length: value.size };
  const bytes = putValueBytes(value) ?? new Uint8Array(0);
  return { stream: bytesStream(bytes), length: bytes.byteLength };
}

function isSizedStream(value: PutValue): value is SizedStream {
  if (typeof value !== "object" || value === null || value instanceof Blob) return false;
  return "stream" in value && "length" in value;
}

function exactly(length: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > length) throw new StorageError("InvalidLength", `more than ${length} bytes`);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen < length) throw new StorageError("InvalidLength", `${seen} of ${length} bytes`);
    },
  });
}

/** Reads a sized stream whole. */
export async function readSized(sized: SizedStream): Promise<Uint8Array> {
  const bytes = new Uint8Array(sized.length);
  const reader = sized.stream.getReader();
  for (let offset = 0; ; ) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes.set(value, offset);
    offset += value.byteLength;
  }
}
