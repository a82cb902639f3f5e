/**
 * The worst interleavings of a collection with pushes, forced step by step: the collection
 * pauses right after it decided what is garbage (condemn) or committed to deleting it (claim),
 * a push comes in that needs exactly that, then the collection goes on. Either the push
 * succeeds and everything it needs survives, or it fails with an error a retry clears.
 */
import { describe, expect, test } from "bun:test";
import { Collector } from "../../src/gc/collector";
import { typescriptHashEngine } from "../../src/hash/typescript-engine";
import { parseDigest } from "../../src/registry/digest";
import {
  BlobUploadUnknown,
  CollectedMeanwhile,
  ManifestBlobUnknown,
  UploadRangeInvalid,
} from "../../src/registry/errors";
import { createRegistry } from "../../src/registry/registry";
import type { ObjectStorage } from "../../src/storage/storage";
import { randomBytes } from "../support/client";
import { World } from "./world";

const REPO = "team/app";
const OTHER = "team/other";

/** A world holding an orphan layer (uploaded, never used) older than the grace period. */
async function withOrphanLayer() {
  const world = new World();
  const layer = await world.blob(REPO, randomBytes(3000));
  world.later();
  return { world, layer };
}

async function pausedAfter(world: World, phase: "condemn" | "claim") {
  const collector = world.collector();
  expect(await collector.start({ pauseAfter: phase })).toBe(true);
  expect(await collector.runToEnd()).toBe(phase === "condemn" ? "rescan" : "delete");
  return collector;
}

describe("garbage collection against a push at the worst moment", () => {
  test("a manifest PUT after condemn rescues its layer: the image pulls afterwards", async () => {
    const { world, layer } = await withOrphanLayer();
    const collector = await pausedAfter(world, "condemn");

    const image = await world.image(REPO, { tag: "v1", layers: [layer] });

    await collector.resume();
    expect(await collector.runToEnd()).toBe("done");
    expect(await world.pulls(REPO, image)).toBe(true);
    const report = (await collector.status()).last;
    expect(report?.rescued).toBeGreaterThan(0);
    expect(report?.removedBlobs.count).toBe(0);
  });

  test("a manifest PUT after claim is MANIFEST_BLOB_UNKNOWN; the retry succeeds", async () => {
    const { world, layer } = await withOrphanLayer();
    const bytes = await bytesOf(world, layer);
    const collector = await pausedAfter(world, "claim");

    expect(world.image(REPO, { tag: "v1", layers: [layer] })).rejects.toBeInstanceOf(
      ManifestBlobUnknown,
    );
    expect(await world.registry.manifests.head(REPO, { tag: "v1" }).catch(() => null)).toBeNull();

    await collector.resume();
    expect(await collector.runToEnd()).toBe("done");
    expect(await world.hasBlob(layer.digest)).toBe(false);
    expect(await world.hasLink(REPO, layer.digest)).toBe(false);

    // What a client does next: the blob is unknown, so it uploads it again, then the manifest.
    expect(await world.registry.blobs.stat(REPO, parseDigest(layer.digest))).toBeNull();
    expect((await world.blob(REPO, bytes)).digest).toBe(layer.digest);
    const image = await world.image(REPO, { tag: "v1", layers: [layer] });
    expect(await world.pulls(REPO, image)).toBe(true);
  });

  test("an upload of the same bytes after condemn rescues the blob", async () => {
    const { world, layer } = await withOrphanLayer();
    const bytes = await bytesOf(world, layer);
    const collector = await pausedAfter(world, "condemn");

    await world.blob(OTHER, bytes); // deduplicated: links the stored blob
    await collector.resume();
    expect(await collector.runToEnd()).toBe("done");

    expect(await world.hasBlob(layer.digest)).toBe(true);
    expect(await world.hasLink(OTHER, layer.digest)).toBe(true);
    const image = await world.image(OTHER, { tag: "v1", layers: [layer] });
    expect(await world.pulls(OTHER, image)).toBe(true);
  });

  test("an upload of the same bytes after claim is a 503; its retry stores them", async () => {
    const { world, layer } = await withOrphanLayer();
    const bytes = await bytesOf(world, layer);
    const collector = await pausedAfter(world, "claim");

    expect(world.blob(OTHER, bytes)).rejects.toBeInstanceOf(CollectedMeanwhile);
    expect(await world.hasLink(OTHER, layer.digest)).toBe(false);

    await collector.resume();
    expect(await collector.runToEnd()).toBe("done");
    await world.blob(OTHER, bytes);
    const image = await world.image(OTHER, { tag: "v1", layers: [layer] });
    expect(await world.pulls(OTHER, image)).toBe(true);
  });

  test("a mount after claim falls back to an upload; after condemn it rescues", async () => {
    const { world, layer } = await withOrphanLayer();
    const claimed = await pausedAfter(world, "claim");
    const digest = parseDigest(layer.digest);
    expect(await world.registry.blobs.mount(OTHER, digest, { from: REPO })).toBeNull();
    expect(await world.hasLink(OTHER, layer.digest)).toBe(false);
    await claimed.resume();
    await claimed.runToEnd();

    const second = await withOrphanLayer();
    const condemned = await pausedAfter(second.world, "condemn");
    const mounted = await second.world.registry.blobs.mount(
      OTHER,
      parseDigest(second.layer.digest),
      { from: REPO },
    );
    expect(mounted).not.toBeNull();
    await condemned.resume();
    await condemned.runToEnd();
    // The link in OTHER is young, so the blob stays; the unused link in REPO goes.
    expect(await second.world.hasBlob(second.layer.digest)).toBe(true);
    expect(await second.world.hasLink(OTHER, second.layer.digest)).toBe(true);
  });

  test("an index PUT after condemn keeps its untagged child and the child's layers", async () => {
    const world = new World();
    const child = await world.image(REPO);
    world.later();
    const collector = world.collector();
    expect(await collector.start({ policy: "untagged", pauseAfter: "condemn" })).toBe(true);
    await collector.runToEnd();

    await world.index(REPO, [child.manifest], "multi");
    await collector.resume();
    expect(await collector.runToEnd()).toBe("done");
    expect(await world.pulls(REPO, child)).toBe(true);
  });

  test("a push between scan and condemn is seen by the rescan", async () => {
    const { world, layer } = await withOrphanLayer();
    const collector = world.collector();
    expect(await collector.start({ pauseAfter: "data" })).toBe(true);
    expect(await collector.runToEnd()).toBe("condemn");

    // No marks exist yet, so protect finds nothing to rescue; the manifest is what saves it.
    const image = await world.image(REPO, { tag: "v1", layers: [layer] });
    await collector.resume();
    expect(await collector.runToEnd()).toBe("done");
    expect(await world.pulls(REPO, image)).toBe(true);
  });

  test("a single-instance server does not take a session the collection aborts", async () => {
    const world = new World();
    const server = createRegistry({
      storage: world.storage,
      hashEngine: typescriptHashEngine,
      singleInstance: true,
    });
    const session = await server.uploads.start(REPO, "sha256");
    world.later(48);

    // The collection has taken the session (it lists its carries next): a PATCH comes in.
    let patched: Promise<unknown> | undefined;
    const listKeys: ObjectStorage["listKeys"] = async (options) => {
      if (options?.prefix === `uploads/${session.id}/`) {
        patched ??= server.uploads
          .append(REPO, session.id, { body: new Blob([randomBytes(1000)]).stream() })
          .catch((error: unknown) => error);
        await patched;
      }
      return world.storage.listKeys(options);
    };
    const storage = new Proxy(world.storage, {
      get: (target, property) => {
        if (property === "listKeys") return listKeys;
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const collector = new Collector(storage, {
      hashEngine: typescriptHashEngine,
      now: () => Date.now() + world.offset,
    });
    expect(await collector.start()).toBe(true);
    expect(await collector.runToEnd()).toBe("done");

    expect(await patched).toBeInstanceOf(UploadRangeInvalid);
    expect((await collector.status()).last?.abandonedUploads).toBe(1);
    await expect(server.uploads.status(REPO, session.id)).rejects.toBeInstanceOf(BlobUploadUnknown);
  });
});

async function bytesOf(world: World, d: { digest: string }): Promise<Uint8Array> {
  const content = await world.registry.blobs.open(REPO, parseDigest(d.digest));
  if (!content) throw new Error(`no blob ${d.digest}`);
  return new Uint8Array(await new Response(content.object.body).arrayBuffer());
}
