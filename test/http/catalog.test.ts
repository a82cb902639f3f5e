import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  errorCodes,
  imageManifest,
  inParallel,
  jsonOf,
  nextLink,
  pushBlob,
  pushEmptyConfig,
  pushManifest,
  randomBytes,
  startUpload,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

/**
 * The repositories made here share a random prefix, so they sit together in the catalog
 * whatever other tests create; each assertion looks at these names only.
 */
const PREFIX = `catalog-${crypto.randomUUID().slice(0, 8)}`;
const SUFFIXES = [
  "z",
  "a",
  "a-b",
  "a--b",
  "a.b",
  "a_b",
  "a__b",
  "ab",
  "b0",
  "b",
  "0",
  "9z",
  "1",
  "m",
  "zz",
  "x1",
  "y",
  "k",
  "q",
  "c",
];
const FLAT = SUFFIXES.map((suffix) => `${PREFIX}/${suffix}`).sort();
/** Nested names: byte order puts `n/x` after `n-x` and `n.x`, not right after `n`. */
const NESTED = [
  `${PREFIX}x/n`,
  `${PREFIX}x/n-x`,
  `${PREFIX}x/n.x`,
  `${PREFIX}x/n/x`,
  `${PREFIX}x/n0`,
];

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
  await inParallel([...FLAT, ...NESTED], 4, createRepository);
});

afterAll(() => server?.stop());

async function createRepository(name: string) {
  await pushEmptyConfig(url, name);
  await pushManifest(url, name, "latest", imageManifest());
}

async function catalog(query = "") {
  const res = await fetch(`${url}/v2/_catalog${query}`);
  return { res, body: await jsonOf<{ repositories: string[] }>(res) };
}

function ours(names: string[], prefix = `${PREFIX}/`) {
  return names.filter((name) => name.startsWith(prefix));
}

describe("GET catalog", () => {
  test("GET catalog: lists every repository in byte order", async () => {
    const { res, body } = await catalog();

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(ours(body.repositories)).toEqual(FLAT);
  });

  test("GET catalog: nested repositories sort in plain byte order", async () => {
    const { body } = await catalog();

    expect(ours(body.repositories, `${PREFIX}x/`)).toEqual(NESTED);
    expect([...body.repositories].sort()).toEqual(body.repositories);
  });

  test("GET catalog: n and Link page through every repository once, in order", async () => {
    const seen: string[] = [];
    let next: string | null = `${url}/v2/_catalog?n=4`;
    let pages = 0;

    while (next !== null && pages < 1000) {
      const res: Response = await fetch(next);
      const body = (await res.json()) as { repositories: string[] };
      expect(res.status).toBe(200);
      expect(body.repositories.length).toBeLessThanOrEqual(4);
      seen.push(...body.repositories);
      next = nextLink(url, res);
      pages++;
    }

    expect(next).toBeNull();
    expect(ours(seen)).toEqual(FLAT);
    expect(new Set(seen).size).toBe(seen.length);
  });

  test('GET catalog: Link has the form </v2/_catalog?n=<n>&last=<last name>>; rel="next"', async () => {
    const { res, body } = await catalog("?n=2");

    const link = /^<\/v2\/_catalog\?n=2&last=([^>]+)>; rel="next"$/.exec(
      res.headers.get("link") ?? "",
    );
    expect(link).not.toBeNull();
    expect(decodeURIComponent(link?.[1] ?? "")).toBe(body.repositories[1] ?? "");
  });

  test("GET catalog: last starts after that name", async () => {
    const { res, body } = await catalog(`?n=3&last=${FLAT[4]}`);

    expect(res.status).toBe(200);
    expect(body.repositories).toEqual(FLAT.slice(5, 8));
  });

  test("GET catalog: last that is no repository starts after where it would sort", async () => {
    const { body } = await catalog(`?n=2&last=${PREFIX}/a-`);

    expect(body.repositories).toEqual([`${PREFIX}/a--b`, `${PREFIX}/a-b`]);
  });

  test("GET catalog: n=0 is an empty list without Link", async () => {
    const { res, body } = await catalog("?n=0");

    expect(res.status).toBe(200);
    expect(body.repositories).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET catalog: n larger than the count is every repository without Link", async () => {
    const { res, body } = await catalog("?n=1000");

    expect(ours(body.repositories)).toEqual(FLAT);
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET catalog: last past the end is an empty list without Link", async () => {
    const { res, body } = await catalog("?last=zzzzzzzz");

    expect(res.status).toBe(200);
    expect(body.repositories).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET catalog: a repository holding only blobs is not listed", async () => {
    const name = `${PREFIX}/blobs-only`;
    await pushBlob(url, name, randomBytes(10));

    const { body } = await catalog();

    expect(body.repositories).not.toContain(name);
    expect(ours(body.repositories)).toEqual(FLAT);
  });

  test("GET catalog: n that is not a whole number is 400 UNSUPPORTED", async () => {
    for (const n of ["abc", "-1", "1.5"]) {
      const res = await fetch(`${url}/v2/_catalog?n=${n}`);

      expect(res.status, `n=${n}`).toBe(400);
      expect(await errorCodes(res)).toEqual(["UNSUPPORTED"]);
    }
  });
});

describe("GET catalog beyond one page", () => {
  test("GET catalog: without n, at most 1000 names and a Link when more follow", async () => {
    const bulk = Array.from(
      { length: 1001 },
      (_, i) => `${PREFIX}y/r${String(i).padStart(4, "0")}`,
    );
    const source = bulk[0] ?? "";
    const config = await pushEmptyConfig(url, source);
    await inParallel(bulk, 16, async (name) => {
      if (name !== source) await startUpload(url, name, { mount: config.digest, from: source });
      await pushManifest(url, name, "latest", imageManifest());
    });

    const first = await catalog();
    const link = nextLink(url, first.res);
    const rest = link === null ? { repositories: [] } : await (await fetch(link)).json();
    const seen = [...first.body.repositories, ...(rest as { repositories: string[] }).repositories];

    expect(first.body.repositories.length).toBe(1000);
    expect(link).not.toBeNull();
    expect(ours(seen, `${PREFIX}y/`)).toEqual(bulk);
  }, 60_000);
});
