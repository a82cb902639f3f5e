/** The body of a read object, with the readers R2's objects offer. */
import type { StoredObject, StoredObjectBody } from "../storage";

const STREAM_CHUNK = 64 * 1024;

/** A stream over bytes in memory, in chunks of a size a network write would use. */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + STREAM_CHUNK));
      offset += STREAM_CHUNK;
    },
  });
}

/** Adds a body, and the readers of it, to an object's description. */
export function withBody(
  object: StoredObject,
  body: ReadableStream<Uint8Array>,
  blob?: Blob,
): StoredObjectBody {
  const text = () => new Response(body).text();
  return {
    ...object,
    body,
    ...(blob && { blob }),
    arrayBuffer: () => new Response(body).arrayBuffer(),
    text,
    json: async <T>() => JSON.parse(await text()) as T,
  };
}
