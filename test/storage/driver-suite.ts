/**
 * The one test suite every `ObjectStorage` driver passes: in-memory, filesystem, and R2 itself.
 *
 * It runs under bun:test and under vitest in workerd, so it takes the runner's functions as
 * arguments, uses only matchers both runners share, and no Bun or Node API. Expected behaviour is
 * R2's; a driver that differs fails here.
 */
import {
  MAX_PARTS,
  MIN_PART_SIZE,
  type ObjectStorage,
  type PutValue,
  type StoredObject,
  type UploadedPart,
} from "../../src/storage/storage";

export interface SuiteMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toBeTruthy(): void;
  toBeGreaterThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toThrow(expected?: unknown): void;
  not: { toBe(expected: unknown): void; toBeNull(): void };
  rejects: { toThrow(expected?: unknown): unknown };
}

/** The parts of a test runner the suite uses; bun:test and vitest both fit. */
export interface SuiteApi {
  describe(name: string, body: () => void): void;
  test(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  expect(actual: unknown): SuiteMatchers;
  beforeEach(body: () => Promise<void>): void;
  afterEach(body: () => Promise<void>): void;
}

export interface StorageFixture {
  storage: ObjectStorage;
  /** A new driver over the same data, as after a restart. */
  reopen?: () => Promise<ObjectStorage>;
  cleanup: () => Promise<void>;
}

type Define = (t: SuiteApi, s: () => StorageFixture) => void;

export function defineStorageSuite(
  t: SuiteApi,
  name: string,
  makeStorage: () => Promise<StorageFixture>,
): void {
  t.describe(name, () => {
    let fixture: StorageFixture | undefined;
    t.beforeEach(async () => {
      fixture = await makeStorage();
    });
    t.afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });
    const current = () => {
      if (fixture === undefined) throw new Error("no storage: beforeEach has not run");
      return fixture;
    };
    const parts: Define[] = [
      defineObjectTests,
      defineRangeTests,
      defineConditionalTests,
      defineKeyTests,
      defineListTests,
      defineMultipartRuleTests,
      defineMultipartFlowTests,
      defineReopenTests,
    ];
    for (const define of parts) define(t, current);
  });
}

// ---- Helpers --------------------------------------------------------------------------------

const MIB = 1024 * 1024;

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function bytesOf(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function sizedStream(chunks: Uint8Array[], length: number): PutValue {
  const queue = [...chunks];
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
  return { stream, length };
}

/** A byte that depends on its absolute offset and repeats with no period a part size divides. */
function patternByte(offset: number): number {
  let x = Math.imul(offset ^ (offset >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) & 0xff;
}

function pattern(start: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = patternByte(start + i);
  return bytes;
}

/** The pattern as a stream produced a MiB at a time, never held whole. */
function patternStream(start: number, length: number): PutValue {
  let done = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (done >= length) return controller.close();
      const size = Math.min(MIB, length - done);
      controller.enqueue(pattern(start + done, size));
      done += size;
    },
  });
  return { stream, length };
}

/** Where a stream first differs from the pattern from `start` on, or -1 when it is exactly it. */
async function firstMismatch(stream: ReadableStream<Uint8Array>, start: number, length: number) {
  const reader = stream.getReader();
  let position = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    for (let i = 0; i < chunk.value.byteLength; i++) {
      if (chunk.value[i] !== patternByte(start + position + i)) return position + i;
    }
    position += chunk.value.byteLength;
  }
  return position === length ? -1 : position;
}

async function listAll(
  storage: ObjectStorage,
  options: { prefix?: string; delimiter?: string; limit: number; startAfter?: string },
) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  let oversized = 0;
  do {
    const page = await storage.list({ ...options, ...(cursor !== undefined && { cursor }) });
    keys.push(...page.objects.map((object) => object.key));
    prefixes.push(...page.delimitedPrefixes);
    if (page.objects.length + page.delimitedPrefixes.length > options.limit) oversized += 1;
    cursor = page.truncated ? page.cursor : undefined;
    pages += 1;
  } while (cursor !== undefined && pages < 10_000);
  return { keys, prefixes, pages, oversized };
}

async function putAll(storage: ObjectStorage, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    await Promise.all(keys.slice(i, i + 100).map((key) => storage.put(key, key)));
  }
}

function summary(object: StoredObject | null) {
  return object && { key: object.key, size: object.size, etag: object.etag };
}

// ---- Objects --------------------------------------------------------------------------------

function defineObjectTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;

  test("put then get: the same bytes, size and etag", async () => {
    const stored = await s().storage.put("greeting", "hello, world");
    const read = await s().storage.get("greeting");

    expect(stored?.size).toBe(12);
    expect(typeof stored?.etag).toBe("string");
    expect(summary(read)).toEqual(summary(stored));
    expect(await read?.text()).toBe("hello, world");
  });

  test("every PutValue kind stores exactly its bytes", async () => {
    const backing = utf8("..view bytes..");
    const cases: [string, PutValue, Uint8Array][] = [
      ["string", "héllo ✓", utf8("héllo ✓")],
      ["ArrayBuffer", utf8("buffer").slice().buffer, utf8("buffer")],
      ["Uint8Array view", backing.subarray(2, 12), utf8("view bytes")],
      ["DataView", new DataView(backing.buffer, 2, 4), utf8("view")],
      ["Blob", new Blob(["blob ", "parts"]), utf8("blob parts")],
      ["SizedStream", sizedStream([utf8("str"), utf8("eam")], 6), utf8("stream")],
      ["null", null, new Uint8Array(0)],
    ];
    for (const [key, value] of cases) await s().storage.put(key, value);

    for (const [key, , expected] of cases) {
      const read = await s().storage.get(key);
      expect([key, read && (await bytesOf(read.body))]).toEqual([key, expected]);
      expect([key, read?.size]).toEqual([key, expected.byteLength]);
    }
  });

  test("head describes the object", async () => {
    const before = Date.now() - 1000;
    const stored = await s().storage.put("described", "12345");
    const head = await s().storage.head("described");

    expect(summary(head)).toEqual({ key: "described", size: 5, etag: stored?.etag });
    expect(head?.uploaded.getTime()).toBeGreaterThan(before);
    expect(head?.uploaded.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  test("get and head of a missing key are null", async () => {
    await s().storage.put("present", "x");

    expect(await s().storage.get("absent")).toBeNull();
    expect(await s().storage.head("absent")).toBeNull();
    expect(await s().storage.head("presen")).toBeNull();
  });

  test("put replaces the object: new bytes, new etag, metadata not merged", async () => {
    const first = await s().storage.put("k", "first", { customMetadata: { a: "1" } });
    const second = await s().storage.put("k", "second", { customMetadata: { b: "2" } });
    const read = await s().storage.get("k");

    expect(second?.etag).not.toBe(first?.etag);
    expect(await read?.text()).toBe("second");
    expect(read?.etag).toBe(second?.etag);
    expect(read?.customMetadata).toEqual({ b: "2" });
  });

  test("delete removes objects; a missing key is a no-op", async () => {
    await Promise.all(["d1", "d2", "d3", "keep"].map((key) => s().storage.put(key, key)));
    await s().storage.delete("d1");
    await s().storage.delete(["d2", "d3", "never-there"]);
    await s().storage.delete("d1");

    for (const key of ["d1", "d2", "d3"]) expect(await s().storage.head(key)).toBeNull();
    expect(await (await s().storage.get("keep"))?.text()).toBe("keep");
  });

  test("metadata round-trips through put, head and get", async () => {
    const httpMetadata = { contentType: "application/vnd.oci.image.manifest.v1+json" };
    const customMetadata = { digest: "sha256:abc", "x-note": "ünïcode" };
    await s().storage.put("meta", "{}", { httpMetadata, customMetadata });

    const head = await s().storage.head("meta");
    const read = await s().storage.get("meta");
    expect(head?.httpMetadata).toEqual(httpMetadata);
    expect(head?.customMetadata).toEqual(customMetadata);
    expect(read?.httpMetadata).toEqual(httpMetadata);
    expect(read?.customMetadata).toEqual(customMetadata);
  });

  test("custom metadata over 2 KiB is refused", async () => {
    const customMetadata = { big: "x".repeat(3000) };

    await expect(s().storage.put("too-much", "x", { customMetadata })).rejects.toThrow();
    expect(await s().storage.head("too-much")).toBeNull();
  });

  test("body readers: text, json and arrayBuffer", async () => {
    await s().storage.put("doc", JSON.stringify({ tags: ["v1", "v2"] }));

    expect(await (await s().storage.get("doc"))?.json()).toEqual({ tags: ["v1", "v2"] });
    expect(await (await s().storage.get("doc"))?.text()).toBe('{"tags":["v1","v2"]}');
    const buffer = await (await s().storage.get("doc"))?.arrayBuffer();
    expect(buffer?.byteLength).toBe(20);
  });

  test("SizedStream shorter than its length: put rejects, nothing stored", async () => {
    const short = sizedStream([utf8("abc")], 10);

    await expect(s().storage.put("short", short)).rejects.toThrow();
    expect(await s().storage.head("short")).toBeNull();
  });

  test("SizedStream longer than its length: put rejects, nothing stored", async () => {
    const long = sizedStream([utf8("abcdef"), utf8("ghijkl")], 8);

    await expect(s().storage.put("long", long)).rejects.toThrow();
    expect(await s().storage.head("long")).toBeNull();
  });

  test("a failed put leaves the previous object untouched", async () => {
    const before = await s().storage.put("stay", "original");
    const broken = sizedStream([utf8("new")], 100);

    await expect(s().storage.put("stay", broken)).rejects.toThrow();
    const read = await s().storage.get("stay");
    expect(read?.etag).toBe(before?.etag);
    expect(await read?.text()).toBe("original");
  });
}

// ---- Ranges ---------------------------------------------------------------------------------

function defineRangeTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;
  const text = "0123456789";
  const read = async (range: Parameters<ObjectStorage["get"]>[1]) => {
    await s().storage.put("digits", text);
    const object = await s().storage.get("digits", range);
    return { text: await object?.text(), range: object?.range, size: object?.size };
  };

  test("range from an offset reads to the end", async () => {
    expect(await read({ range: { offset: 6 } })).toEqual({
      text: "6789",
      range: { offset: 6, length: 4 },
      size: 10,
    });
  });

  test("range with offset and length reads that slice", async () => {
    expect((await read({ range: { offset: 2, length: 3 } })).text).toBe("234");
  });

  test("range with a length past the end stops at the end", async () => {
    const result = await read({ range: { offset: 8, length: 50 } });

    expect(result.text).toBe("89");
    expect(result.range).toEqual({ offset: 8, length: 2 });
  });

  test("suffix range reads the last bytes; a longer suffix reads all", async () => {
    expect(await read({ range: { suffix: 3 } })).toEqual({
      text: "789",
      range: { offset: 7, length: 3 },
      size: 10,
    });
    expect((await read({ range: { suffix: 25 } })).text).toBe(text);
  });

  test("a range starting at or past the end is refused", async () => {
    await s().storage.put("digits", text);

    await expect(s().storage.get("digits", { range: { offset: 10 } })).rejects.toThrow();
    await expect(s().storage.get("digits", { range: { offset: 11, length: 2 } })).rejects.toThrow();
  });

  test("a range on a large object reads exactly that slice", async () => {
    await s().storage.put("large", patternStream(0, 3 * MIB));
    const object = await s().storage.get("large", { range: { offset: MIB - 7, length: MIB + 9 } });

    expect(object?.range).toEqual({ offset: MIB - 7, length: MIB + 9 });
    expect(object && (await firstMismatch(object.body, MIB - 7, MIB + 9))).toBe(-1);
  });
}

// ---- Conditional puts -----------------------------------------------------------------------

function defineConditionalTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;

  test("etagDoesNotMatch '*' creates only when the key is absent", async () => {
    const created = await s().storage.put("once", "first", { onlyIf: { etagDoesNotMatch: "*" } });
    const again = await s().storage.put("once", "second", { onlyIf: { etagDoesNotMatch: "*" } });

    expect(created).not.toBeNull();
    expect(again).toBeNull();
    expect(await (await s().storage.get("once"))?.text()).toBe("first");
  });

  test("etagMatches the current etag replaces; a stale etag returns null", async () => {
    const v1 = await s().storage.put("cas", "v1");
    const v2 = await s().storage.put("cas", "v2", { onlyIf: { etagMatches: v1?.etag } });
    const stale = await s().storage.put("cas", "v3", { onlyIf: { etagMatches: v1?.etag } });

    expect(v2?.etag).not.toBe(v1?.etag);
    expect(stale).toBeNull();
    expect((await s().storage.head("cas"))?.etag).toBe(v2?.etag);
  });

  test("etagMatches '*' fails when absent and holds when present", async () => {
    const absent = await s().storage.put("any", "x", { onlyIf: { etagMatches: "*" } });
    await s().storage.put("any", "y");
    const present = await s().storage.put("any", "z", { onlyIf: { etagMatches: "*" } });

    expect(absent).toBeNull();
    expect(present).not.toBeNull();
    expect(await (await s().storage.get("any"))?.text()).toBe("z");
  });

  test("etagDoesNotMatch the current etag returns null; another etag writes", async () => {
    const v1 = await s().storage.put("not", "v1");
    const refused = await s().storage.put("not", "v2", { onlyIf: { etagDoesNotMatch: v1?.etag } });
    const written = await s().storage.put("not", "v3", { onlyIf: { etagDoesNotMatch: "other" } });

    expect(refused).toBeNull();
    expect(written).not.toBeNull();
    expect(await (await s().storage.get("not"))?.text()).toBe("v3");
  });

  test("etagMatches on an absent key returns null and stores nothing", async () => {
    const result = await s().storage.put("ghost", "x", { onlyIf: { etagMatches: "abc" } });

    expect(result).toBeNull();
    expect(await s().storage.head("ghost")).toBeNull();
  });
}

// ---- Keys -----------------------------------------------------------------------------------

function defineKeyTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;

  test("a key of 1024 UTF-8 bytes is accepted; 1025 bytes is refused", async () => {
    const longest = "é".repeat(512);
    await s().storage.put(longest, "ok");

    expect((await s().storage.head(longest))?.size).toBe(2);
    await expect(s().storage.put(`${longest}a`, "no")).rejects.toThrow();
  });

  test("long segments: keys round-trip and list by any prefix", async () => {
    const keys = [
      `${"x".repeat(81)}`,
      `${"x".repeat(81)}/y`,
      `${"x".repeat(200)}/${"y".repeat(300)}/z`,
      `${"x".repeat(200)}-tail`,
      `${"x".repeat(80)}`,
      `${"w".repeat(80)}/a`,
      `${"w".repeat(80)}0${"v".repeat(20)}`,
    ];
    await putAll(s().storage, keys);

    for (const key of keys) expect(await (await s().storage.get(key))?.text()).toBe(key);
    const all = await listAll(s().storage, { limit: 2 });
    expect(all.keys).toEqual([...keys].sort());
    const deep = await listAll(s().storage, {
      prefix: `${"x".repeat(200)}/${"y".repeat(90)}`,
      limit: 5,
    });
    expect(deep.keys).toEqual([keys[2]]);
    const grouped = await s().storage.list({ prefix: "x".repeat(150), delimiter: "/" });
    expect(grouped.delimitedPrefixes).toEqual([`${"x".repeat(200)}/`]);
  });

  test("a key and keys under it coexist: a, a/b, a/b/c", async () => {
    await putAll(s().storage, ["a", "a/b", "a/b/c"]);
    await s().storage.delete("a/b");

    expect(await (await s().storage.get("a"))?.text()).toBe("a");
    expect(await s().storage.head("a/b")).toBeNull();
    expect(await (await s().storage.get("a/b/c"))?.text()).toBe("a/b/c");
  });

  test("keys differing only in case or by percent signs are distinct", async () => {
    const keys = ["Tag", "tag", "TAG", "%41", "A", "a%2fb", "a/b", "sp ace", "sp%20ace"];
    await putAll(s().storage, keys);

    for (const key of keys) expect(await (await s().storage.get(key))?.text()).toBe(key);
    expect((await s().storage.list()).objects.length).toBe(keys.length);
  });
}

// ---- Listing --------------------------------------------------------------------------------

function defineListTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;
  const tricky = ["a/b", "z", "\u{1F600}", "a0", "é", "b", "\uFF5E", "a", "A", "a-c"];

  test("list returns keys in UTF-8 byte order", async () => {
    await putAll(s().storage, tricky);
    const result = await s().storage.list();

    expect(result.objects.map((object) => object.key)).toEqual([
      "A",
      "a",
      "a-c",
      "a/b",
      "a0",
      "b",
      "z",
      "é",
      "\uFF5E",
      "\u{1F600}",
    ]);
    expect(result.truncated).toBe(false);
    expect(result.delimitedPrefixes).toEqual([]);
  });

  test("listKeys pages exactly like list, with prefix, delimiter, startAfter and cursors", async () => {
    const keys = [...tricky, "a/b/c", "a/d", "dir/x/1", "dir/x/2", "dir/y", "dir-z"];
    await putAll(s().storage, keys);
    const cases = [
      { limit: 3 },
      { prefix: "a", limit: 2 },
      { prefix: "dir", delimiter: "/", limit: 1 },
      { delimiter: "/", limit: 4 },
      { startAfter: "a/b", limit: 5 },
      { prefix: "dir/", startAfter: "dir/x/1" },
    ];

    const pages = async (read: (cursor?: string) => Promise<string[][]>) => {
      const all: string[][][] = [];
      let cursor: string | undefined;
      do {
        const [page, next] = await read(cursor);
        all.push([page ?? [], next ?? []]);
        cursor = next?.[0];
      } while (cursor);
      return all.map(([page]) => page);
    };
    for (const options of cases) {
      const viaList = await pages(async (cursor) => {
        const r = await s().storage.list({ ...options, cursor });
        const names = [...r.objects.map((o) => o.key), ...r.delimitedPrefixes.map((p) => `[${p}]`)];
        return [names, r.cursor ? [r.cursor] : []];
      });
      const viaKeys = await pages(async (cursor) => {
        const r = await s().storage.listKeys({ ...options, cursor });
        return [
          [...r.keys, ...r.delimitedPrefixes.map((p) => `[${p}]`)],
          r.cursor ? [r.cursor] : [],
        ];
      });

      expect(viaKeys).toEqual(viaList);
      expect(viaList.flat().length).toBeGreaterThan(0);
    }
  });

  test("list of an empty store is empty and not truncated", async () => {
    const result = await s().storage.list({ prefix: "nothing/" });

    expect(result.objects).toEqual([]);
    expect(result.truncated).toBe(false);
  });

  test("prefix selects the keys starting with it", async () => {
    await putAll(s().storage, tricky);
    const keysOf = async (prefix: string) =>
      (await s().storage.list({ prefix })).objects.map((object) => object.key);

    expect(await keysOf("a")).toEqual(["a", "a-c", "a/b", "a0"]);
    expect(await keysOf("a/")).toEqual(["a/b"]);
    expect(await keysOf("é")).toEqual(["é"]);
    expect(await keysOf("q")).toEqual([]);
  });

  test("startAfter lists the keys after it, present or not", async () => {
    await putAll(s().storage, tricky);
    const keysAfter = async (startAfter: string) =>
      (await s().storage.list({ startAfter, prefix: "a" })).objects.map((object) => object.key);

    expect(await keysAfter("a-c")).toEqual(["a/b", "a0"]);
    expect(await keysAfter("a-d")).toEqual(["a/b", "a0"]);
    expect(await keysAfter("a0")).toEqual([]);
  });

  test("delimiter groups keys into delimitedPrefixes", async () => {
    await putAll(s().storage, ["a", "a-c", "a/b", "a/c/d", "a/c/e", "a0", "b/x", "b/y/z"]);
    const top = await s().storage.list({ delimiter: "/" });
    const inA = await s().storage.list({ prefix: "a/", delimiter: "/" });

    expect(top.objects.map((object) => object.key)).toEqual(["a", "a-c", "a0"]);
    expect(top.delimitedPrefixes).toEqual(["a/", "b/"]);
    expect(inA.objects.map((object) => object.key)).toEqual(["a/b"]);
    expect(inA.delimitedPrefixes).toEqual(["a/c/"]);
  });

  test("startAfter inside a group keeps the group only while keys remain after it", async () => {
    await putAll(s().storage, ["a", "a-c", "a/b", "a/c/d", "a/c/e", "a0", "b/x", "b/y/z"]);
    const midGroup = await s().storage.list({ delimiter: "/", startAfter: "a/b" });
    const endOfGroup = await s().storage.list({ delimiter: "/", startAfter: "a/c/e" });

    expect(midGroup.objects.map((object) => object.key)).toEqual(["a0"]);
    expect(midGroup.delimitedPrefixes).toEqual(["a/", "b/"]);
    expect(endOfGroup.objects.map((object) => object.key)).toEqual(["a0"]);
    expect(endOfGroup.delimitedPrefixes).toEqual(["b/"]);
  });

  test("delimited pages count groups and never repeat one", async () => {
    await putAll(s().storage, ["a", "a-c", "a/b", "a/c/d", "a/c/e", "a0", "b/x", "b/y/z"]);
    const all = await listAll(s().storage, { delimiter: "/", limit: 2 });

    expect(all.keys).toEqual(["a", "a-c", "a0"]);
    expect(all.prefixes).toEqual(["a/", "b/"]);
    expect(all.oversized).toBe(0);
    expect(all.pages).toBeGreaterThan(2);
  });

  test("listed objects carry size and etag; metadata only with include", async () => {
    const options = { httpMetadata: { contentType: "text/plain" }, customMetadata: { n: "1" } };
    const stored = await s().storage.put("m", "four", options);
    const bare = (await s().storage.list()).objects[0];
    const full = (await s().storage.list({ include: ["httpMetadata", "customMetadata"] }))
      .objects[0];

    expect(summary(bare ?? null)).toEqual(summary(stored));
    expect(bare?.httpMetadata).toEqual({});
    expect(bare?.customMetadata).toEqual({});
    expect(full?.httpMetadata).toEqual(options.httpMetadata);
    expect(full?.customMetadata).toEqual(options.customMetadata);
  });

  test("pagination with cursors walks 1,500 keys once each, in order", async () => {
    const keys = Array.from({ length: 1500 }, (_, i) => {
      const n = String(i).padStart(4, "0");
      return i % 3 === 0 ? `k-${n}` : `k/${i % 10}/${n}`;
    });
    await putAll(s().storage, keys);
    const expected = [...keys].sort();

    const first = await s().storage.list();
    expect(first.objects.length).toBe(1000);
    expect(first.truncated).toBe(true);
    expect(first.objects.map((object) => object.key)).toEqual(expected.slice(0, 1000));

    const paged = await listAll(s().storage, { limit: 97 });
    expect(paged.keys).toEqual(expected);
    expect(paged.oversized).toBe(0);

    const groups = await listAll(s().storage, { prefix: "k/", delimiter: "/", limit: 3 });
    expect(groups.prefixes).toEqual(Array.from({ length: 10 }, (_, i) => `k/${i}/`));
    expect(groups.keys).toEqual([]);

    const after = await listAll(s().storage, { startAfter: expected[700], limit: 250 });
    expect(after.keys).toEqual(expected.slice(701));
  }, 60_000);
}

// ---- Multipart: the rules of complete ---------------------------------------------------------

function defineMultipartRuleTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;
  const upload = async (sizes: number[]) => {
    const multipart = await s().storage.createMultipartUpload("mp");
    const parts: UploadedPart[] = [];
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      parts.push(await multipart.uploadPart(i + 1, pattern(offset, size)));
      offset += size;
    }
    return { multipart, parts };
  };
  const refused = async (sizes: number[], choose: (parts: UploadedPart[]) => UploadedPart[]) => {
    const { multipart, parts } = await upload(sizes);

    await expect(multipart.complete(choose(parts))).rejects.toThrow();
    expect(await s().storage.head("mp")).toBeNull();
  };

  test("complete: a non-last part under the minimum size is refused", async () => {
    await refused([MIN_PART_SIZE - 1, 10], (parts) => parts);
  });

  test("complete: non-last parts of unequal size are refused", async () => {
    await refused([MIN_PART_SIZE, MIN_PART_SIZE + 1, 10], (parts) => parts);
  });

  test("complete: a last part larger than the others is refused", async () => {
    await refused([MIN_PART_SIZE, MIN_PART_SIZE + 1], (parts) => parts);
  });

  test("complete: a listed part never uploaded is refused", async () => {
    await refused([MIN_PART_SIZE, 10], (parts) => [...parts, { partNumber: 3, etag: "none" }]);
  });

  test("complete: a part with the wrong etag is refused", async () => {
    await refused([MIN_PART_SIZE, 10], ([first, second]) => [
      first ?? { partNumber: 1, etag: "" },
      { partNumber: 2, etag: `${second?.etag}x` },
    ]);
  });

  test("complete: parts listed out of order are refused", async () => {
    await refused([MIN_PART_SIZE, MIN_PART_SIZE, 10], (parts) => [...parts].reverse());
  });

  test("complete: a part listed twice is refused", async () => {
    await refused([MIN_PART_SIZE, 10], ([first, second]) =>
      [first, first, second].filter((part) => part !== undefined),
    );
  });

  test("uploadPart: part numbers outside 1 to MAX_PARTS are refused", async () => {
    const multipart = await s().storage.createMultipartUpload("mp");

    await expect(multipart.uploadPart(0, "x")).rejects.toThrow();
    await expect(multipart.uploadPart(MAX_PARTS + 1, "x")).rejects.toThrow();
  });

  test("complete: a single small part is a valid object", async () => {
    const { multipart, parts } = await upload([1234]);
    const object = await multipart.complete(parts);

    expect(object.size).toBe(1234);
    const read = await s().storage.get("mp");
    expect(read && (await firstMismatch(read.body, 0, 1234))).toBe(-1);
  });

  test("a refused complete leaves the upload usable", async () => {
    const { multipart, parts } = await upload([1000, 2000]);

    await expect(multipart.complete(parts)).rejects.toThrow();
    const second = parts[1];
    const object = second && (await multipart.complete([second]));
    expect(object?.size).toBe(2000);
  });
}

// ---- Multipart: flows -----------------------------------------------------------------------

function defineMultipartFlowTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;
  const part = MIN_PART_SIZE;
  const readsAsPattern = async (key: string, length: number) => {
    const read = await s().storage.get(key);
    expect(read?.size).toBe(length);
    expect(read && (await firstMismatch(read.body, 0, length))).toBe(-1);
  };

  test("in-order parts complete into one object with the metadata given at create", async () => {
    const options = {
      httpMetadata: { contentType: "application/x-tar" },
      customMetadata: { a: "b" },
    };
    const multipart = await s().storage.createMultipartUpload("blob", options);
    const parts = [
      await multipart.uploadPart(1, patternStream(0, part)),
      await multipart.uploadPart(2, patternStream(part, part)),
      await multipart.uploadPart(3, pattern(2 * part, 1000)),
    ];
    const object = await multipart.complete(parts);

    expect(object.size).toBe(2 * part + 1000);
    expect((await s().storage.head("blob"))?.etag).toBe(object.etag);
    expect((await s().storage.head("blob"))?.httpMetadata).toEqual(options.httpMetadata);
    expect((await s().storage.head("blob"))?.customMetadata).toEqual(options.customMetadata);
    await readsAsPattern("blob", 2 * part + 1000);
  });

  test("parts uploaded out of order assemble in part-number order", async () => {
    const multipart = await s().storage.createMultipartUpload("shuffled");
    const third = await multipart.uploadPart(3, pattern(2 * part, 77));
    const first = await multipart.uploadPart(1, pattern(0, part));
    const second = await multipart.uploadPart(2, pattern(part, part));
    await multipart.complete([first, second, third]);

    await readsAsPattern("shuffled", 2 * part + 77);
  });

  test("part numbers may skip: parts 1 and 3 make one object", async () => {
    const multipart = await s().storage.createMultipartUpload("gaps");
    const first = await multipart.uploadPart(1, pattern(0, part));
    const third = await multipart.uploadPart(3, pattern(part, 99));
    await multipart.complete([first, third]);

    await readsAsPattern("gaps", part + 99);
  });

  test("complete uses only the listed parts", async () => {
    const multipart = await s().storage.createMultipartUpload("subset");
    const first = await multipart.uploadPart(1, pattern(0, part));
    const second = await multipart.uploadPart(2, pattern(part, part));
    await multipart.uploadPart(3, pattern(2 * part, 5));
    await multipart.complete([first, second]);

    await readsAsPattern("subset", 2 * part);
  });

  test("uploading a part again replaces it; only the newer etag completes", async () => {
    const multipart = await s().storage.createMultipartUpload("again");
    const old = await multipart.uploadPart(1, pattern(100, part));
    const first = await multipart.uploadPart(1, pattern(0, part));
    const second = await multipart.uploadPart(2, pattern(part, 10));

    expect(first.etag).not.toBe(old.etag);
    await expect(multipart.complete([old, second])).rejects.toThrow();
    await multipart.complete([first, second]);
    await readsAsPattern("again", part + 10);
  });

  test("a part whose stream falls short is refused; a retry of it completes exactly", async () => {
    const multipart = await s().storage.createMultipartUpload("retry");
    const first = await multipart.uploadPart(1, pattern(0, part));
    const short = sizedStream([pattern(part, 10)], 20);

    await expect(multipart.uploadPart(2, short)).rejects.toThrow();
    const second = await multipart.uploadPart(2, pattern(part, 20));
    await multipart.complete([first, second]);
    await readsAsPattern("retry", part + 20);
  });

  test("resumeMultipartUpload continues an upload by its id", async () => {
    const started = await s().storage.createMultipartUpload("resumed");
    const first = await started.uploadPart(1, pattern(0, part));
    const resumed = s().storage.resumeMultipartUpload("resumed", started.uploadId);
    const second = await resumed.uploadPart(2, pattern(part, 33));
    await resumed.complete([first, second]);

    expect(resumed.uploadId).toBe(started.uploadId);
    await readsAsPattern("resumed", part + 33);
  });

  test("abort drops the upload: parts and complete then fail, abort again is a no-op", async () => {
    const multipart = await s().storage.createMultipartUpload("aborted");
    const first = await multipart.uploadPart(1, "data");
    await multipart.abort();

    await expect(multipart.uploadPart(2, "more")).rejects.toThrow();
    await expect(multipart.complete([first])).rejects.toThrow();
    await multipart.abort();
    expect(await s().storage.head("aborted")).toBeNull();
  });

  test("a completed upload cannot be completed again or take parts", async () => {
    const multipart = await s().storage.createMultipartUpload("done");
    const first = await multipart.uploadPart(1, "data");
    await multipart.complete([first]);

    await expect(multipart.complete([first])).rejects.toThrow();
    await expect(multipart.uploadPart(2, "more")).rejects.toThrow();
    await multipart.abort();
    expect(await (await s().storage.get("done"))?.text()).toBe("data");
  });

  test("uploadPart on an unknown upload id fails", async () => {
    const unknown = s().storage.resumeMultipartUpload(
      "nowhere",
      "0123456789abcdef0123456789abcdef",
    );

    await expect(unknown.uploadPart(1, "x")).rejects.toThrow();
    expect(await s().storage.head("nowhere")).toBeNull();
  });

  test("completing replaces an existing object at the key", async () => {
    await s().storage.put("replaced", "old");
    const multipart = await s().storage.createMultipartUpload("replaced");
    const only = await multipart.uploadPart(1, pattern(0, 500));
    const object = await multipart.complete([only]);

    expect((await s().storage.head("replaced"))?.etag).toBe(object.etag);
    await readsAsPattern("replaced", 500);
  });

  test("a 64 MiB object through 5 MiB streamed parts reads back byte for byte", async () => {
    const total = 64 * MIB;
    const multipart = await s().storage.createMultipartUpload("huge");
    const parts: UploadedPart[] = [];
    for (let offset = 0, n = 1; offset < total; offset += part, n++) {
      parts.push(
        await multipart.uploadPart(n, patternStream(offset, Math.min(part, total - offset))),
      );
    }
    await multipart.complete(parts);

    await readsAsPattern("huge", total);
    const middle = await s().storage.get("huge", { range: { offset: 3 * part - 5, length: 10 } });
    expect(middle && (await firstMismatch(middle.body, 3 * part - 5, 10))).toBe(-1);
  }, 180_000);
}

// ---- Restart --------------------------------------------------------------------------------

function defineReopenTests(t: SuiteApi, s: () => StorageFixture): void {
  const { test, expect } = t;
  // A driver that cannot restart is checked against itself: the assertions still hold.
  const reopen = () => s().reopen?.() ?? Promise.resolve(s().storage);

  test("reopened storage still has the objects and their metadata", async () => {
    const options = { httpMetadata: { contentType: "text/plain" }, customMetadata: { x: "y" } };
    const stored = await s().storage.put("kept/one", "persisted", options);
    await s().storage.put("kept/two", "also");
    const again = await reopen();

    const read = await again.get("kept/one");
    expect(summary(read)).toEqual(summary(stored));
    expect(read?.customMetadata).toEqual(options.customMetadata);
    expect(read?.httpMetadata).toEqual(options.httpMetadata);
    expect(await read?.text()).toBe("persisted");
    expect((await again.list({ prefix: "kept/" })).objects.map((o) => o.key)).toEqual([
      "kept/one",
      "kept/two",
    ]);
  });

  test("an upload in progress resumes and completes after reopening", async () => {
    const started = await s().storage.createMultipartUpload("later", {
      customMetadata: { from: "create" },
    });
    const first = await started.uploadPart(1, pattern(0, MIN_PART_SIZE));
    const again = await reopen();

    const resumed = again.resumeMultipartUpload("later", started.uploadId);
    const second = await resumed.uploadPart(2, pattern(MIN_PART_SIZE, 64));
    await resumed.complete([first, second]);
    const read = await again.get("later");
    expect(read?.customMetadata).toEqual({ from: "create" });
    expect(read && (await firstMismatch(read.body, 0, MIN_PART_SIZE + 64))).toBe(-1);
  });
}
