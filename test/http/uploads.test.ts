import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  absolute,
  digestOf,
  errorCodes,
  finishUpload,
  getBlob,
  openSession,
  patchChunk,
  pushBlob,
  randomBytes,
  randomName,
  startUpload,
  streamed,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

/** Generated once: the big uploads take slices of it. */
const BIG = randomBytes(12 * 1024 * 1024 + 345_679);
const MiB = 1024 * 1024;
const UNKNOWN_SESSION = "3b0d7a52-8c1e-4f4e-9a55-0c2f1d7e9b6a";

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
});

afterAll(() => server?.stop());

/**
 * Sends `chunks` in order on a session that holds `from` bytes, checking each 202 and its
 * `Range`; with `withRange`, each non-empty chunk carries its `Content-Range`. Returns the last
 * `Location`.
 */
async function patchAll(location: string, chunks: Uint8Array[], withRange = false, from = 0) {
  let size = from;
  for (const chunk of chunks) {
    const end = size + chunk.byteLength - 1;
    const range = withRange && chunk.byteLength > 0 ? `${size}-${end}` : undefined;
    const res = await patchChunk(location, chunk, range);
    size += chunk.byteLength;

    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe(`0-${Math.max(size - 1, 0)}`);
    location = absolute(url, res.headers.get("location"));
  }
  return location;
}

/** Cuts `data` into consecutive pieces of the given sizes, the last one taking the rest. */
function cut(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return [...pieces, data.subarray(offset)];
}

async function readBack(repo: string, digest: string) {
  const res = await getBlob(url, repo, digest);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

async function sessionRange(location: string) {
  const res = await fetch(location);
  expect(res.status).toBe(204);
  return res.headers.get("range");
}

describe("POST upload", () => {
  test("POST upload: 202 with Location, Docker-Upload-UUID, Range 0-0 and Content-Length 0", async () => {
    const res = await startUpload(url, randomName("uploads"));

    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBeTruthy();
    expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
    expect(res.headers.get("range")).toBe("0-0");
    expect(res.headers.get("content-length")).toBe("0");
  });

  test("POST upload: Location is the relative path of the session named by Docker-Upload-UUID", async () => {
    const repo = randomName("uploads");

    const res = await startUpload(url, repo);

    const uuid = res.headers.get("docker-upload-uuid");
    expect(res.headers.get("location")).toBe(`/v2/${repo}/blobs/uploads/${uuid}`);
  });

  test("POST upload: OCI-Chunk-Min-Length is a positive whole number", async () => {
    const res = await startUpload(url, randomName("uploads"));

    expect(res.headers.get("oci-chunk-min-length")).toMatch(/^[1-9][0-9]*$/);
  });

  test("POST upload: an unsupported digest-algorithm is 400 DIGEST_INVALID", async () => {
    const res = await startUpload(url, randomName("uploads"), { "digest-algorithm": "md5" });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
  });
});

describe("PATCH upload", () => {
  test("PATCH upload: 202 with Location, Range, Docker-Upload-UUID and Content-Length 0", async () => {
    const start = await startUpload(url, randomName("uploads"));
    const location = absolute(url, start.headers.get("location"));

    const res = await patchChunk(location, randomBytes(10));

    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBeTruthy();
    expect(res.headers.get("range")).toBe("0-9");
    expect(res.headers.get("docker-upload-uuid")).toBe(start.headers.get("docker-upload-uuid"));
    expect(res.headers.get("content-length")).toBe("0");
  });

  test("PATCH upload: chunks of 1, 3, 0 B, 64 KiB, 5 MiB + 1, 7 MiB, rest read back exact", async () => {
    const repo = randomName("uploads");
    const chunks = cut(BIG, [1, 3, 0, 64 * 1024, 5 * MiB + 1, 7 * MiB]);
    const location = await patchAll(await openSession(url, repo), chunks);

    const res = await finishUpload(location, digestOf(BIG));
    const stored = await readBack(repo, digestOf(BIG));

    expect(res.status).toBe(201);
    expect(stored.byteLength).toBe(BIG.byteLength);
    expect(digestOf(stored)).toBe(digestOf(BIG));
  }, 30_000);

  test("PATCH upload: over 10 MiB in odd chunks with Content-Range reads back exact", async () => {
    const repo = randomName("uploads");
    const blob = BIG.subarray(7, 7 + 11 * MiB + 13);
    const sizes = [999_999, 2 * MiB + 3, 3 * MiB - 1, 4_000_037];
    const location = await patchAll(await openSession(url, repo), cut(blob, sizes), true);

    const res = await finishUpload(location, digestOf(blob));
    const stored = await readBack(repo, digestOf(blob));

    expect(res.status).toBe(201);
    expect(stored.byteLength).toBe(blob.byteLength);
    expect(digestOf(stored)).toBe(digestOf(blob));
  }, 30_000);

  test("PATCH upload: a chunk sent without Content-Length (chunked encoding) is appended", async () => {
    const repo = randomName("uploads");
    const blob = BIG.subarray(0, 300_001);
    let location = await openSession(url, repo);

    const first = await fetch(location, {
      method: "PATCH",
      ...streamed(blob.subarray(0, 200_000)),
    });
    location = absolute(url, first.headers.get("location"));
    const second = await patchChunk(location, blob.subarray(200_000));
    location = absolute(url, second.headers.get("location"));
    const done = await finishUpload(location, digestOf(blob));

    expect(first.status).toBe(202);
    expect(first.headers.get("range")).toBe("0-199999");
    expect(second.headers.get("range")).toBe("0-300000");
    expect(done.status).toBe(201);
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("PATCH upload: Content-Range without the bytes prefix is accepted", async () => {
    const location = await openSession(url, randomName("uploads"));

    const res = await patchChunk(location, randomBytes(5), "0-4");

    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe("0-4");
  });

  test("PATCH upload: Content-Range with the bytes prefix is accepted", async () => {
    const location = await openSession(url, randomName("uploads"));

    const res = await patchChunk(location, randomBytes(5), "bytes 0-4");

    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe("0-4");
  });

  test("PATCH upload: chunk starting past the current size is 416 and the session stays usable", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(20);
    const location = await patchAll(await openSession(url, repo), [blob.subarray(0, 10)], true);

    const gap = await patchChunk(location, blob.subarray(15), "15-19");
    const range = await sessionRange(location);
    const rest = await patchAll(location, [blob.subarray(10)], true, 10);
    const done = await finishUpload(rest, digestOf(blob));

    expect(gap.status).toBe(416);
    expect(range).toBe("0-9");
    expect(done.status).toBe(201);
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("PATCH upload: replayed chunk is 416 and the session stays usable", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(20);
    const location = await patchAll(await openSession(url, repo), [blob.subarray(0, 10)], true);

    const replay = await patchChunk(location, blob.subarray(0, 10), "0-9");
    const range = await sessionRange(location);
    const done = await finishUpload(location, digestOf(blob), blob.subarray(10));

    expect(replay.status).toBe(416);
    expect(range).toBe("0-9");
    expect(done.status).toBe(201);
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("PATCH upload: out-of-order chunk is 416 BLOB_UPLOAD_INVALID with Range and Location", async () => {
    const repo = randomName("uploads");
    const location = await patchAll(await openSession(url, repo), [randomBytes(10)], true);

    const replay = await patchChunk(location, randomBytes(5), "3-7");

    expect(replay.status).toBe(416);
    expect(replay.headers.get("range")).toBe("0-9");
    expect(new URL(absolute(url, replay.headers.get("location"))).pathname).toBe(
      new URL(location).pathname,
    );
    expect(await errorCodes(replay)).toEqual(["BLOB_UPLOAD_INVALID"]);
  });

  test("PATCH upload: malformed Content-Range is 400 BLOB_UPLOAD_INVALID and nothing is kept", async () => {
    const location = await openSession(url, randomName("uploads"));

    for (const contentRange of ["abc", "0-", "-4", "0-x", "bytes=0-4"]) {
      const res = await patchChunk(location, randomBytes(5), contentRange);

      expect(res.status, contentRange).toBe(400);
      expect(await errorCodes(res)).toEqual(["BLOB_UPLOAD_INVALID"]);
    }
    expect(await sessionRange(location)).toBe("0-0");
  });

  test("PATCH upload: Content-Range over Content-Length is 400 SIZE_INVALID, not kept", async () => {
    const location = await openSession(url, randomName("uploads"));

    const res = await patchChunk(location, randomBytes(5), "0-9");

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["SIZE_INVALID"]);
    expect(await sessionRange(location)).toBe("0-0");
  });

  test("PATCH upload: streamed chunk short of Content-Range is 400 SIZE_INVALID", async () => {
    const location = await openSession(url, randomName("uploads"));

    const res = await fetch(location, {
      method: "PATCH",
      ...streamed(randomBytes(5), { "Content-Range": "0-9" }),
    });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["SIZE_INVALID"]);
    expect(await sessionRange(location)).toBe("0-0");
  });

  test("PATCH upload: two racing chunks at the same offset, one wins and the other is 416", async () => {
    const location = await openSession(url, randomName("uploads"));
    const chunk = BIG.subarray(0, 2 * MiB);

    const results = await Promise.all([
      patchChunk(location, chunk, `0-${chunk.byteLength - 1}`),
      patchChunk(location, chunk, `0-${chunk.byteLength - 1}`),
    ]);

    expect(results.map((res) => res.status).sort()).toEqual([202, 416]);
    expect(await sessionRange(location)).toBe(`0-${chunk.byteLength - 1}`);
  });
});

describe("GET upload", () => {
  test("GET upload: 204 with Range 0-0, Location and Docker-Upload-UUID while empty", async () => {
    const start = await startUpload(url, randomName("uploads"));

    const res = await fetch(absolute(url, start.headers.get("location")));

    expect(res.status).toBe(204);
    expect(res.headers.get("range")).toBe("0-0");
    expect(res.headers.get("location")).toBeTruthy();
    expect(res.headers.get("docker-upload-uuid")).toBe(start.headers.get("docker-upload-uuid"));
  });

  test("GET upload: Range follows the bytes received", async () => {
    const location = await patchAll(await openSession(url, randomName("uploads")), [
      randomBytes(7),
      randomBytes(4),
    ]);

    const res = await fetch(location);

    expect(res.status).toBe(204);
    expect(res.headers.get("range")).toBe("0-10");
  });
});

describe("PUT upload", () => {
  test("PUT upload: with the last chunk as body, 201 with Location and Docker-Content-Digest", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(100);
    const location = await patchAll(await openSession(url, repo), [blob.subarray(0, 60)]);

    const res = await finishUpload(location, digestOf(blob), blob.subarray(60));

    expect(res.status).toBe(201);
    expect(new URL(absolute(url, res.headers.get("location"))).pathname).toBe(
      `/v2/${repo}/blobs/${digestOf(blob)}`,
    );
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(blob));
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("PUT upload: without a body, closes the session on the chunks sent", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(100);
    const location = await patchAll(await openSession(url, repo), [blob]);

    const res = await finishUpload(location, digestOf(blob));

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(blob));
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("PUT upload: the whole blob in the PUT of a fresh session is stored (monolithic)", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(1234);

    const res = await finishUpload(await openSession(url, repo), digestOf(blob), blob);

    expect(res.status).toBe(201);
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("PUT upload: last chunk with an out-of-order Content-Range is 416", async () => {
    const blob = randomBytes(15);
    const session = await openSession(url, randomName("uploads"));
    const location = await patchAll(session, [blob.subarray(0, 10)]);

    const res = await finishUpload(location, digestOf(blob), blob.subarray(10), "20-24");

    expect(res.status).toBe(416);
  });

  test("PUT upload: digest mismatch is 400 DIGEST_INVALID and nothing is stored", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(100);
    const claimed = digestOf(randomBytes(100));
    const location = await patchAll(await openSession(url, repo), [blob]);

    const res = await finishUpload(location, claimed);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
    expect((await getBlob(url, repo, claimed)).status).toBe(404);
    expect((await getBlob(url, repo, digestOf(blob))).status).toBe(404);
  });

  test("PUT upload: after a digest mismatch the session is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const blob = randomBytes(100);
    const location = await patchAll(await openSession(url, randomName("uploads")), [blob]);
    await finishUpload(location, digestOf(randomBytes(100)));

    const res = await fetch(location);

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
  });

  test("PUT upload: missing digest is 400 DIGEST_INVALID", async () => {
    const location = await openSession(url, randomName("uploads"));

    const res = await fetch(location, { method: "PUT", body: randomBytes(10) });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
  });

  test("PUT upload: a closed session is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const blob = randomBytes(10);
    const location = await openSession(url, randomName("uploads"));
    await finishUpload(location, digestOf(blob), blob);

    const res = await fetch(location);

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
  });
});

describe("DELETE upload and unknown sessions", () => {
  test("DELETE upload: 204, then GET, PATCH and PUT on the session are 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const location = await patchAll(await openSession(url, randomName("uploads")), [
      randomBytes(10),
    ]);

    const deleted = await fetch(location, { method: "DELETE" });
    const after = [
      await fetch(location),
      await patchChunk(location, randomBytes(3)),
      await finishUpload(location, digestOf("x"), new Uint8Array([120])),
    ];

    expect(deleted.status).toBe(204);
    for (const res of after) {
      expect(res.status).toBe(404);
      expect(await errorCodes(res)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    }
  });

  test("GET/PATCH/PUT/DELETE upload: unknown session id is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const location = `${url}/v2/${randomName("uploads")}/blobs/uploads/${UNKNOWN_SESSION}`;

    const responses = [
      await fetch(location),
      await patchChunk(location, randomBytes(3)),
      await finishUpload(location, digestOf("x"), new Uint8Array([120])),
      await fetch(location, { method: "DELETE" }),
    ];

    for (const res of responses) {
      expect(res.status).toBe(404);
      expect(await errorCodes(res)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    }
  });

  test("GET/PATCH/PUT upload: session under another repository is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const repo = randomName("uploads");
    const other = randomName("uploads");
    const location = await openSession(url, repo);
    const foreign = location.replace(`/v2/${repo}/`, `/v2/${other}/`);
    const blob = randomBytes(10);

    const responses = [
      await fetch(foreign),
      await patchChunk(foreign, blob),
      await finishUpload(foreign, digestOf(blob), blob),
    ];

    for (const res of responses) {
      expect(res.status).toBe(404);
      expect(await errorCodes(res)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    }
    expect((await getBlob(url, other, digestOf(blob))).status).toBe(404);
    expect(await sessionRange(location)).toBe("0-0");
  });

  test("PATCH upload: a session survives a server restart", async () => {
    const repo = randomName("uploads");
    const blob = BIG.subarray(0, 6 * MiB + 5);
    const first = await patchAll(await openSession(url, repo), [blob.subarray(0, 5 * MiB + 3)]);

    await server.restart();
    const second = await patchAll(first, [blob.subarray(5 * MiB + 3, 6 * MiB)], true, 5 * MiB + 3);
    const done = await finishUpload(second, digestOf(blob), blob.subarray(6 * MiB));
    const stored = await readBack(repo, digestOf(blob));

    expect(done.status).toBe(201);
    expect(digestOf(stored)).toBe(digestOf(blob));
  }, 30_000);
});

describe("sha512 uploads", () => {
  test("PUT upload: a digest-algorithm=sha512 session is stored under its sha512 digest", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(70_000);
    const digest = digestOf(blob, "sha512");
    const session = await openSession(url, repo, { "digest-algorithm": "sha512" });
    const location = await patchAll(session, cut(blob, [1, 30_000]));

    const res = await finishUpload(location, digest);
    const read = await getBlob(url, repo, digest);

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(read.status).toBe(200);
    expect(read.headers.get("docker-content-digest")).toBe(digest);
    expect(new Uint8Array(await read.arrayBuffer())).toEqual(blob);
  });

  test("PUT upload: a sha256 digest on a sha512 session is 400 DIGEST_INVALID", async () => {
    const blob = randomBytes(100);
    const session = await openSession(url, randomName("uploads"), { "digest-algorithm": "sha512" });

    const res = await finishUpload(session, digestOf(blob, "sha256"), blob);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
  });

  test("POST upload: monolithic ?digest=sha512:… stores the blob under that digest", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(5000);
    const digest = digestOf(blob, "sha512");

    const res = await startUpload(url, repo, { digest }, { body: blob });
    const read = await getBlob(url, repo, digest);

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(new Uint8Array(await read.arrayBuffer())).toEqual(blob);
  });
});

describe("monolithic POST upload", () => {
  test("POST upload: ?digest with the blob as body is 201 with Location and digest", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(4096);

    const res = await startUpload(url, repo, { digest: digestOf(blob) }, { body: blob });

    expect(res.status).toBe(201);
    expect(new URL(absolute(url, res.headers.get("location"))).pathname).toBe(
      `/v2/${repo}/blobs/${digestOf(blob)}`,
    );
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(blob));
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("POST upload: ?digest with a streamed body (no Content-Length) is 201", async () => {
    const repo = randomName("uploads");
    const blob = BIG.subarray(100, 100 + 300_000);

    const res = await startUpload(url, repo, { digest: digestOf(blob) }, streamed(blob));

    expect(res.status).toBe(201);
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("POST upload: ?digest not matching the body is 400 DIGEST_INVALID, not stored", async () => {
    const repo = randomName("uploads");
    const claimed = digestOf(randomBytes(10));

    const res = await startUpload(url, repo, { digest: claimed }, { body: randomBytes(10) });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
    expect((await getBlob(url, repo, claimed)).status).toBe(404);
  });
});

describe("mount", () => {
  test("POST mount: with from, 201 with Location and digest, then readable in target", async () => {
    const source = randomName("uploads");
    const target = randomName("uploads");
    const blob = randomBytes(500);
    const digest = await pushBlob(url, source, blob);

    const res = await startUpload(url, target, { mount: digest, from: source });

    expect(res.status).toBe(201);
    expect(new URL(absolute(url, res.headers.get("location"))).pathname).toBe(
      `/v2/${target}/blobs/${digest}`,
    );
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(await readBack(target, digest)).toEqual(blob);
  });

  test("POST mount: unknown blob is 202 with a session that accepts the upload", async () => {
    const repo = randomName("uploads");
    const blob = randomBytes(50);

    const res = await startUpload(url, repo, {
      mount: digestOf(blob),
      from: randomName("uploads"),
    });
    const done = await finishUpload(
      absolute(url, res.headers.get("location")),
      digestOf(blob),
      blob,
    );

    expect(res.status).toBe(202);
    expect(done.status).toBe(201);
    expect(await readBack(repo, digestOf(blob))).toEqual(blob);
  });

  test("POST mount: without from, a blob of another repository is mounted with 201", async () => {
    const source = randomName("uploads");
    const target = randomName("uploads");
    const blob = randomBytes(500);
    const digest = await pushBlob(url, source, blob);

    const res = await startUpload(url, target, { mount: digest });

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(await readBack(target, digest)).toEqual(blob);
  });

  test("POST mount: an invalid from is 400 NAME_INVALID", async () => {
    const digest = await pushBlob(url, randomName("uploads"), randomBytes(10));

    const res = await startUpload(url, randomName("uploads"), { mount: digest, from: "Bad..Name" });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["NAME_INVALID"]);
  });

  test("POST mount: an invalid mount digest is 400 DIGEST_INVALID", async () => {
    const source = randomName("uploads");
    await pushBlob(url, source, randomBytes(10));

    const res = await startUpload(url, randomName("uploads"), {
      mount: "sha256:xyz",
      from: source,
    });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
  });
});
