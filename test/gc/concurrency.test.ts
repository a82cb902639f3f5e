/**
 * Garbage collection running over and over, with no grace period and the `untagged` policy,
 * while several clients push images that share layers, move tags and delete images. A client
 * behaves like skopeo: it uploads only the blobs the repository lacks, and when a push fails
 * with an error it may retry, it starts that push over.
 *
 * Afterwards every image whose push succeeded and that was not deleted pulls back bit-exact,
 * and once a last collection has run, nothing unreferenced is left.
 */
import { describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDigest } from "../../src/registry/digest";
import { CollectedMeanwhile, ManifestBlobUnknown, RegistryError } from "../../src/registry/errors";
import { layout } from "../../src/registry/layout";
import { FSR2Bucket } from "../../src/storage/r2-fs";
import type { ObjectStorage } from "../../src/storage/storage";
import {
  type Descriptor,
  descriptor,
  OCI_CONFIG,
  OCI_LAYER,
  OCI_MANIFEST,
  randomBytes,
  utf8,
} from "../support/client";
import { World } from "./world";

const CLIENTS = 6;
const PUSHES = 20;
const REPOSITORIES = ["shop/web", "shop/api", "tools/ci"];
/** Base layers every client builds on, as real images share their base. */
const BASES = Array.from({ length: 3 }, () => randomBytes(20_000));

interface Pushed {
  repository: string;
  tag: string;
  manifest: string;
  blobs: Map<string, Uint8Array>;
  deleted: boolean;
}

async function pushOnce(world: World, repository: string, tag: string): Promise<Pushed> {
  const base = BASES[Math.floor(Math.random() * BASES.length)] as Uint8Array;
  const blobs = new Map<string, Uint8Array>();
  const parts: [Uint8Array, string][] = [
    [base, OCI_LAYER],
    [randomBytes(3000), OCI_LAYER],
    [utf8(JSON.stringify({ architecture: "amd64", os: "linux", n: Math.random() })), OCI_CONFIG],
  ];
  const ds: Descriptor[] = [];
  for (const [bytes, mediaType] of parts) {
    const d = descriptor(bytes, mediaType);
    ds.push(d);
    blobs.set(d.digest, bytes);
    if (await world.registry.blobs.stat(repository, parseDigest(d.digest))) continue;
    await world.blob(repository, bytes, mediaType);
  }
  const [layerA, layerB, config] = ds;
  const manifest = utf8(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layerA, layerB] }),
  );
  const d = await world.manifest(repository, manifest, OCI_MANIFEST, tag);
  return { repository, tag, manifest: d.digest, blobs, deleted: false };
}

/** Pushes, starting over (up to five times) on an error a client may retry. */
async function push(world: World, repository: string, tag: string, retries: { n: number }) {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await pushOnce(world, repository, tag);
    } catch (error) {
      const retryable = error instanceof ManifestBlobUnknown || error instanceof CollectedMeanwhile;
      if (!retryable) throw error;
      retries.n++;
    }
  }
  return null;
}

async function client(world: World, id: number, pushed: Pushed[], retries: { n: number }) {
  for (let i = 0; i < PUSHES; i++) {
    const repository = REPOSITORIES[(id + i) % REPOSITORIES.length] as string;
    const image = await push(world, repository, `c${id}-${i % 4}`, retries);
    if (image) {
      // A tag moved on: the image it named before is untagged now, so collectable.
      for (const other of pushed) {
        if (other.repository === repository && other.tag === image.tag) other.deleted = true;
      }
      pushed.push(image);
    }
    const victim = pushed.find((p) => !p.deleted && p !== image && Math.random() < 0.2);
    if (victim) {
      victim.deleted = true;
      await world.registry.manifests
        .delete(victim.repository, { digest: parseDigest(victim.manifest) })
        .catch((error) => {
          if (!(error instanceof RegistryError)) throw error;
        });
    }
  }
}

async function pullsBack(world: World, image: Pushed): Promise<boolean> {
  const reference = { digest: parseDigest(image.manifest) };
  const manifest = await world.registry.manifests
    .get(image.repository, reference)
    .catch(() => null);
  if (!manifest) return false;
  await manifest.body.text();
  for (const [digest, bytes] of image.blobs) {
    const content = await world.registry.blobs.open(image.repository, parseDigest(digest));
    if (!content) return false;
    const stored = new Uint8Array(await new Response(content.object.body).arrayBuffer());
    if (Buffer.compare(stored, bytes) !== 0) return false;
  }
  return true;
}

async function scenario(storage?: ObjectStorage) {
  const world = new World(storage);
  const pushed: Pushed[] = [];
  const retries = { n: 0 };
  let done = false;
  let collections = 0;

  const collector = world.collector();
  const gcLoop = (async () => {
    while (!done) {
      await collector.start({ graceMs: 0, policy: "untagged" });
      await collector.runToEnd({ operations: 7, milliseconds: 1000 });
      collections++;
    }
  })();
  await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(world, id, pushed, retries)));
  done = true;
  await gcLoop;

  const live = pushed.filter((p) => !p.deleted);
  expect(collections).toBeGreaterThan(2);
  expect(live.length).toBeGreaterThan(CLIENTS);
  for (const image of live) expect(await pullsBack(world, image)).toBe(true);

  // A last collection with nothing going on leaves only what live images use.
  await world.collect({ graceMs: 0, policy: "untagged" });
  for (const image of live) expect(await pullsBack(world, image)).toBe(true);
  const needed = new Set(live.flatMap((image) => [...image.blobs.keys()]));
  const records = await world.keys(layout.blobsPrefix);
  const stored = records.map((key) => key.slice(layout.blobsPrefix.length).replace("/", ":"));
  expect(stored.sort()).toEqual([...needed].sort());
  for (const image of pushed.filter((p) => p.deleted)) {
    expect(await world.hasManifest(image.repository, image.manifest)).toBe(false);
  }
  return { retries: retries.n, collections };
}

describe("garbage collection during pushes", () => {
  test("in memory: every successful push pulls back; the rest is collected", async () => {
    // Each round interleaves differently; twelve make a missed race very unlikely to go unseen.
    for (let round = 0; round < 12; round++) await scenario();
  });

  test("on the filesystem driver", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gc-concurrency-"));
    try {
      await scenario(new FSR2Bucket(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
