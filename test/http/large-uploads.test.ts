/**
 * Large blobs through upload sessions: chunk sizes that never line up with the bucket's parts,
 * bodies of unknown length, and a restart in the middle of a multipart upload. On the Worker
 * these run against local R2, which enforces R2's part rules: any violation fails the upload.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  digestOf,
  finishUpload,
  getBlob,
  openSession,
  patchChunk,
  randomBytes,
  randomName,
  streamed,
} from "../support/client";
import { isWorkerTarget, type RegistryServer, startRegistry } from "../support/server";

const MiB = 1024 * 1024;
let server: RegistryServer;

beforeAll(async () => {
  server = await startRegistry();
});

afterAll(async () => {
  await server.stop();
});

/** The SHA-256 digest of a blob read back, streamed, and its length. */
async function readBack(repo: string, digest: string): Promise<{ digest: string; size: number }> {
  const res = await getBlob(server.url, repo, digest);
  expect(res.status).toBe(200);
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of res.body ?? []) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

/** A stream of `size` pseudo-random bytes made as it is read, hashed into `hash`. */
function generated(size: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const block = randomBytes(MiB);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = block.slice(0, Math.min(MiB, size - sent));
      chunk[0] = sent & 0xff;
      chunk[1] = (sent >>> 8) & 0xff;
      hash.update(chunk);
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

describe("large uploads", () => {
  test("PATCH upload: 64 MiB in chunks of 1, 7, 13 MiB and the rest, with a restart midway", async () => {
    const repo = randomName("large");
    const data = randomBytes(64 * MiB);
    const location = await openSession(server.url, repo);
    const sizes = [1 * MiB, 7 * MiB, 13 * MiB];
    let offset = 0;
    for (const size of sizes) {
      const chunk = data.subarray(offset, offset + size);
      const res = await patchChunk(location, chunk, `${offset}-${offset + size - 1}`);
      expect(res.status).toBe(202);
      offset += size;
    }
    await server.restart();
    const rest = await fetch(location, { method: "PATCH", ...streamed(data.subarray(offset)) });
    const put = await finishUpload(location, digestOf(data));

    expect(rest.status).toBe(202);
    expect(rest.headers.get("range")).toBe(`0-${data.length - 1}`);
    expect(put.status).toBe(201);
    expect(await readBack(repo, digestOf(data))).toEqual({
      digest: digestOf(data),
      size: data.length,
    });
  });

  test("PATCH upload: 300 MiB streamed without Content-Length in chunks below the body limit", async () => {
    const repo = randomName("large");
    const hash = createHash("sha256");
    const location = await openSession(server.url, repo);
    const chunk = 75 * MiB;
    for (let i = 0; i < 4; i++) {
      const body = generated(chunk, hash);
      const res = await fetch(location, { method: "PATCH", body, duplex: "half" } as RequestInit);
      expect(res.status).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${(i + 1) * chunk - 1}`);
    }
    const digest = `sha256:${hash.digest("hex")}`;

    const put = await finishUpload(location, digest);

    expect(put.status).toBe(201);
    expect(await readBack(repo, digest)).toEqual({ digest, size: 4 * chunk });
  });

  test("PUT upload: a digest mismatch after multipart parts stores nothing", async () => {
    const repo = randomName("large");
    const data = randomBytes(20 * MiB);
    const location = await openSession(server.url, repo);
    await patchChunk(location, data, `0-${data.length - 1}`);
    const wrong = digestOf(randomBytes(16));

    const put = await finishUpload(location, wrong);
    const right = await finishUpload(location, digestOf(data));

    expect(put.status).toBe(400);
    expect(right.status).toBe(404);
    expect((await getBlob(server.url, repo, digestOf(data))).status).toBe(404);
    expect((await getBlob(server.url, repo, wrong)).status).toBe(404);
  });

  test("POST upload: OCI-Chunk-Max-Length is advertised on the Worker only", async () => {
    const res = await fetch(`${server.url}/v2/${randomName("large")}/blobs/uploads/`, {
      method: "POST",
    });

    const max = res.headers.get("oci-chunk-max-length");
    expect(max === null ? null : Number(max)).toBe(isWorkerTarget ? 100_000_000 : null);
  });
});
