import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  digestOf,
  errorCodes,
  getBlob,
  pushBlob,
  randomBytes,
  randomName,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

/** One blob shared by the read-only tests: 1000 random bytes in `repo`. */
const data = randomBytes(1000);
const digest = digestOf(data);
const repo = randomName("blobs");

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
  await pushBlob(url, repo, data);
});

afterAll(() => server?.stop());

function getRange(range: string, method = "GET") {
  return getBlob(url, repo, digest, { method, headers: { Range: range } });
}

describe("GET/HEAD blob", () => {
  test("GET blob: 200 with bytes, Content-Length, Docker-Content-Digest, ETag, Accept-Ranges", async () => {
    const res = await getBlob(url, repo, digest);

    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("1000");
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("etag")).toBe(`"${digest}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
  });

  test("HEAD blob: 200 with the GET's headers and no body", async () => {
    const res = await getBlob(url, repo, digest, { method: "HEAD" });

    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("1000");
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("etag")).toBe(`"${digest}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(await res.text()).toBe("");
  });

  test("GET blob: unknown digest is 404 BLOB_UNKNOWN", async () => {
    const res = await getBlob(url, repo, digestOf("never pushed"));

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["BLOB_UNKNOWN"]);
  });

  test("HEAD blob: unknown digest is 404 without a body", async () => {
    const res = await getBlob(url, repo, digestOf("never pushed"), { method: "HEAD" });

    expect(res.status).toBe(404);
    expect(await res.text()).toBe("");
  });

  test("GET blob: unknown repository is 404 BLOB_UNKNOWN", async () => {
    const res = await getBlob(url, randomName("nowhere"), digest);

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["BLOB_UNKNOWN"]);
  });

  test("GET blob: a blob pushed to another repository is 404 BLOB_UNKNOWN here", async () => {
    const other = randomName("blobs");
    await pushBlob(url, other, randomBytes(10));

    const res = await getBlob(url, other, digest);

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["BLOB_UNKNOWN"]);
  });

  test("GET blob: an empty blob is 200 with Content-Length 0", async () => {
    const empty = new Uint8Array(0);
    const emptyRepo = randomName("blobs");
    const emptyDigest = await pushBlob(url, emptyRepo, empty);

    const res = await getBlob(url, emptyRepo, emptyDigest);

    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("0");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});

describe("GET blob with Range", () => {
  test("GET blob: Range of the first byte is 206 bytes 0-0/size", async () => {
    const res = await getRange("bytes=0-0");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 0-0/1000");
    expect(res.headers.get("content-length")).toBe("1");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data.subarray(0, 1));
  });

  test("GET blob: Range of the last byte is 206 bytes 999-999/size", async () => {
    const res = await getRange("bytes=999-999");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 999-999/1000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data.subarray(999));
  });

  test("GET blob: Range in the middle is 206 with exactly those bytes", async () => {
    const res = await getRange("bytes=100-199");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 100-199/1000");
    expect(res.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data.subarray(100, 200));
  });

  test("GET blob: suffix Range bytes=-n is 206 with the last n bytes", async () => {
    const res = await getRange("bytes=-10");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 990-999/1000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data.subarray(990));
  });

  test("GET blob: open-ended Range bytes=a- is 206 to the end", async () => {
    const res = await getRange("bytes=600-");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 600-999/1000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data.subarray(600));
  });

  test("GET blob: Range of the whole blob is 206 with every byte", async () => {
    const res = await getRange("bytes=0-999");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 0-999/1000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
  });

  test("GET blob: Range ending past the end is 206 up to the last byte", async () => {
    const res = await getRange("bytes=990-5000");

    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 990-999/1000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data.subarray(990));
  });

  test("GET blob: Range starting at the end is 416 with bytes */size", async () => {
    const res = await getRange("bytes=1000-");

    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */1000");
  });

  test("GET blob: Range starting past the end is 416 with bytes */size", async () => {
    const res = await getRange("bytes=2000-2010");

    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */1000");
  });

  test("GET blob: malformed Range headers are ignored with 200 and the whole blob", async () => {
    for (const range of ["bytes=abc", "items=0-1", "bytes=5-2", "bytes 0-1", "bytes=--1"]) {
      const res = await getRange(range);

      expect(res.status, range).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
    }
  });

  test("GET blob: a multi-part Range is ignored with 200 and the whole blob", async () => {
    const res = await getRange("bytes=0-1,5-6");

    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("1000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
  });
});

describe("DELETE blob", () => {
  test("DELETE blob: 202, then GET is 404 BLOB_UNKNOWN", async () => {
    const target = randomName("blobs");
    const pushed = await pushBlob(url, target, randomBytes(100));

    const deleted = await fetch(`${url}/v2/${target}/blobs/${pushed}`, { method: "DELETE" });
    const after = await getBlob(url, target, pushed);

    expect(deleted.status).toBe(202);
    expect(after.status).toBe(404);
    expect(await errorCodes(after)).toEqual(["BLOB_UNKNOWN"]);
  });

  test("DELETE blob: unknown blob is 404 BLOB_UNKNOWN", async () => {
    const res = await fetch(`${url}/v2/${repo}/blobs/${digestOf("never pushed")}`, {
      method: "DELETE",
    });

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["BLOB_UNKNOWN"]);
  });

  test("DELETE blob: unlinking from one repository leaves it readable in another", async () => {
    const shared = randomBytes(300);
    const first = randomName("blobs");
    const second = randomName("blobs");
    const sharedDigest = await pushBlob(url, first, shared);
    await pushBlob(url, second, shared);

    const deleted = await fetch(`${url}/v2/${first}/blobs/${sharedDigest}`, { method: "DELETE" });
    const gone = await getBlob(url, first, sharedDigest);
    const kept = await getBlob(url, second, sharedDigest);

    expect(deleted.status).toBe(202);
    expect(gone.status).toBe(404);
    expect(kept.status).toBe(200);
    expect(new Uint8Array(await kept.arrayBuffer())).toEqual(shared);
  });
});
