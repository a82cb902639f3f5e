/**
 * What upload sessions ask of the bucket, watched from inside: R2's rules hold for every write,
 * large blobs are completed in place, and no blob is copied after upload.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { typescriptHashEngine } from "../../src/hash/typescript-engine";
import { createApp } from "../../src/http/app";
import { silentLogger } from "../../src/http/logger";
import { createRegistry } from "../../src/registry/registry";
import { MemoryStorage } from "../../src/storage/memory";
import type { MultipartUpload, ObjectStorage, PutValue } from "../../src/storage/storage";

const MiB = 1024 * 1024;
const PART = 5 * MiB;

interface Write {
  kind: "put" | "part";
  key: string;
  size: number;
}

function sizeOf(value: PutValue): number {
  if (value === null) return 0;
  if (typeof value === "string") return new TextEncoder().encode(value).length;
  if (value instanceof Blob) return value.size;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value.byteLength;
  return value.length;
}

/** A bucket that records every write and every read of blob bytes. */
function watched(): { storage: ObjectStorage; writes: Write[]; dataReads: string[] } {
  const inner = new MemoryStorage();
  const writes: Write[] = [];
  const dataReads: string[] = [];
  const watch = (upload: MultipartUpload): MultipartUpload => ({
    key: upload.key,
    uploadId: upload.uploadId,
    uploadPart: (n, value) => {
      writes.push({ kind: "part", key: upload.key, size: sizeOf(value) });
      return upload.uploadPart(n, value);
    },
    abort: () => upload.abort(),
    complete: (parts) => upload.complete(parts),
  });
  const storage: ObjectStorage = {
    head: (key) => inner.head(key),
    get: (key, options) => {
      if (key.startsWith("data/") || key.startsWith("blobs/")) dataReads.push(key);
      return inner.get(key, options);
    },
    put: (key, value, options) => {
      writes.push({ kind: "put", key, size: sizeOf(value) });
      return inner.put(key, value, options);
    },
    delete: (keys) => inner.delete(keys),
    list: (options) => inner.list(options),
    listKeys: (options) => inner.listKeys(options),
    createMultipartUpload: async (key, options) =>
      watch(await inner.createMultipartUpload(key, options)),
    resumeMultipartUpload: (key, id) => watch(inner.resumeMultipartUpload(key, id)),
  };
  return { storage, writes, dataReads };
}

function appOver(storage: ObjectStorage) {
  const registry = createRegistry({
    storage,
    hashEngine: typescriptHashEngine,
    partSize: PART,
    maxPutSize: 16 * MiB,
  });
  return createApp(registry, { logger: silentLogger });
}

function blob(size: number): { bytes: Uint8Array; digest: string } {
  const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 13)) & 0xff);
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 300_001)
        controller.enqueue(bytes.slice(i, i + 300_001));
      controller.close();
    },
  });
}

describe("upload sessions against the bucket", () => {
  test("chunks of odd sizes: every part is the part size but the last, no put above it", async () => {
    const { storage, writes } = watched();
    const app = appOver(storage);
    const { bytes, digest } = blob(23 * MiB + 17);
    const post = await app.request("/v2/team/app/blobs/uploads/", { method: "POST" });
    const location = post.headers.get("location") ?? "";
    const chunks: [number, number][] = [
      [0, 3 * MiB],
      [3 * MiB, 11 * MiB + 5],
      [11 * MiB + 5, bytes.length],
    ];
    for (const [start, end] of chunks) {
      const body = bytes.slice(start, end);
      await app.request(location, {
        method: "PATCH",
        body,
        headers: { "Content-Range": `${start}-${end - 1}` },
      });
    }

    const put = await app.request(`${location}?digest=${digest}`, { method: "PUT" });

    expect(put.status).toBe(201);
    const parts = writes.filter((w) => w.kind === "part").map((w) => w.size);
    expect(parts).toEqual([PART, PART, PART, PART, 3 * MiB + 17]);
    const blobWrites = writes.filter((w) => w.kind === "put" && !w.key.startsWith("uploads/"));
    expect(blobWrites.every((w) => w.size < PART)).toBe(true);
  });

  test("a blob sent whole above the single-put limit goes in parts and is completed in place", async () => {
    const { storage, writes, dataReads } = watched();
    const app = appOver(storage);
    const { bytes, digest } = blob(20 * MiB);

    const res = await app.request(`/v2/team/app/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: bytes,
      headers: { "Content-Length": String(bytes.length) },
    });

    expect(res.status).toBe(201);
    expect(Math.max(...writes.filter((w) => w.kind === "put").map((w) => w.size))).toBeLessThan(
      PART,
    );
    expect(writes.filter((w) => w.kind === "part").map((w) => w.size)).toEqual([
      PART,
      PART,
      PART,
      PART,
    ]);
    expect(dataReads).toEqual([]);
    const record = await storage.head(`blobs/${digest.replace(":", "/")}`);
    expect(record?.customMetadata.location).toMatch(/^data\//);
  });

  test("a blob sent whole under the single-put limit is one put of its bytes, streamed", async () => {
    const { storage, writes } = watched();
    const app = appOver(storage);
    const { bytes, digest } = blob(9 * MiB);

    const res = await app.request(`/v2/team/app/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: streamOf(bytes),
      headers: { "Content-Length": String(bytes.length) },
    });

    expect(res.status).toBe(201);
    const blobPut = writes.filter((w) => w.key === `blobs/${digest.replace(":", "/")}`);
    expect(blobPut).toEqual([{ kind: "put", key: blobPut[0]?.key ?? "", size: bytes.length }]);
    expect(writes.some((w) => w.kind === "part")).toBe(false);
  });
});
