/**
 * Garbage collection through its endpoint, on the Bun server and on the Worker (where the runs
 * below also go through the Cron Trigger): what goes, what stays, the dry run, the worst
 * interleavings with a push, and runs that take many steps.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  descriptor,
  errorCodes,
  getBlob,
  imageManifest,
  OCI_LAYER,
  openSession,
  patchChunk,
  pushBlob,
  pushImage,
  putManifest,
  randomBytes,
  randomName,
} from "../support/client";
import { collect, gcStatus, resumeGc, settleGc, startGc } from "../support/gc";
import { isWorkerTarget, type RegistryServer, startRegistry } from "../support/server";

let server: RegistryServer;
let url: string;
const MiB = 1024 * 1024;

beforeAll(async () => {
  server = await startRegistry();
  url = server.url;
});

afterAll(() => server?.stop());

async function deleteManifest(repo: string, digest: string) {
  const res = await fetch(`${url}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
  expect(res.status).toBe(202);
}

async function blobStatus(repo: string, digest: string): Promise<number> {
  const res = await getBlob(url, repo, digest);
  await res.arrayBuffer();
  return res.status;
}

/**
 * A repository with a layer uploaded but used by no manifest, and a collection (no grace
 * period) paused after `phase`; with the manifest that would use the layer, not pushed yet.
 */
async function orphanLayerUntil(phase: "condemn" | "claim") {
  const repo = randomName("gc");
  const bytes = randomBytes(2048);
  const layer = descriptor(bytes, OCI_LAYER);
  await pushBlob(url, repo, bytes);
  const base = await pushImage(url, repo, "base");
  await Bun.sleep(5);
  await startGc(url, { grace: "0", pauseAfter: phase });
  expect((await settleGc(url)).running?.paused).toBe(true);
  const manifest = imageManifest({ config: base.config, layers: [layer] });
  return { repo, bytes, layer, manifest };
}

describe("garbage collection endpoint", () => {
  test("a deleted image's blobs go; a tagged image and a shared layer stay", async () => {
    const repo = randomName("gc");
    const other = randomName("gc");
    const shared = randomBytes(4096);
    const kept = await pushImage(url, repo, "kept");
    const gone = await pushImage(url, repo, "gone", { layer: shared });
    const theirs = await pushImage(url, other, "v1", { layer: shared });
    await deleteManifest(repo, gone.digest);

    const report = await collect(url, { grace: "0" });

    expect(report.dryRun).toBe(false);
    expect(await blobStatus(repo, gone.config.digest)).toBe(404);
    expect(await blobStatus(repo, gone.layer.digest)).toBe(404);
    expect(await blobStatus(repo, kept.layer.digest)).toBe(200);
    expect(await blobStatus(other, theirs.layer.digest)).toBe(200);
    const mine = report.repositories[repo];
    expect(mine?.removed.links).toBe(2);
    // Only the config was this repository's alone; the layer's bytes stay for `other`.
    expect(mine?.removed.blobBytes).toBe(gone.config.size);
    expect(report.total.blobBytes).toBeGreaterThan(0);
  });

  test("a dry run reports and deletes nothing", async () => {
    const repo = randomName("gc");
    const gone = await pushImage(url, repo, "v1");
    await deleteManifest(repo, gone.digest);

    const report = await collect(url, { grace: "0", dryRun: "true" });
    expect(report.dryRun).toBe(true);
    expect(report.repositories[repo]?.removed.links).toBe(2);
    expect(await blobStatus(repo, gone.layer.digest)).toBe(200);
  });

  test("nothing younger than the grace period goes", async () => {
    const repo = randomName("gc");
    const gone = await pushImage(url, repo, "v1");
    await deleteManifest(repo, gone.digest);
    await collect(url); // the default grace period: one hour
    expect(await blobStatus(repo, gone.layer.digest)).toBe(200);
  });

  test("a manifest PUT right after the collection condemned its layer keeps it", async () => {
    const { repo, bytes, layer, manifest } = await orphanLayerUntil("condemn");
    expect((await putManifest(url, repo, "v1", manifest)).status).toBe(201);

    await resumeGc(url);
    expect((await settleGc(url)).running).toBeNull();
    const res = await getBlob(url, repo, layer.digest);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  test("a manifest PUT after the collection claimed its layer fails; pushing again works", async () => {
    const { repo, bytes, layer, manifest } = await orphanLayerUntil("claim");
    const refused = await putManifest(url, repo, "v1", manifest);
    expect(refused.status).toBe(400);
    expect(await errorCodes(refused)).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
    expect((await fetch(`${url}/v2/${repo}/manifests/v1`)).status).toBe(404);

    await resumeGc(url);
    expect((await settleGc(url)).running).toBeNull();
    expect(await blobStatus(repo, layer.digest)).toBe(404);

    await pushBlob(url, repo, bytes);
    expect((await putManifest(url, repo, "v1", manifest)).status).toBe(201);
    const res = await getBlob(url, repo, layer.digest);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  test("the status tells the running collection; a second start joins it", async () => {
    await Bun.sleep(5);
    const first = await startGc(url, { grace: "0", pauseAfter: "scan" });
    expect(first.started).toBe(true);
    const second = await startGc(url, { grace: "0" });
    expect(second.started).toBe(false);
    const paused = await settleGc(url);
    expect(paused.running?.phase).toBe("blobs");
    await resumeGc(url);
    expect((await settleGc(url)).running).toBeNull();
    expect((await gcStatus(url)).last?.id).toBe(first.running?.id ?? "");
  });

  test("an upload session idle past its time to live is aborted with its parts", async () => {
    const repo = randomName("gc");
    const session = await openSession(url, repo);
    // 9 MiB: one full part in the session's multipart upload, the rest carried.
    expect((await patchChunk(session, randomBytes(9 * MiB))).status).toBe(202);
    await Bun.sleep(1500);
    const fresh = await openSession(url, repo);

    const report = await collect(url, { uploadTtl: "1" });

    expect(report.abandonedUploads).toBe(1);
    const gone = await fetch(session);
    expect(gone.status).toBe(404);
    expect(await errorCodes(gone)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    expect((await fetch(fresh)).status).toBe(204);
    if (server.dataDir && !isWorkerTarget) {
      // The filesystem driver keeps multipart parts under uploads/: none are left.
      expect(await readdir(join(server.dataDir, "uploads"))).toEqual([]);
    }
  });

  test("bad parameters are 400 UNSUPPORTED", async () => {
    for (const query of ["policy=some", "grace=-1", "grace=soon", "pauseAfter=lunch"]) {
      const res = await fetch(`${url}/v2/_gc?${query}`, { method: "POST" });
      expect(res.status).toBe(400);
      expect(await errorCodes(res)).toEqual(["UNSUPPORTED"]);
    }
    const res = await fetch(`${url}/v2/_gc`, { method: "DELETE" });
    expect(res.status).toBe(405);
  });
});

describe("a collection in many small steps", () => {
  let small: RegistryServer;

  beforeAll(async () => {
    small = await startRegistry({ env: { GC_STEP_OPERATIONS: "3" } });
  });

  afterAll(() => small?.stop());

  test("finishes over many steps with the same outcome", async () => {
    const repos = [randomName("steps"), randomName("steps"), randomName("steps")];
    const images = [];
    for (const repo of repos) {
      images.push(await pushImage(small.url, repo, "kept"));
      const gone = await pushImage(small.url, repo, "gone");
      const res = await fetch(`${small.url}/v2/${repo}/manifests/${gone.digest}`, {
        method: "DELETE",
      });
      expect(res.status).toBe(202);
    }

    const report = await collect(small.url, { grace: "0" });
    expect(report.steps).toBeGreaterThan(10);
    expect(report.removedBlobs.count).toBe(6);
    for (const [i, repo] of repos.entries()) {
      const image = images[i];
      if (!image) throw new Error("missing image");
      const res = await getBlob(small.url, repo, image.layer.digest);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
  });
});
