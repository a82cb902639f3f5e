import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  API_VERSION,
  digestOf,
  EMPTY_JSON,
  errorCodes,
  finishUpload,
  imageManifest,
  openSession,
  pushBlob,
  pushEmptyConfig,
  putManifest,
  randomName,
  rawRequest,
  startUpload,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

/** A repository with a blob, a manifest tagged `v1` and an open session, for method checks. */
let repo: string;
const DIGEST = digestOf(EMPTY_JSON);

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
  repo = randomName("errors");
  await pushEmptyConfig(url, repo);
  await putManifest(url, repo, "v1", imageManifest());
});

afterAll(() => server?.stop());

/** One request to each endpoint that takes a name, as `[label, response]`. */
function everyNamedEndpoint(name: string): Promise<[string, Response]>[] {
  const requests: [string, string, RequestInit?][] = [
    ["GET blob", `/v2/${name}/blobs/${DIGEST}`],
    ["DELETE blob", `/v2/${name}/blobs/${DIGEST}`, { method: "DELETE" }],
    ["POST upload", `/v2/${name}/blobs/uploads/`, { method: "POST" }],
    ["GET manifest", `/v2/${name}/manifests/v1`],
    ["PUT manifest", `/v2/${name}/manifests/v1`, manifestPut()],
    ["DELETE manifest", `/v2/${name}/manifests/v1`, { method: "DELETE" }],
    ["GET tags", `/v2/${name}/tags/list`],
    ["GET referrers", `/v2/${name}/referrers/${DIGEST}`],
  ];
  return requests.map(
    async ([label, path, init]): Promise<[string, Response]> => [
      label,
      await fetch(`${url}${path}`, init),
    ],
  );
}

function manifestPut(): RequestInit {
  const body = JSON.stringify(imageManifest());
  return {
    method: "PUT",
    body,
    headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
  };
}

/** Asserts that every response is `status` with exactly the error `code`. */
async function expectAll(responses: Promise<[string, Response]>[], status: number, code: string) {
  for (const [label, res] of await Promise.all(responses)) {
    expect(res.status, label).toBe(status);
    expect(await errorCodes(res), label).toEqual([code]);
  }
}

describe("invalid repository names", () => {
  test("every endpoint: a name with uppercase letters is 400 NAME_INVALID", async () => {
    await expectAll(everyNamedEndpoint("Errors/App"), 400, "NAME_INVALID");
  });

  test("every endpoint: a name with a doubled or stray separator is 400 NAME_INVALID", async () => {
    for (const name of ["a..b", "a.-b", "a___b", "a/_b", "a/b.", "a%20b", "a:b"]) {
      await expectAll(everyNamedEndpoint(name), 400, "NAME_INVALID");
    }
  });

  test("every endpoint: a name with a leading or trailing separator is 400 NAME_INVALID", async () => {
    for (const name of ["-app", "app-", "_app", "app_", ".app", "app.", "app/", "/app", "a//b"]) {
      await expectAll(everyNamedEndpoint(name), 400, "NAME_INVALID");
    }
  });

  test("every endpoint: a 256-character name is 400 NAME_INVALID", async () => {
    const name = `${"a".repeat(127)}/${"b".repeat(128)}`;

    await expectAll(everyNamedEndpoint(name), 400, "NAME_INVALID");
  });

  test("GET tags: a 255-character name is valid (404 NAME_UNKNOWN, not NAME_INVALID)", async () => {
    const name = `${"a".repeat(127)}/${"b".repeat(127)}`;

    const res = await fetch(`${url}/v2/${name}/tags/list`);

    expect(name.length).toBe(255);
    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["NAME_UNKNOWN"]);
  });

  test("POST mount: a from with uppercase letters is 400 NAME_INVALID", async () => {
    const res = await startUpload(url, repo, { mount: DIGEST, from: "Errors/App" });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["NAME_INVALID"]);
  });

  test("every endpoint: dot segments in the path are a 4xx, never another repository", async () => {
    const prefix = randomName("errors", "x");
    const paths = [
      `/v2/${prefix}/../y/tags/list`,
      `/v2/${prefix}/%2e%2e/y/tags/list`,
      `/v2/${prefix}/..%2fy/tags/list`,
      `/v2/../../etc/tags/list`,
      `/v2/${prefix}/../../../../etc/passwd/blobs/${DIGEST}`,
      `/v2/${repo}/blobs/uploads/..%2f..%2fx`,
    ];

    for (const path of paths) {
      const res = await rawRequest(url, "GET", path);

      expect([400, 404], path).toContain(res.status);
      expect(res.headers["docker-distribution-api-version"], path).toBe(API_VERSION);
    }
  });
});

describe("invalid digests", () => {
  const INVALID = [
    "sha256:xyz",
    "sha256:abcd",
    `sha256:${"A".repeat(64)}`,
    `md5:${"d".repeat(32)}`,
    `sha512:${"a".repeat(64)}`,
    `sha256:${"a".repeat(65)}`,
    "notadigest",
  ];

  test("GET/HEAD/DELETE blob: an invalid digest is 400 DIGEST_INVALID", async () => {
    for (const digest of INVALID) {
      const get = await fetch(`${url}/v2/${repo}/blobs/${digest}`);
      const del = await fetch(`${url}/v2/${repo}/blobs/${digest}`, { method: "DELETE" });
      const head = await fetch(`${url}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });

      expect(get.status, digest).toBe(400);
      expect(await errorCodes(get), digest).toEqual(["DIGEST_INVALID"]);
      expect(del.status, digest).toBe(400);
      expect(await errorCodes(del), digest).toEqual(["DIGEST_INVALID"]);
      expect(head.status, digest).toBe(400);
    }
  });

  test("PUT upload: an invalid ?digest is 400 DIGEST_INVALID", async () => {
    for (const digest of INVALID) {
      const res = await finishUpload(await openSession(url, repo), digest, EMPTY_JSON);

      expect(res.status, digest).toBe(400);
      expect(await errorCodes(res), digest).toEqual(["DIGEST_INVALID"]);
    }
  });

  test("POST upload: an invalid ?digest or ?mount is 400 DIGEST_INVALID", async () => {
    for (const digest of INVALID) {
      const monolithic = await startUpload(url, repo, { digest }, { body: EMPTY_JSON });
      const mount = await startUpload(url, repo, { mount: digest, from: repo });

      expect(monolithic.status, digest).toBe(400);
      expect(await errorCodes(monolithic), digest).toEqual(["DIGEST_INVALID"]);
      expect(mount.status, digest).toBe(400);
      expect(await errorCodes(mount), digest).toEqual(["DIGEST_INVALID"]);
    }
  });

  test("GET referrers: an invalid digest is 400 DIGEST_INVALID", async () => {
    for (const digest of INVALID) {
      const res = await fetch(`${url}/v2/${repo}/referrers/${digest}`);

      expect(res.status, digest).toBe(400);
      expect(await errorCodes(res), digest).toEqual(["DIGEST_INVALID"]);
    }
  });

  test("GET/PUT/DELETE manifest: a malformed digest reference is 400", async () => {
    for (const digest of INVALID.filter((reference) => reference.includes(":"))) {
      const get = await fetch(`${url}/v2/${repo}/manifests/${digest}`);
      const put = await fetch(`${url}/v2/${repo}/manifests/${digest}`, manifestPut());
      const del = await fetch(`${url}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });

      for (const res of [get, put, del]) {
        expect(res.status, digest).toBe(400);
        expect(["DIGEST_INVALID", "MANIFEST_INVALID"], digest).toContainValues(
          await errorCodes(res),
        );
      }
    }
  });
});

describe("invalid tags", () => {
  const INVALID = ["-bad", ".bad", "a".repeat(129), "bad+tag", "b%C3%A4d"];

  test("GET/PUT/DELETE manifest: an invalid tag is 400 MANIFEST_INVALID", async () => {
    for (const tag of INVALID) {
      const get = await fetch(`${url}/v2/${repo}/manifests/${tag}`);
      const put = await fetch(`${url}/v2/${repo}/manifests/${tag}`, manifestPut());
      const del = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: "DELETE" });

      for (const res of [get, put, del]) {
        expect(res.status, tag).toBe(400);
        expect(await errorCodes(res), tag).toEqual(["MANIFEST_INVALID"]);
      }
    }
  });

  test("PUT manifest: a 128-character tag, and tags starting with _ or a digit, are valid", async () => {
    for (const tag of ["a".repeat(128), "_x", "0.1-rc_2", "A"]) {
      const res = await putManifest(url, repo, tag, imageManifest());

      expect(res.status, tag).toBe(201);
    }
  });

  test("PUT manifest: an invalid ?tag= is 400", async () => {
    const body = imageManifest({ annotations: { tag: "invalid" } });
    const digest = digestOf(JSON.stringify(body));

    const res = await putManifest(url, repo, `${digest}?tag=-bad`, body);

    expect(res.status).toBe(400);
    expect((await errorCodes(res)).length).toBe(1);
  });
});

describe("unknown paths and methods", () => {
  test("an unknown path is 404 UNSUPPORTED", async () => {
    for (const path of ["/", "/v3/", "/v2/app/unknown-endpoint", "/v2/app/blobs", "/favicon.ico"]) {
      const res = await fetch(`${url}${path}`);

      expect(res.status, path).toBe(404);
      expect(await errorCodes(res), path).toEqual(["UNSUPPORTED"]);
    }
  });

  test("a method an endpoint does not have is 405 UNSUPPORTED", async () => {
    const session = new URL(await openSession(url, repo)).pathname;
    const requests: [string, string][] = [
      ["POST", "/v2/"],
      ["DELETE", "/v2/"],
      ["PUT", "/v2/_catalog"],
      ["POST", `/v2/${repo}/manifests/v1`],
      ["PATCH", `/v2/${repo}/blobs/${DIGEST}`],
      ["PUT", `/v2/${repo}/blobs/${DIGEST}`],
      ["DELETE", `/v2/${repo}/tags/list`],
      ["POST", `/v2/${repo}/referrers/${DIGEST}`],
      ["POST", session],
    ];

    for (const [method, path] of requests) {
      const res = await fetch(`${url}${path}`, { method });

      expect(res.status, `${method} ${path}`).toBe(405);
      expect(await errorCodes(res), `${method} ${path}`).toEqual(["UNSUPPORTED"]);
    }
  });
});

describe("odd requests", () => {
  test("every endpoint: odd input is a 4xx with the error JSON shape, never a 5xx", async () => {
    const location = await openSession(url, repo);
    const huge = "99999999999999999999";
    const requests: [string, RequestInit?][] = [
      [`/v2/${repo}/tags/list?n=${huge}`],
      [`/v2/${repo}/tags/list?n=1e3`],
      [`/v2/${repo}/tags/list?last=%FF%FE`],
      [`/v2/_catalog?n=${huge}`],
      [`/v2/_catalog?last=%00`],
      [`/v2/${repo}/referrers/${DIGEST}?n=abc`],
      [`/v2/${repo}/referrers/${DIGEST}?artifactType=`],
      [`/v2/${repo}/manifests/`],
      [`/v2/%00/tags/list`],
      [`/v2/${repo}/blobs/${DIGEST}`, { headers: { Range: `bytes=${huge}-` } }],
      [`/v2/${repo}/manifests/v2`, { method: "PUT", body: new Uint8Array([0, 255, 1]) }],
      [`/v2/${repo}/manifests/v2`, { method: "PUT", body: "", headers: { "Content-Type": "" } }],
      [`/v2/${repo}/manifests/v2`, { method: "PUT", body: "[]", headers: jsonType() }],
      [`/v2/${repo}/manifests/v2`, { method: "PUT", body: "null", headers: jsonType() }],
      [`/v2/${repo}/manifests/v2`, { method: "PUT", body: '{"layers":7}', headers: jsonType() }],
      [`/v2/${repo}/blobs/uploads/?digest-algorithm=`, { method: "POST" }],
      [`/v2/${repo}/blobs/uploads/?mount=`, { method: "POST" }],
    ];

    const responses = await Promise.all(
      requests.map(([path, init]) =>
        fetch(`${url}${path}`, init).then((res) => [path, res] as const),
      ),
    );
    const patch = await fetch(location, {
      method: "PATCH",
      body: "x",
      headers: { "Content-Range": `${huge}-${huge}` },
    });

    for (const [path, res] of [...responses, ["PATCH huge range", patch] as const]) {
      expect(res.status, path).toBeLessThan(500);
      if (res.status >= 400) expect((await errorCodes(res)).length, path).toBeGreaterThan(0);
    }
  });
});

function jsonType() {
  return { "Content-Type": "application/vnd.oci.image.manifest.v1+json" };
}

describe("error bodies", () => {
  test("every error: JSON body with errors[].code and message, detail only when present", async () => {
    const blobRepo = randomName("errors");
    await pushBlob(url, blobRepo, EMPTY_JSON);

    const responses = await Promise.all([
      fetch(`${url}/v2/${blobRepo}/blobs/${digestOf("x")}`),
      fetch(`${url}/v2/${blobRepo}/manifests/nothing`),
      fetch(`${url}/v2/${randomName("errors")}/tags/list`),
      fetch(`${url}/v2/${blobRepo}/blobs/sha256:1`),
      putManifest(url, blobRepo, "v1", "{not json", "application/vnd.oci.image.manifest.v1+json"),
      openSession(url, blobRepo).then((location) =>
        finishUpload(location, digestOf("y"), EMPTY_JSON),
      ),
    ]);

    for (const res of responses) {
      const body = (await res.clone().json()) as { errors: Record<string, unknown>[] };
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("content-type")).toStartWith("application/json");
      expect(Object.keys(body)).toEqual(["errors"]);
      for (const error of body.errors) {
        expect(typeof error.code).toBe("string");
        expect(typeof error.message).toBe("string");
        expect(Object.keys(error).every((key) => ["code", "message", "detail"].includes(key))).toBe(
          true,
        );
        expect(error.detail).not.toBeNull();
      }
    }
  });
});
