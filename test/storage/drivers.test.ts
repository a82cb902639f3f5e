/**
 * Runs the shared driver suite against the in-memory and filesystem drivers, then the tests only
 * a filesystem needs: keys that could escape the directory, atomicity under concurrent readers,
 * several processes (here: instances) sharing one directory, and cleanup after crashes.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStorage } from "../../src/storage/memory";
import { INLINE_STORE_MAX } from "../../src/storage/fs/object-files";
import { FSR2Bucket } from "../../src/storage/r2-fs";
import { MIN_PART_SIZE, type ObjectStorage } from "../../src/storage/storage";
import { defineStorageSuite } from "./driver-suite";

const runner = { describe, test, expect, beforeEach, afterEach };

defineStorageSuite(runner, "MemoryStorage", async () => ({
  storage: new MemoryStorage(),
  cleanup: async () => {},
}));

defineStorageSuite(runner, "FSR2Bucket", async () => {
  const dir = await mkdtemp(join(tmpdir(), "r2-fs-suite-"));
  return {
    storage: new FSR2Bucket(dir),
    reopen: async () => new FSR2Bucket(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

/** Guards of the local drivers that are stricter than local R2 (which tolerates both). */
describe("local drivers: multipart guards", () => {
  const drivers: [string, () => Promise<ObjectStorage>][] = [
    ["MemoryStorage", async () => new MemoryStorage()],
    ["FSR2Bucket", async () => new FSR2Bucket(await mkdtemp(join(tmpdir(), "r2-fs-guards-")))],
  ];
  for (const [name, make] of drivers) {
    test(`${name}: completing an empty part list is refused`, async () => {
      const upload = await (await make()).createMultipartUpload("mp");
      await upload.uploadPart(1, "x");

      await expect(upload.complete([])).rejects.toThrow();
    });

    test(`${name}: a fractional part number is refused`, async () => {
      const upload = await (await make()).createMultipartUpload("mp");

      await expect(upload.uploadPart(1.5, "x")).rejects.toThrow();
    });
  }
});

describe("local drivers: list limits", () => {
  test("MemoryStorage: a limit over 1000 is clamped to 1000, under 1 to 1", async () => {
    const storage = new MemoryStorage();
    await Promise.all(Array.from({ length: 1001 }, (_, i) => storage.put(`k${i}`, "")));

    expect((await storage.list({ limit: 5000 })).objects.length).toBe(1000);
    expect((await storage.list({ limit: 0 })).objects.length).toBe(1);
  });

  test("FSR2Bucket: a limit under 1 is clamped to 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "r2-fs-limit-"));
    const storage = new FSR2Bucket(dir);
    await Promise.all(["a", "b"].map((key) => storage.put(key, key)));

    const page = await storage.list({ limit: 0 });
    expect(page.objects.map((object) => object.key)).toEqual(["a"]);
    expect(page.truncated).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("FSR2Bucket on disk", () => {
  let parent: string;
  let dir: string;
  let storage: FSR2Bucket;

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), "r2-fs-"));
    dir = join(parent, "data");
    storage = new FSR2Bucket(dir);
    await storage.head("warm-up");
  });

  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  const filesUnder = async (root: string) =>
    (await readdir(root, { recursive: true })).map((name) => join(root, name));

  test("keys that could name other paths are refused by every operation", async () => {
    const refused = ["", "/etc/passwd", "a//b", "a/", "./a", "a/./b", "..", "../x", "a/../../x"];
    refused.push("a\\b", "a\u0000b", "a\nb", "tab\there", "\u007f", "bad\uD800", "\uDC00x");

    for (const key of refused) {
      await expect(storage.put(key, "x")).rejects.toThrow();
      await expect(storage.head(key)).rejects.toThrow();
      await expect(storage.get(key)).rejects.toThrow();
      await expect(storage.delete(key)).rejects.toThrow();
      await expect(storage.createMultipartUpload(key)).rejects.toThrow();
    }
    expect(await readdir(parent)).toEqual(["data"]);
    expect(await readdir(join(dir, "keys"))).toEqual([]);
  });

  test("path-like keys that are allowed stay inside the data directory", async () => {
    const keys = ["..a", "a..", "...", "%2e%2e/x", ".hidden", "a/.../b", "~/x", "C:x", "a:b"];
    for (const key of keys) await storage.put(key, key);

    for (const key of keys) expect(await (await storage.get(key))?.text()).toBe(key);
    expect(await readdir(parent)).toEqual(["data"]);
    const listed = (await storage.list()).objects.map((object) => object.key);
    expect(listed).toEqual([...keys].sort());
  });

  test("a prefix with dot or empty segments lists nothing", async () => {
    await storage.put("a/b", "x");

    for (const prefix of ["../", "a/../", "./a", "a//"]) {
      expect((await storage.list({ prefix })).objects).toEqual([]);
    }
  });

  test("stray files in the key tree are ignored by listings", async () => {
    await storage.put("real/key", "x");
    await writeFile(join(dir, "keys", "STRAY#"), "not json");
    await writeFile(join(dir, "keys", "notadir"), "x");
    await mkdir(join(dir, "keys", "Upper"));

    const keys = (await storage.list()).objects.map((object) => object.key);
    expect(keys).toEqual(["real/key"]);
  });

  test("an empty directory left in the key tree is not a delimited prefix", async () => {
    await storage.put("repos/one/manifest", "x");
    await mkdir(join(dir, "keys", "repos", "two", "_manifests"), { recursive: true });

    const page = await storage.list({ prefix: "repos/", delimiter: "/" });
    expect(page.delimitedPrefixes).toEqual(["repos/one/"]);
  });

  test("deleting the last key under a path prunes its empty directories", async () => {
    await storage.put("deep/a/b/c", "x");
    await storage.put("deep-sibling", "y");
    await storage.delete("deep/a/b/c");

    expect(await readdir(join(dir, "keys"))).toEqual(["deep-sibling#"]);
  });

  test("replaced and deleted objects leave no data files behind", async () => {
    const big = (fill: number) => new Uint8Array(INLINE_STORE_MAX + 1).fill(fill);
    await storage.put("churn", big(1));
    await storage.put("churn", big(2));
    const kept = await storage.put("kept", big(3));
    await storage.put("churn", "small, kept in its key's file");
    await storage.put("churn", big(4));
    await storage.delete("churn");

    const files = (await filesUnder(join(dir, "data"))).filter((path) =>
      /[0-9a-f]{32}$/.test(path),
    );
    expect(files).toEqual([join(dir, "data", kept?.etag.slice(0, 2) ?? "", kept?.etag ?? "")]);
  });

  test("objects up to the inline size are stored in their key's file alone", async () => {
    const edge = new Uint8Array(INLINE_STORE_MAX).map((_, i) => i % 251);
    await storage.put("inline/edge", edge);
    await storage.put("inline/empty", null);
    await storage.put("inline/stream", { stream: new Blob(["streamed"]).stream(), length: 8 });

    await storage.put("data/stream", {
      stream: new Blob([new Uint8Array(INLINE_STORE_MAX + 1)]).stream(),
      length: INLINE_STORE_MAX + 1,
    });

    const files = await filesUnder(join(dir, "data"));
    expect(files.filter((path) => /[0-9a-f]{32}$/.test(path))).toHaveLength(1);
    const whole = await storage.get("inline/edge");
    expect(new Uint8Array((await whole?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(edge);
    const range = await storage.get("inline/edge", { range: { offset: 300, length: 5 } });
    expect([...new Uint8Array((await range?.arrayBuffer()) ?? new ArrayBuffer(0))]).toEqual([
      49, 50, 51, 52, 53,
    ]);
    expect(await (await storage.get("inline/empty"))?.text()).toBe("");
    expect(await (await storage.get("inline/stream"))?.text()).toBe("streamed");
  });

  test("a replaced part leaves only its newest bytes in the upload", async () => {
    const upload = await storage.createMultipartUpload("parts");
    await upload.uploadPart(3, "first try");
    const newest = await upload.uploadPart(3, "second try");
    await upload.uploadPart(2, "early, kept apart");
    await upload.uploadPart(1, "spine one");
    await upload.uploadPart(2, "now in the spine");

    const names = (await readdir(join(dir, "uploads", upload.uploadId))).sort();
    expect(names.filter((name) => name.startsWith("part-"))).toEqual([
      "part-1.json",
      "part-2.json",
      `part-3.${newest.etag}`,
      "part-3.json",
    ]);
  });

  const rewrites: Array<[string, string[]]> = [
    ["small objects", ["a".repeat(1000), "b".repeat(3000)]],
    [
      "objects flipping between inline and a data file",
      ["c".repeat(INLINE_STORE_MAX - 100), "d".repeat(INLINE_STORE_MAX + 100)],
    ],
  ];
  for (const [what, versions] of rewrites) {
    test(`${what} read during rewrites: always one whole version`, async () => {
      const reader = new FSR2Bucket(dir);
      await storage.put("flip", versions[1] ?? "");
      let writing = true;

      const writes = (async () => {
        for (let i = 0; i < 150; i++) await storage.put("flip", versions[i % 2] ?? "");
        writing = false;
      })();
      const outcomes: string[] = [];
      while (writing) {
        const read = await reader.get("flip");
        const text = read ? await read.text() : "";
        outcomes.push(versions.includes(text) && read?.size === text.length ? "whole" : "broken");
      }
      await writes;

      expect(outcomes.length).toBeGreaterThan(10);
      expect(outcomes.filter((outcome) => outcome !== "whole")).toEqual([]);
    });
  }

  test("large objects read during rewrites: one whole version or a clean failure", async () => {
    const versions = [new Uint8Array(1024 * 1024).fill(97), new Uint8Array(2048 * 1024).fill(98)];
    const reader = new FSR2Bucket(dir);
    await storage.put("flip", versions[1] ?? null);
    let writing = true;

    const writes = (async () => {
      for (let i = 0; i < 40; i++) await storage.put("flip", versions[i % 2] ?? null);
      writing = false;
    })();
    const outcomes = await (async () => {
      const seen: string[] = [];
      while (writing) seen.push(await readLarge(reader, "flip", seen.length % 2 === 0));
      return seen;
    })();
    await writes;

    expect(outcomes.filter((outcome) => outcome === "whole").length).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => outcome !== "whole" && outcome !== "gone")).toEqual([]);
  });

  test("a second instance on the same directory sees objects, lists and uploads", async () => {
    const other = new FSR2Bucket(dir);
    const stored = await storage.put("shared/x", "from one", { customMetadata: { by: "one" } });
    const upload = await storage.createMultipartUpload("shared/big");
    const first = await upload.uploadPart(1, new Uint8Array(MIN_PART_SIZE).fill(1));

    expect((await other.head("shared/x"))?.etag).toBe(stored?.etag);
    expect((await other.get("shared/x"))?.customMetadata).toEqual({ by: "one" });
    const resumed = other.resumeMultipartUpload("shared/big", upload.uploadId);
    const second = await resumed.uploadPart(2, "tail");
    await upload.complete([first, second]);
    expect((await other.list({ prefix: "shared/" })).objects.map((o) => o.key)).toEqual([
      "shared/big",
      "shared/x",
    ]);
    await other.delete("shared/x");
    expect(await storage.head("shared/x")).toBeNull();
  });

  test("conditional puts racing from two instances: exactly one wins each round", async () => {
    const other = new FSR2Bucket(dir);
    const winners: number[] = [];
    let etag: string | undefined;

    for (let round = 0; round < 15; round++) {
      const onlyIf = etag === undefined ? { etagDoesNotMatch: "*" } : { etagMatches: etag };
      const attempts = Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? other : storage).put("contended", `round ${round} writer ${i}`, { onlyIf }),
      );
      const results = await Promise.all(attempts);
      const won = results.filter((result) => result !== null);
      winners.push(won.length);
      etag = won[0]?.etag;
      expect((await other.head("contended"))?.etag).toBe(etag);
    }

    expect(winners).toEqual(Array.from({ length: 15 }, () => 1));
  }, 30_000);

  test("increments by conditional put from two processes lose no update", async () => {
    const driver = join(import.meta.dir, "../../src/storage/r2-fs.ts");
    const script = `
      const { FSR2Bucket } = await import(${JSON.stringify(driver)});
      const storage = new FSR2Bucket(${JSON.stringify(dir)});
      for (let done = 0; done < 150; ) {
        const current = await storage.get("counter");
        const next = String(Number(await current.text()) + 1);
        const onlyIf = { etagMatches: current.etag };
        if ((await storage.put("counter", next, { onlyIf })) !== null) done++;
      }`;
    await storage.put("counter", "0");

    const run = () => Bun.spawn([process.execPath, "-e", script], { stderr: "inherit" }).exited;
    expect(await Promise.all([run(), run()])).toEqual([0, 0]);
    expect(await (await storage.get("counter"))?.text()).toBe("300");
  }, 60_000);

  test("a lock left by a dead process does not block writers", async () => {
    const lock = join(dir, "locks", createHash("sha1").update("locked").digest("hex"));
    await writeFile(lock, JSON.stringify({ host: hostname(), pid: 99_999_999, token: "gone" }));

    const stored = await storage.put("locked", "x", { onlyIf: { etagDoesNotMatch: "*" } });
    expect(stored).not.toBeNull();
    expect(await readdir(join(dir, "locks"))).toEqual([]);
  });

  test("a lock held by a live process makes writers wait for it", async () => {
    const lock = join(dir, "locks", createHash("sha1").update("held").digest("hex"));
    await writeFile(lock, JSON.stringify({ host: hostname(), pid: process.ppid, token: "live" }));
    const started = Date.now();
    setTimeout(() => unlink(lock), 300);

    await storage.put("held", "x");
    expect(Date.now() - started).toBeGreaterThan(250);
    expect(await (await storage.get("held"))?.text()).toBe("x");
  });

  test("startup removes stale temp files and abandoned uploads, keeps fresh ones", async () => {
    const old = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
    await writeFile(join(dir, "tmp", "stale"), "partial");
    await writeFile(join(dir, "tmp", "fresh"), "in progress");
    await utimes(join(dir, "tmp", "stale"), old, old);
    const abandoned = await storage.createMultipartUpload("abandoned");
    const live = await storage.createMultipartUpload("live");
    await utimes(join(dir, "uploads", abandoned.uploadId), old, old);

    await new FSR2Bucket(dir).head("anything");
    expect(await readdir(join(dir, "tmp"))).toEqual(["fresh"]);
    expect(await readdir(join(dir, "uploads"))).toEqual([live.uploadId]);
  });

  test("failed writes leave no temporary files", async () => {
    const short = { stream: new Blob(["abc"]).stream(), length: 9 };
    const upload = await storage.createMultipartUpload("k");

    await expect(storage.put("k", short)).rejects.toThrow();
    const alsoShort = { stream: new Blob(["abc"]).stream(), length: 9 };
    await expect(upload.uploadPart(3, alsoShort)).rejects.toThrow();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    expect(await readdir(join(dir, "uploads", upload.uploadId))).toEqual(["upload.json"]);
  });

  test("in-order parts are published by renaming the spine, not by copying", async () => {
    const upload = await storage.createMultipartUpload("spine");
    const first = await upload.uploadPart(1, new Uint8Array(MIN_PART_SIZE).fill(7));
    const second = await upload.uploadPart(2, new Uint8Array(10).fill(8));
    const spine = await stat(join(dir, "uploads", upload.uploadId, "spine"));
    const object = await upload.complete([first, second]);

    const data = await stat(join(dir, "data", object.etag.slice(0, 2), object.etag));
    expect(data.ino).toBe(spine.ino);
    expect(data.size).toBe(MIN_PART_SIZE + 10);
    expect(await readdir(join(dir, "uploads"))).toEqual([]);
  });

  test("get hands a file slice of exactly the object's bytes as its blob", async () => {
    const bytes = new Uint8Array(600 * 1024).map((_, i) => i % 251);
    const stored = await storage.put("sliced", bytes);
    const read = await storage.get("sliced", { range: { offset: 1000, length: 300 * 1024 } });

    const blob = read?.blob;
    expect(blob?.size).toBe(300 * 1024);
    expect(blob && "name" in blob ? blob.name : undefined).toBe(
      join(dir, "data", stored?.etag.slice(0, 2) ?? "", stored?.etag ?? ""),
    );
    const fromBlob = new Uint8Array((await blob?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(fromBlob).toEqual(bytes.subarray(1000, 1000 + 300 * 1024));
  });

  test("every file the driver writes stays under its data directory", async () => {
    await storage.put("x/y", "1");
    const upload = await storage.createMultipartUpload("x/z");
    await upload.uploadPart(1, "2");

    const files = await filesUnder(parent);
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((file) => !file.startsWith(`${dir}/`) && file !== dir)).toEqual([]);
  });
});

/**
 * Reads, through its body or its blob, an object that is either 1 MiB of "a" or 2 MiB of "b":
 * whole, mixed, or a clean failure.
 */
async function readLarge(storage: ObjectStorage, key: string, viaBlob: boolean): Promise<string> {
  try {
    const read = await storage.get(key);
    if (read === null) return "missing";
    const buffer = viaBlob ? await read.blob?.arrayBuffer() : await read.arrayBuffer();
    const bytes = new Uint8Array(buffer ?? new ArrayBuffer(0));
    const [letter, other, length] = bytes[0] === 97 ? [97, 98, 1 << 20] : [98, 97, 2 << 20];
    const whole = bytes.indexOf(other) === -1 && bytes.byteLength === length;
    return whole && bytes[0] === letter && read.size === length ? "whole" : "mixed";
  } catch (error) {
    return error instanceof Error && /ENOENT|no such file/i.test(String(error)) ? "gone" : "other";
  }
}
