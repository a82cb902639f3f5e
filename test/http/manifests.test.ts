import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  type Descriptor,
  descriptor,
  digestOf,
  EMPTY_JSON,
  errorCodes,
  errorDetail,
  getManifest,
  imageIndex,
  imageManifest,
  manifestBytes,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  pushBlob,
  pushEmptyConfig,
  pushImage,
  pushManifest,
  putManifest,
  randomBytes,
  randomName,
  utf8,
} from "../support/client";
import { type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;

const MiB = 1024 * 1024;

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
});

afterAll(() => server?.stop());

async function bytesOf(res: Response) {
  return new Uint8Array(await res.arrayBuffer());
}

/** A repository holding the empty config blob, ready for `imageManifest()` pushes. */
async function repoWithConfig() {
  const repo = randomName("manifests");
  await pushEmptyConfig(url, repo);
  return repo;
}

/** Pushes a Docker schema 2 manifest (config and one layer) by digest. */
async function pushDockerImage(repo: string) {
  const configBytes = utf8(
    JSON.stringify({ architecture: "amd64", os: "linux", id: Math.random() }),
  );
  const layerBytes = randomBytes(32);
  await pushBlob(url, repo, configBytes);
  await pushBlob(url, repo, layerBytes);
  const manifest = imageManifest({
    mediaType: DOCKER_MANIFEST,
    config: descriptor(configBytes, DOCKER_CONFIG),
    layers: [descriptor(layerBytes, DOCKER_LAYER)],
  });
  return pushManifest(url, repo, null, manifest);
}

/** An OCI manifest padded with an annotation to exactly `size` bytes of JSON. */
function manifestOfSize(size: number): Uint8Array {
  const shape = (pad: string) => JSON.stringify(imageManifest({ annotations: { pad } }));
  return utf8(shape("x".repeat(size - shape("").length)));
}

describe("PUT manifest", () => {
  test("PUT manifest: by tag is 201 with Location and a SHA-256 Docker-Content-Digest", async () => {
    const repo = await repoWithConfig();
    const manifest = imageManifest();
    const digest = digestOf(manifestBytes(manifest));

    const res = await putManifest(url, repo, "latest", manifest);

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(new URL(res.headers.get("location") ?? "", url).pathname).toBe(
      `/v2/${repo}/manifests/${digest}`,
    );
  });

  test("PUT manifest: by digest is 201 and GET by that digest answers it", async () => {
    const repo = await repoWithConfig();
    const manifest = imageManifest({ annotations: { by: "digest" } });
    const digest = digestOf(manifestBytes(manifest));

    const res = await putManifest(url, repo, digest, manifest);
    const read = await getManifest(url, repo, digest);

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(read.status).toBe(200);
    expect(await bytesOf(read)).toEqual(manifestBytes(manifest));
  });

  test("PUT manifest: by sha512 digest is stored and served under that digest", async () => {
    const repo = await repoWithConfig();
    const manifest = imageManifest({ annotations: { by: "sha512" } });
    const digest = digestOf(manifestBytes(manifest), "sha512");

    const res = await putManifest(url, repo, digest, manifest);
    const read = await getManifest(url, repo, digest);

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(read.status).toBe(200);
    expect(read.headers.get("docker-content-digest")).toBe(digest);
  });

  test("PUT manifest: by a digest the bytes do not hash to is 400 DIGEST_INVALID", async () => {
    const repo = await repoWithConfig();
    const wrong = digestOf("something else");

    const res = await putManifest(url, repo, wrong, imageManifest());

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["DIGEST_INVALID"]);
    expect((await getManifest(url, repo, wrong)).status).toBe(404);
  });

  test("GET manifest: the exact bytes pushed come back, whitespace and all", async () => {
    const repo = await repoWithConfig();
    const text = `${JSON.stringify(imageManifest(), null, "\t")}\n  \n`.replace(":", " :  ");

    const res = await putManifest(url, repo, "spaced", text, OCI_MANIFEST);
    const read = await getManifest(url, repo, "spaced");

    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf(text));
    expect(await bytesOf(read)).toEqual(utf8(text));
  });

  test("PUT manifest: the body's mediaType is used when there is no Content-Type", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(url, repo, "v1", imageManifest(), null);
    const read = await getManifest(url, repo, "v1");

    expect(res.status).toBe(201);
    expect(read.headers.get("content-type")).toBe(OCI_MANIFEST);
  });

  test("PUT manifest: Content-Type is used when the body has no mediaType", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(
      url,
      repo,
      "v1",
      imageManifest({ mediaType: null }),
      OCI_MANIFEST,
    );
    const read = await getManifest(url, repo, "v1");

    expect(res.status).toBe(201);
    expect(read.headers.get("content-type")).toBe(OCI_MANIFEST);
  });

  test("PUT manifest: Content-Type parameters are ignored", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(
      url,
      repo,
      "v1",
      imageManifest(),
      `${OCI_MANIFEST}; charset=utf-8`,
    );
    const read = await getManifest(url, repo, "v1");

    expect(res.status).toBe(201);
    expect(read.headers.get("content-type")).toBe(OCI_MANIFEST);
  });

  test("PUT manifest: body mediaType and Content-Type that disagree is 400 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(url, repo, "v1", imageManifest(), DOCKER_MANIFEST);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
  });

  test("PUT manifest: no media type in the body nor in Content-Type is 400 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(url, repo, "v1", imageManifest({ mediaType: null }), null);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
  });

  test("PUT manifest: an unknown media type is 400 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();
    const manifest = imageManifest({ mediaType: "application/vnd.example.manifest+json" });

    const res = await putManifest(url, repo, "v1", manifest);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
  });

  test("PUT manifest: invalid JSON is 400 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(
      url,
      repo,
      "v1",
      '{"schemaVersion": 2, "mediaType":',
      OCI_MANIFEST,
    );

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
  });

  test("PUT manifest: a schemaVersion other than 2 is 400 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(url, repo, "v1", { ...imageManifest(), schemaVersion: 3 });

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
  });

  test("PUT manifest: an OCI image manifest without config is 400 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();
    const { config: _, ...withoutConfig } = imageManifest();

    const res = await putManifest(url, repo, "v1", withoutConfig);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
  });

  test("PUT manifest: over 4 MiB is 413 MANIFEST_INVALID", async () => {
    const repo = await repoWithConfig();

    const res = await putManifest(url, repo, "big", manifestOfSize(4 * MiB + 1), OCI_MANIFEST);

    expect(res.status).toBe(413);
    expect(await errorCodes(res)).toEqual(["MANIFEST_INVALID"]);
    expect((await getManifest(url, repo, "big")).status).toBe(404);
  });

  test("PUT manifest: exactly 4 MiB is accepted", async () => {
    const repo = await repoWithConfig();
    const bytes = manifestOfSize(4 * MiB);

    const res = await putManifest(url, repo, "big", bytes, OCI_MANIFEST);

    expect(bytes.byteLength).toBe(4 * MiB);
    expect(res.status).toBe(201);
  });

  test("PUT manifest: ?tag=a&tag=b points both tags at it and answers OCI-Tag", async () => {
    const repo = await repoWithConfig();
    const manifest = imageManifest({ annotations: { tags: "two" } });
    const digest = digestOf(manifestBytes(manifest));

    const res = await putManifest(url, repo, `${digest}?tag=a&tag=b`, manifest);
    const a = await getManifest(url, repo, "a");
    const b = await getManifest(url, repo, "b");

    expect(res.status).toBe(201);
    const tags = (res.headers.get("oci-tag") ?? "").split(",").map((tag) => tag.trim());
    expect(tags.sort()).toEqual(["a", "b"]);
    expect(a.headers.get("docker-content-digest")).toBe(digest);
    expect(b.headers.get("docker-content-digest")).toBe(digest);
  });

  test("PUT manifest: pushing another manifest to a tag moves the tag", async () => {
    const repo = await repoWithConfig();
    const first = await pushManifest(
      url,
      repo,
      "moving",
      imageManifest({ annotations: { n: "1" } }),
    );
    const second = await pushManifest(
      url,
      repo,
      "moving",
      imageManifest({ annotations: { n: "2" } }),
    );

    const byTag = await getManifest(url, repo, "moving");
    const old = await getManifest(url, repo, first.digest);

    expect(byTag.headers.get("docker-content-digest")).toBe(second.digest);
    expect(await bytesOf(byTag)).toEqual(second.bytes);
    expect(old.status).toBe(200);
  });
});

describe("PUT manifest: the four manifest types and artifacts", () => {
  test("PUT manifest: an OCI image manifest is served with its media type and bytes", async () => {
    const repo = randomName("manifests");

    const image = await pushImage(url, repo, "oci");
    const read = await getManifest(url, repo, "oci");

    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(await bytesOf(read)).toEqual(image.bytes);
  });

  test("PUT manifest: an OCI image index is served with its media type and bytes", async () => {
    const repo = randomName("manifests");
    const children = [await pushImage(url, repo), await pushImage(url, repo)];
    const index = imageIndex({ manifests: children.map((child) => child.descriptor) });

    const pushed = await pushManifest(url, repo, "index", index);
    const read = await getManifest(url, repo, "index");

    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe(OCI_INDEX);
    expect(await bytesOf(read)).toEqual(pushed.bytes);
  });

  test("PUT manifest: a Docker schema 2 manifest is served with its media type and bytes", async () => {
    const repo = randomName("manifests");

    const pushed = await pushDockerImage(repo);
    const read = await getManifest(url, repo, pushed.digest);

    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe(DOCKER_MANIFEST);
    expect(await bytesOf(read)).toEqual(pushed.bytes);
  });

  test("PUT manifest: a Docker manifest list is served with its media type and bytes", async () => {
    const repo = randomName("manifests");
    const child = await pushDockerImage(repo);
    const platform = { architecture: "amd64", os: "linux" };
    const list = imageIndex({
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [{ ...child.descriptor, platform }],
    });

    const pushed = await pushManifest(url, repo, "list", list);
    const read = await getManifest(url, repo, "list");

    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe(DOCKER_MANIFEST_LIST);
    expect(await bytesOf(read)).toEqual(pushed.bytes);
  });

  test("PUT manifest: an artifact (artifactType, empty config) is served with its bytes", async () => {
    const repo = await repoWithConfig();
    const sbom = utf8('{"spdxVersion":"SPDX-2.3"}');
    await pushBlob(url, repo, sbom);
    const artifact = imageManifest({
      artifactType: "application/vnd.example.sbom.v1",
      layers: [descriptor(sbom, "application/spdx+json")],
    });

    const pushed = await pushManifest(url, repo, "sbom", artifact);
    const read = await getManifest(url, repo, "sbom");

    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(await bytesOf(read)).toEqual(pushed.bytes);
  });
});

describe("PUT manifest: references to blobs and manifests", () => {
  test("PUT manifest: an index whose child is missing is 400 MANIFEST_BLOB_UNKNOWN naming it", async () => {
    const repo = randomName("manifests");
    const present = await pushImage(url, repo);
    const missing: Descriptor = { ...present.descriptor, digest: digestOf("no such manifest") };

    const res = await putManifest(url, repo, "index", imageIndex({ manifests: [missing] }));

    expect(res.status).toBe(400);
    expect(await errorDetail(res)).toContain(missing.digest);
    expect(await errorCodes(res)).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
  });

  test("PUT manifest: a missing layer is 400 MANIFEST_BLOB_UNKNOWN naming it", async () => {
    const repo = await repoWithConfig();
    const layer = descriptor(randomBytes(20), OCI_LAYER);

    const res = await putManifest(url, repo, "v1", imageManifest({ layers: [layer] }));

    expect(res.status).toBe(400);
    expect(await errorDetail(res)).toContain(layer.digest);
    expect(await errorCodes(res)).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
  });

  test("PUT manifest: a missing config is 400 MANIFEST_BLOB_UNKNOWN naming it", async () => {
    const repo = randomName("manifests");
    const config = descriptor(EMPTY_JSON, "application/vnd.oci.empty.v1+json");
    await pushBlob(url, repo, randomBytes(5));

    const res = await putManifest(url, repo, "v1", imageManifest({ config }));

    expect(res.status).toBe(400);
    expect(await errorDetail(res)).toContain(config.digest);
    expect(await errorCodes(res)).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
  });

  test("PUT manifest: a layer pushed only to another repository is 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const repo = await repoWithConfig();
    const layerBytes = randomBytes(20);
    await pushBlob(url, randomName("manifests"), layerBytes);

    const manifest = imageManifest({ layers: [descriptor(layerBytes, OCI_LAYER)] });
    const res = await putManifest(url, repo, "v1", manifest);

    expect(res.status).toBe(400);
    expect(await errorCodes(res)).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
  });

  test("PUT manifest: foreign layers with urls are not checked", async () => {
    const repo = await repoWithConfig();
    const foreign: Descriptor = {
      ...descriptor(
        randomBytes(20),
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      ),
      urls: ["https://example.com/layer.tar.gz"],
    };

    const res = await putManifest(url, repo, "v1", imageManifest({ layers: [foreign] }));

    expect(res.status).toBe(201);
  });

  test("PUT manifest: a subject that does not exist is accepted and answered with OCI-Subject", async () => {
    const repo = await repoWithConfig();
    const subject = descriptor(utf8("not pushed"), OCI_MANIFEST);

    const res = await putManifest(url, repo, "v1", imageManifest({ subject }));

    expect(res.status).toBe(201);
    expect(res.headers.get("oci-subject")).toBe(subject.digest);
  });
});

describe("GET/HEAD manifest", () => {
  test("GET manifest: by tag, 200 with Content-Type, digest, Content-Length and ETag", async () => {
    const repo = randomName("manifests");
    const image = await pushImage(url, repo, "v1");

    const res = await getManifest(url, repo, "v1");

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    expect(res.headers.get("content-length")).toBe(String(image.bytes.byteLength));
    expect(res.headers.get("etag")).toBe(`"${image.digest}"`);
    expect(await bytesOf(res)).toEqual(image.bytes);
  });

  test("GET manifest: by digest, 200 with the same headers and bytes", async () => {
    const repo = randomName("manifests");
    const image = await pushImage(url, repo, "v1");

    const res = await getManifest(url, repo, image.digest);

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    expect(res.headers.get("content-length")).toBe(String(image.bytes.byteLength));
    expect(res.headers.get("etag")).toBe(`"${image.digest}"`);
    expect(await bytesOf(res)).toEqual(image.bytes);
  });

  test("HEAD manifest: 200 with the GET's headers and no body", async () => {
    const repo = randomName("manifests");
    const image = await pushImage(url, repo, "v1");

    const res = await getManifest(url, repo, "v1", "HEAD");

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    expect(res.headers.get("content-length")).toBe(String(image.bytes.byteLength));
    expect(res.headers.get("etag")).toBe(`"${image.digest}"`);
    expect(await res.text()).toBe("");
  });

  test("GET manifest: unknown tag is 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomName("manifests");
    await pushImage(url, repo, "v1");

    const res = await getManifest(url, repo, "v2");

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["MANIFEST_UNKNOWN"]);
  });

  test("GET manifest: unknown digest is 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomName("manifests");
    await pushImage(url, repo, "v1");

    const res = await getManifest(url, repo, digestOf("no such manifest"));

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["MANIFEST_UNKNOWN"]);
  });

  test("GET manifest: unknown repository is 404 NAME_UNKNOWN", async () => {
    const res = await getManifest(url, randomName("nowhere"), "latest");

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["NAME_UNKNOWN"]);
  });

  test("GET manifest: a manifest of another repository is 404 MANIFEST_UNKNOWN here", async () => {
    const repo = randomName("manifests");
    const other = randomName("manifests");
    await pushImage(url, other, "v1");
    const image = await pushImage(url, repo, "v1");

    const res = await getManifest(url, other, image.digest);

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["MANIFEST_UNKNOWN"]);
  });
});

describe("DELETE manifest", () => {
  test("DELETE manifest: by digest is 202 and removes the manifest and every tag on it", async () => {
    const repo = randomName("manifests");
    const image = await pushImage(url, repo, "one");
    await pushManifest(url, repo, "two", imageManifestOf(image.bytes));
    await pushImage(url, repo, "other");

    const res = await fetch(`${url}/v2/${repo}/manifests/${image.digest}`, { method: "DELETE" });
    const tags = await fetch(`${url}/v2/${repo}/tags/list`);

    expect(res.status).toBe(202);
    expect((await getManifest(url, repo, image.digest)).status).toBe(404);
    expect((await getManifest(url, repo, "one")).status).toBe(404);
    expect((await getManifest(url, repo, "two")).status).toBe(404);
    expect(((await tags.json()) as { tags: string[] }).tags).toEqual(["other"]);
  });

  test("DELETE manifest: by tag is 202, removes the tag and leaves the manifest", async () => {
    const repo = randomName("manifests");
    const image = await pushImage(url, repo, "doomed");

    const res = await fetch(`${url}/v2/${repo}/manifests/doomed`, { method: "DELETE" });

    expect(res.status).toBe(202);
    expect((await getManifest(url, repo, "doomed")).status).toBe(404);
    expect((await getManifest(url, repo, image.digest)).status).toBe(200);
  });

  test("DELETE manifest: unknown digest is 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomName("manifests");
    await pushImage(url, repo, "v1");

    const res = await fetch(`${url}/v2/${repo}/manifests/${digestOf("nothing")}`, {
      method: "DELETE",
    });

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["MANIFEST_UNKNOWN"]);
  });

  test("DELETE manifest: unknown tag is 404 MANIFEST_UNKNOWN", async () => {
    const repo = randomName("manifests");
    await pushImage(url, repo, "v1");

    const res = await fetch(`${url}/v2/${repo}/manifests/nothing`, { method: "DELETE" });

    expect(res.status).toBe(404);
    expect(await errorCodes(res)).toEqual(["MANIFEST_UNKNOWN"]);
  });
});

/** Parses pushed manifest bytes back into an object, to push the same document again. */
function imageManifestOf(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}
