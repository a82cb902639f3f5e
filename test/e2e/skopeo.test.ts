/**
 * skopeo against the registry: push, inspect, list, pull back, multi-arch, Docker schema 2,
 * cross-repository mount and delete, each checked byte for byte against the layout it came from.
 *
 * skopeo keeps a blob-info cache shared by every run (for root, under /var/lib/containers/cache,
 * with no option to move it). It only turns an upload into a mount for a blob it has seen on the
 * same registry, so every test pushes fresh random layers to a fresh repository.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildImage,
  buildMultiArchIndex,
  type Descriptor,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  type ReadImage,
  randomName,
  readImage,
  readIndex,
  sha256,
} from "../support/oci-image";
import { type RegistryServer, startRegistry } from "../support/server";
import { run, runOk } from "../support/tools";

const TIMEOUT = 120_000;
const MiB = 1024 * 1024;

let registry: RegistryServer;
let host: string;
let work: string;

beforeAll(async () => {
  registry = await startRegistry();
  host = new URL(registry.url).host;
  work = await mkdtemp(join(tmpdir(), "r2-registry-skopeo-"));
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function skopeo(...args: string[]) {
  return runOk(["skopeo", "--insecure-policy", ...args], { timeoutMs: TIMEOUT });
}

/** `skopeo copy` with TLS off on both sides; returns the digest skopeo reports for the push. */
async function copy(source: string, destination: string, ...flags: string[]) {
  const digestFile = join(work, `${randomName("digest")}.txt`);
  await skopeo(
    "copy",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    `--digestfile=${digestFile}`,
    ...flags,
    source,
    destination,
  );
  return (await readFile(digestFile, "utf8")).trim();
}

async function inspectRaw(reference: string) {
  return skopeo("inspect", "--tls-verify=false", "--raw", `docker://${host}/${reference}`);
}

function layout(name: string) {
  return join(work, randomName(name));
}

function expectSameImage(pulled: ReadImage, source: ReadImage) {
  expect(pulled.manifest.digest).toBe(source.manifest.digest);
  expect(Buffer.from(pulled.manifestBytes).equals(Buffer.from(source.manifestBytes))).toBe(true);
  expect(Buffer.from(pulled.configBytes).equals(Buffer.from(source.configBytes))).toBe(true);
  expect(pulled.layers.map((layer) => layer.digest)).toEqual(
    source.layers.map((layer) => layer.digest),
  );
}

/**
 * How many files under the data directory hold exactly the blob's bytes (as the file's bytes,
 * or inline in a key's file, where the filesystem driver keeps small objects), whatever the
 * storage driver names them. The registry keeps a blob once (at the key `blobs/<alg>/<hex>`, or in
 * `data/<id>` when assembled from parts), so a mount must not add a copy, and an upload of bytes
 * it already has must not leave one behind.
 */
async function storedCopies(dataDir: string, blob: Descriptor): Promise<number> {
  const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile());
  let copies = 0;
  for (const file of files) {
    const path = join(file.parentPath, file.name);
    if ((await stat(path)).size === blob.size && sha256(await readFile(path)) === blob.digest)
      copies++;
    else if (file.name.endsWith("#") && sha256(await inlineBytes(path)) === blob.digest) copies++;
  }
  return copies;
}

/** The bytes a key's file holds itself (a small object's), or none. */
async function inlineBytes(path: string): Promise<Uint8Array> {
  const meta: { inline?: string } = JSON.parse(await readFile(path, "utf8"));
  return Buffer.from(meta.inline ?? "", "base64");
}

describe("skopeo", () => {
  test(
    "skopeo copy oci → registry: the registry serves the source manifest byte for byte",
    async () => {
      const dir = layout("push");
      const image = await buildImage(dir, {
        layers: [{ files: { "etc/motd": "hello\n", "data/a.bin": 256 * 1024 } }],
        tag: "v1",
      });
      const repo = randomName("e2e/push");

      const pushed = await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:v1`);
      const raw = await inspectRaw(`${repo}:v1`);
      const source = await readImage(dir, "v1");

      expect(pushed).toBe(image.manifest.digest);
      expect(sha256(raw)).toBe(image.manifest.digest);
      expect(raw).toBe(new TextDecoder().decode(source.manifestBytes));
    },
    TIMEOUT,
  );

  test(
    "skopeo reaches the registry at once: over https, or falling back fast from https to http",
    async () => {
      const dir = layout("fallback");
      await buildImage(dir, { layers: [{ files: { "a.txt": 1024 } }], tag: "v1" });
      const repo = randomName("e2e/fallback");
      await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:v1`);

      const started = performance.now();
      const result = await run(
        ["skopeo", "--debug", "inspect", "--tls-verify=false", `docker://${host}/${repo}:v1`],
        { timeoutMs: TIMEOUT },
      );
      const seconds = (performance.now() - started) / 1000;

      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain(`GET https://${host}/v2/`);
      expect(result.stderr).toContain(`Ping ${registry.url}/v2/ status 200`);
      expect(seconds).toBeLessThan(5);
    },
    TIMEOUT,
  );

  test(
    "skopeo list-tags: lists every tag pushed to the repository",
    async () => {
      const dir = layout("tags");
      await buildImage(dir, { layers: [{ files: { "a.txt": 1024 } }], tag: "v1" });
      const repo = randomName("e2e/tags");
      for (const tag of ["v1", "latest", "1.0.0"]) {
        await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:${tag}`);
      }

      const listed = JSON.parse(
        await skopeo("list-tags", "--tls-verify=false", `docker://${host}/${repo}`),
      ) as { Repository: string; Tags: string[] };

      expect(listed.Tags.toSorted()).toEqual(["1.0.0", "latest", "v1"]);
    },
    TIMEOUT,
  );

  test(
    "skopeo copy registry → oci: manifest, config and every layer come back unchanged",
    async () => {
      const dir = layout("roundtrip");
      await buildImage(dir, {
        layers: [
          { files: { "big/blob.bin": 32 * MiB } },
          { files: { "etc/config.json": '{"k":1}', "small.bin": 100 * 1024 } },
          { files: { "empty/.keep": "" } },
        ],
        tag: "v1",
      });
      const repo = randomName("e2e/roundtrip");
      await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:v1`);

      const back = layout("roundtrip-back");
      await copy(`docker://${host}/${repo}:v1`, `oci:${back}:v1`);

      expectSameImage(await readImage(back, "v1"), await readImage(dir, "v1"));
    },
    TIMEOUT,
  );

  test(
    "skopeo copy --all: a multi-arch index and each platform's image round-trip unchanged",
    async () => {
      const dir = layout("multi");
      const built = await buildMultiArchIndex(dir, "v1", [
        { architecture: "amd64", os: "linux" },
        { architecture: "arm64", os: "linux", variant: "v8" },
        { architecture: "s390x", os: "linux" },
      ]);
      const repo = randomName("e2e/multi");

      const pushed = await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:v1`, "--all");
      const raw = await inspectRaw(`${repo}:v1`);
      const children = await Promise.all(
        built.images.map((image) => inspectRaw(`${repo}@${image.manifest.digest}`)),
      );
      const armConfig = await skopeo(
        "--override-arch=arm64",
        "--override-variant=v8",
        "inspect",
        "--tls-verify=false",
        "--config",
        "--raw",
        `docker://${host}/${repo}:v1`,
      );
      const back = layout("multi-back");
      await copy(`docker://${host}/${repo}:v1`, `oci:${back}:v1`, "--all");
      const source = await readIndex(dir, "v1");
      const pulled = await readIndex(back, "v1");

      expect(pushed).toBe(built.index.digest);
      expect(sha256(raw)).toBe(built.index.digest);
      expect((JSON.parse(raw) as { mediaType: string }).mediaType).toBe(OCI_INDEX);
      expect(children.map((child) => sha256(child))).toEqual(
        built.images.map((image) => image.manifest.digest),
      );
      expect(sha256(armConfig)).toBe(built.images[1]?.config.digest ?? "arm64 config");
      expect(Buffer.from(pulled.indexBytes).equals(Buffer.from(source.indexBytes))).toBe(true);
      expect(pulled.images).toHaveLength(3);
      pulled.images.forEach((image, i) => {
        const original = source.images[i];
        if (!original) throw new Error(`no source image ${i}`);
        expectSameImage(image, original);
      });
    },
    TIMEOUT,
  );

  test(
    "skopeo copy --format v2s2: the registry serves a Docker schema 2 manifest",
    async () => {
      const dir = layout("v2s2");
      const image = await buildImage(dir, {
        layers: [{ files: { "a.bin": 64 * 1024 } }, { files: { "b.bin": 64 * 1024 } }],
        tag: "v1",
      });
      const repo = randomName("e2e/v2s2");

      const pushed = await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:v1`, "--format=v2s2");
      const response = await fetch(`${registry.url}/v2/${repo}/manifests/v1`, {
        headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` },
      });
      const body = await response.text();
      const manifest = JSON.parse(body) as { mediaType: string; layers: { digest: string }[] };
      const back = layout("v2s2-back");
      await copy(`docker://${host}/${repo}:v1`, `oci:${back}:v1`);
      const pulled = await readImage(back, "v1");

      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(DOCKER_MANIFEST);
      expect(response.headers.get("docker-content-digest")).toBe(pushed);
      expect(sha256(body)).toBe(pushed);
      expect(manifest.mediaType).toBe(DOCKER_MANIFEST);
      expect(manifest.layers.map((layer) => layer.digest)).toEqual(
        image.layers.map((layer) => layer.digest),
      );
      expect(pulled.config.rootfs.diff_ids).toEqual(image.diffIds);
    },
    TIMEOUT,
  );

  test(
    "skopeo copy between repositories: layers are mounted, not uploaded, and stored once",
    async () => {
      const dir = layout("mount");
      const image = await buildImage(dir, {
        layers: [{ files: { "a.bin": 512 * 1024 } }, { files: { "b.bin": 512 * 1024 } }],
        tag: "v1",
      });
      const from = randomName("e2e/mount-from");
      const to = randomName("e2e/mount-to");
      await copy(`oci:${dir}:v1`, `docker://${host}/${from}:v1`);

      const result = await run(
        [
          "skopeo",
          "--insecure-policy",
          "--debug",
          "copy",
          "--src-tls-verify=false",
          "--dest-tls-verify=false",
          `docker://${host}/${from}:v1`,
          `docker://${host}/${to}:v1`,
        ],
        { timeoutMs: TIMEOUT },
      );
      const back = layout("mount-back");
      await copy(`docker://${host}/${to}:v1`, `oci:${back}:v1`);

      expect(result.exitCode).toBe(0);
      expect(sha256(await inspectRaw(`${to}:v1`))).toBe(image.manifest.digest);
      expectSameImage(await readImage(back, "v1"), await readImage(dir, "v1"));
      const log = result.stderr.split("\n");
      const mounted = log
        .filter((line) => line.includes(`POST ${registry.url}/v2/${to}/blobs/uploads/?`))
        .map((line) => decodeURIComponent(line.match(/[?&]mount=([^&"\s]+)/)?.[1] ?? ""));
      const uploaded = log.map((line) => line.match(/Upload of layer (\S+) complete/)?.[1]);
      for (const layer of image.layers) {
        expect(mounted).toContain(layer.digest);
        expect(uploaded).not.toContain(layer.digest);
      }
      if (registry.dataDir !== null) {
        for (const blob of [image.config, ...image.layers]) {
          const copies = await storedCopies(registry.dataDir, blob);
          expect({ blob: blob.digest, copies }).toEqual({ blob: blob.digest, copies: 1 });
        }
      }
    },
    TIMEOUT,
  );

  test(
    "skopeo delete: the manifest and its tag are gone",
    async () => {
      const dir = layout("delete");
      const image = await buildImage(dir, { layers: [{ files: { "a.bin": 4096 } }], tag: "v1" });
      const repo = randomName("e2e/delete");
      await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:v1`);
      await copy(`oci:${dir}:v1`, `docker://${host}/${repo}:keep`);
      const kept = await buildImage(dir, { layers: [{ files: { "b.bin": 4096 } }], tag: "other" });
      await copy(`oci:${dir}:other`, `docker://${host}/${repo}:other`);

      await skopeo(
        "delete",
        "--tls-verify=false",
        `docker://${host}/${repo}@${image.manifest.digest}`,
      );
      const byDigest = await fetch(
        `${registry.url}/v2/${repo}/manifests/${image.manifest.digest}`,
        {
          headers: { Accept: OCI_MANIFEST },
        },
      );
      const byTag = await run([
        "skopeo",
        "inspect",
        "--tls-verify=false",
        "--raw",
        `docker://${host}/${repo}:v1`,
      ]);
      const tags = JSON.parse(
        await skopeo("list-tags", "--tls-verify=false", `docker://${host}/${repo}`),
      ) as { Tags: string[] };

      expect(byDigest.status).toBe(404);
      expect(((await byDigest.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
        "MANIFEST_UNKNOWN",
      );
      expect(byTag.exitCode).not.toBe(0);
      expect(byTag.stderr).toMatch(/manifest unknown/i);
      expect(tags.Tags).toEqual(["other"]);
      expect(sha256(await inspectRaw(`${repo}:other`))).toBe(kept.manifest.digest);
    },
    TIMEOUT,
  );
});
