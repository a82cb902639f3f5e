import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  errorCodes,
  imageManifest,
  inParallel,
  jsonOf,
  nextLink,
  pushEmptyConfig,
  pushImage,
  pushManifest,
  randomName,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

/** Pushed in a shuffled order; listed in byte order: digits, uppercase, `_`, lowercase. */
const TAGS = ["latest", "b", "Z", "a_b", "10", "a.b", "B", "_private", "a-b", "1.0", "Latest", "2"];
const SORTED = [
  "1.0",
  "10",
  "2",
  "B",
  "Latest",
  "Z",
  "_private",
  "a-b",
  "a.b",
  "a_b",
  "b",
  "latest",
];
let repo: string;

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
  repo = await tagged(TAGS);
});

afterAll(() => server?.stop());

/** A fresh repository with one manifest carrying every tag in `tags`. */
async function tagged(tags: string[]) {
  const name = randomName("tags");
  const image = await pushImage(url, name);
  const manifest = JSON.parse(new TextDecoder().decode(image.bytes)) as Record<string, unknown>;
  await inParallel(tags, 4, async (tag) => {
    await pushManifest(url, name, tag, manifest);
  });
  return name;
}

async function listTags(query = "", name = repo) {
  const res = await fetch(`${url}/v2/${name}/tags/list${query}`);
  return { res, body: await jsonOf<{ name: string; tags: string[] }>(res) };
}

describe("GET tags", () => {
  test("GET tags: every tag in byte order, digits then uppercase then lowercase", async () => {
    const { res, body } = await listTags();

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(body).toEqual({ name: repo, tags: SORTED });
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET tags: n caps the page and adds a Link to the next one", async () => {
    const { res, body } = await listTags("?n=3");

    expect(res.status).toBe(200);
    expect(body.tags).toEqual(SORTED.slice(0, 3));
    expect(nextLink(url, res)).not.toBeNull();
  });

  test('GET tags: Link has the form </v2/<name>/tags/list?n=<n>&last=<last tag>>; rel="next"', async () => {
    const { res } = await listTags("?n=3");

    const link = /^<([^?>]+)\?n=3&last=([^>]+)>; rel="next"$/.exec(res.headers.get("link") ?? "");
    expect(link?.[1]).toBe(`/v2/${repo}/tags/list`);
    expect(decodeURIComponent(link?.[2] ?? "")).toBe("2");
  });

  test("GET tags: following Link yields every tag once, in order, then no Link", async () => {
    const seen: string[] = [];
    let next: string | null = `${url}/v2/${repo}/tags/list?n=5`;
    let pages = 0;

    while (next !== null && pages < 20) {
      const res: Response = await fetch(next);
      const body = (await res.json()) as { tags: string[] };
      expect(res.status).toBe(200);
      expect(body.tags.length).toBeLessThanOrEqual(5);
      seen.push(...body.tags);
      next = nextLink(url, res);
      pages++;
    }

    expect(seen).toEqual(SORTED);
    expect(pages).toBe(3);
  });

  test("GET tags: n=0 is an empty list without Link", async () => {
    const { res, body } = await listTags("?n=0");

    expect(res.status).toBe(200);
    expect(body).toEqual({ name: repo, tags: [] });
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET tags: n larger than the count is every tag without Link", async () => {
    const { res, body } = await listTags("?n=100");

    expect(body.tags).toEqual(SORTED);
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET tags: n equal to the count is every tag without Link", async () => {
    const { res, body } = await listTags(`?n=${SORTED.length}`);

    expect(body.tags).toEqual(SORTED);
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET tags: last starts after that tag", async () => {
    const { res, body } = await listTags("?last=Z");

    expect(res.status).toBe(200);
    expect(body.tags).toEqual(SORTED.slice(SORTED.indexOf("Z") + 1));
  });

  test("GET tags: last that is no tag starts after where it would sort", async () => {
    const { body } = await listTags("?last=a");

    expect(body.tags).toEqual(["a-b", "a.b", "a_b", "b", "latest"]);
  });

  test("GET tags: n with last is the page after that tag", async () => {
    const { body } = await listTags("?n=2&last=B");

    expect(body.tags).toEqual(["Latest", "Z"]);
  });

  test("GET tags: last past the end is an empty list without Link", async () => {
    const { res, body } = await listTags("?last=zzz");

    expect(res.status).toBe(200);
    expect(body.tags).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  test("GET tags: unknown repository is 404 NAME_UNKNOWN", async () => {
    const res = await fetch(`${url}/v2/${randomName("nowhere")}/tags/list`);

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["NAME_UNKNOWN"]);
  });

  test("GET tags: a repository with only a manifest pushed by digest lists no tags", async () => {
    const name = randomName("tags");
    await pushEmptyConfig(url, name);
    await pushManifest(url, name, null, imageManifest());

    const { res, body } = await listTags("", name);

    expect(res.status).toBe(200);
    expect(body).toEqual({ name, tags: [] });
  });

  test("GET tags: n that is not a whole number is 400 UNSUPPORTED", async () => {
    for (const n of ["abc", "-1", "1.5"]) {
      const res = await fetch(`${url}/v2/${repo}/tags/list?n=${n}`);

      expect(res.status, `n=${n}`).toBe(400);
      expect(await errorCodes(res)).toEqual(["UNSUPPORTED"]);
    }
  });
});
