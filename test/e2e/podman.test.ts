/**
 * podman against the registry: push an image from local storage, pull it into a fresh store,
 * and pick one platform out of a multi-arch index.
 *
 * Each podman store is a temporary `--root`/`--runroot` with the vfs driver, so the tests need
 * root but no overlay mounts, and they never see images from another run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, buildMultiArchIndex, randomName, sha256 } from "../support/oci-image";
import { type RegistryServer, startRegistry } from "../support/server";
import { type PodmanImage, PodmanStores } from "../support/podman";
import { runOk } from "../support/tools";

const TIMEOUT = 120_000;

let registry: RegistryServer;
let host: string;
let work: string;
let stores: PodmanStores;

beforeAll(async () => {
  registry = await startRegistry();
  host = new URL(registry.url).host;
  // Lower case throughout: podman names an image pulled from `oci:DIR` after DIR.
  work = join(tmpdir(), randomName("r2-registry-podman"));
  await mkdir(work);
  stores = new PodmanStores(work);
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  await stores?.cleanup();
});

describe("podman", () => {
  test(
    "podman push: a fresh store pulls the pushed digest with the same config and layers",
    async () => {
      const dir = join(work, randomName("layout"));
      const image = await buildImage(dir, {
        layers: [{ files: { "etc/motd": "from podman\n", "a.bin": 512 * 1024 } }],
        tag: "v1",
      });
      const repo = randomName("e2e/podman");
      const pusher = await stores.create("pusher");
      const puller = await stores.create("puller");
      const digestFile = join(work, randomName("digest"));
      await pusher.podman("pull", "--quiet", `oci:${dir}:v1`);

      await pusher.podman(
        "push",
        "--tls-verify=false",
        `--digestfile=${digestFile}`,
        image.config.digest.slice("sha256:".length),
        `docker://${host}/${repo}:v1`,
      );
      await puller.podman("pull", "--quiet", "--tls-verify=false", `${host}/${repo}:v1`);
      const pushed = (await readFile(digestFile, "utf8")).trim();
      const pulled = await puller.inspect(`${host}/${repo}:v1`);
      const served = await runOk([
        "skopeo",
        "inspect",
        "--tls-verify=false",
        "--raw",
        `docker://${host}/${repo}:v1`,
      ]);

      expect(pushed).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(sha256(served)).toBe(pushed);
      expect(pulled.Digest).toBe(pushed);
      expect(`sha256:${pulled.Id}`).toBe(image.config.digest);
      expect(pulled.RootFS.Layers).toEqual(image.diffIds);
    },
    TIMEOUT,
  );

  test(
    "podman pull --arch from a multi-arch index: each platform gets its own image",
    async () => {
      const dir = join(work, randomName("layout"));
      const built = await buildMultiArchIndex(dir, "v1", [
        { architecture: "amd64", os: "linux" },
        { architecture: "arm64", os: "linux", variant: "v8" },
      ]);
      const repo = randomName("e2e/podman-multi");
      await runOk(
        [
          "skopeo",
          "--insecure-policy",
          "copy",
          "--all",
          "--dest-tls-verify=false",
          `oci:${dir}:v1`,
          `docker://${host}/${repo}:v1`,
        ],
        { timeoutMs: TIMEOUT },
      );
      const [amd64, arm64] = built.images;
      if (!amd64 || !arm64) throw new Error("index built without both platforms");

      const pulled: PodmanImage[] = [];
      for (const [arch, variant] of [
        ["amd64", ""],
        ["arm64", "v8"],
      ] as const) {
        const store = await stores.create(`multi-${arch}`);
        const platform = variant ? ["--arch", arch, "--variant", variant] : ["--arch", arch];
        await store.podman(
          "pull",
          "--quiet",
          "--tls-verify=false",
          ...platform,
          `${host}/${repo}:v1`,
        );
        pulled.push(await store.inspect(`${host}/${repo}:v1`));
      }

      expect(pulled.map((image) => `sha256:${image.Id}`)).toEqual([
        amd64.config.digest,
        arm64.config.digest,
      ]);
      expect(pulled.map((image) => image.Architecture)).toEqual(["amd64", "arm64"]);
      expect(pulled.map((image) => image.RootFS.Layers)).toEqual([amd64.diffIds, arm64.diffIds]);
    },
    TIMEOUT,
  );
});
