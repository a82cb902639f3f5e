/**
 * Mark and sweep over crafted layouts: what each policy keeps and deletes, the grace period,
 * shared blobs, indexes, referrers, dry runs and abandoned uploads.
 */
import { describe, expect, test } from "bun:test";
import { parseDigest } from "../../src/registry/digest";
import { layout } from "../../src/registry/layout";
import { OCI_MANIFEST, randomBytes, utf8 } from "../support/client";
import { World } from "./world";

const REPO = "team/app";
const OTHER = "team/other";

describe("mark and sweep", () => {
  test("a deleted image's manifest, links and blobs go; a tagged one stays whole", async () => {
    const world = new World();
    const kept = await world.image(REPO, { tag: "kept" });
    const gone = await world.image(REPO, { tag: "gone" });
    await world.deleteManifest(REPO, gone.manifest.digest);
    world.later();

    const report = await world.collect();

    expect(await world.pulls(REPO, kept)).toBe(true);
    for (const d of [gone.config, ...gone.layers]) {
      expect(await world.hasLink(REPO, d.digest)).toBe(false);
      expect(await world.hasBlob(d.digest)).toBe(false);
    }
    expect(report.removedBlobs.count).toBe(2);
    expect(report.removedBlobs.bytes).toBe(gone.config.size + (gone.layers[0]?.size ?? 0));
    expect(report.repositories[REPO]?.removed.links).toBe(2);
    expect(await world.keys("gc/marks/")).toEqual([]);
    expect(await world.has(layout.gcRun)).toBe(false);
  });

  test("nothing younger than the grace period is deleted", async () => {
    const world = new World();
    const gone = await world.image(REPO, { tag: "gone" });
    await world.deleteManifest(REPO, gone.manifest.digest);
    const orphan = await world.blob(OTHER, randomBytes(100));

    const report = await world.collect();
    expect(report.removedBlobs.count).toBe(0);
    expect(await world.hasBlob(orphan.digest)).toBe(true);
    expect(await world.hasLink(REPO, gone.config.digest)).toBe(true);

    // With the clock moved past the grace period, the same collection deletes them.
    world.later();
    const later = await world.collect();
    expect(later.removedBlobs.count).toBe(3);
    expect(await world.hasBlob(orphan.digest)).toBe(false);
  });

  test("a configurable grace period", async () => {
    const world = new World();
    const orphan = await world.blob(REPO, randomBytes(100));
    world.later(0.5);
    await world.collect({ graceMs: 60 * 60 * 1000 });
    expect(await world.hasBlob(orphan.digest)).toBe(true);
    await world.collect({ graceMs: 10 * 60 * 1000 });
    expect(await world.hasBlob(orphan.digest)).toBe(false);
  });

  test("a layer shared with another repository keeps its bytes; only the link goes", async () => {
    const world = new World();
    const shared = await world.blob(REPO, randomBytes(2000));
    await world.blob(OTHER, randomBytes(2000)); // unrelated
    await world.registry.blobs.mount(OTHER, parseDigest(shared.digest), { from: REPO });
    const mine = await world.image(REPO, { tag: "v1", layers: [shared] });
    const theirs = await world.image(OTHER, { tag: "v1", layers: [shared] });
    await world.deleteManifest(REPO, mine.manifest.digest);
    world.later();

    const report = await world.collect();

    expect(await world.hasLink(REPO, shared.digest)).toBe(false);
    expect(await world.hasBlob(shared.digest)).toBe(true);
    expect(await world.pulls(OTHER, theirs)).toBe(true);
    // Usage counts the shared layer in both repositories, the registry total once.
    const usage = report.repositories;
    expect(usage[REPO]?.usage.blobBytes).toBeGreaterThanOrEqual(shared.size);
    expect(usage[OTHER]?.usage.blobBytes).toBeGreaterThanOrEqual(shared.size);
    const linked = (usage[REPO]?.usage.blobBytes ?? 0) + (usage[OTHER]?.usage.blobBytes ?? 0);
    expect(report.total.blobBytes).toBe(linked - shared.size);
    // The config was this repository's alone: its bytes are put on it.
    expect(usage[REPO]?.removed.blobBytes).toBe(mine.config.size);
  });

  test("an index keeps its untagged children under either policy; untagged, it goes", async () => {
    const world = new World();
    const amd = await world.image(REPO);
    const arm = await world.image(REPO);
    const index = await world.index(REPO, [amd.manifest, arm.manifest], "multi");
    world.later();

    await world.collect({ policy: "untagged" });
    expect(await world.pulls(REPO, amd)).toBe(true);
    expect(await world.pulls(REPO, arm)).toBe(true);

    await world.untag(REPO, "multi");
    await world.collect();
    expect(await world.hasManifest(REPO, index.digest)).toBe(true); // policy all keeps it

    await world.collect({ policy: "untagged" });
    expect(await world.hasManifest(REPO, index.digest)).toBe(false);
    expect(await world.hasManifest(REPO, amd.manifest.digest)).toBe(false);
    expect(await world.hasBlob(arm.config.digest)).toBe(false);
  });

  test("untagged manifests are roots by default and collected with the untagged policy", async () => {
    const world = new World();
    const image = await world.image(REPO, { tag: "v1" });
    await world.image(REPO, { tag: "v1" }); // v1 moves on
    world.later();

    await world.collect();
    expect(await world.pulls(REPO, image)).toBe(true);

    const report = await world.collect({ policy: "untagged" });
    expect(await world.hasManifest(REPO, image.manifest.digest)).toBe(false);
    expect(report.repositories[REPO]?.removed.manifests).toBe(1);
  });

  test("referrers live as long as their subject, through chains", async () => {
    const world = new World();
    const image = await world.image(REPO, { tag: "v1" });
    const signature = await world.image(REPO, {
      subject: image.manifest,
      artifactType: "application/example.signature",
    });
    const attestation = await world.image(REPO, {
      subject: signature.manifest,
      artifactType: "application/example.attestation",
    });
    world.later();

    await world.collect({ policy: "untagged" });
    expect(await world.pulls(REPO, signature)).toBe(true);
    expect(await world.pulls(REPO, attestation)).toBe(true);

    await world.deleteManifest(REPO, image.manifest.digest);
    await world.collect();
    for (const gone of [signature, attestation]) {
      expect(await world.hasManifest(REPO, gone.manifest.digest)).toBe(false);
      expect(await world.hasBlob(gone.config.digest)).toBe(false);
    }
    const subject = parseDigest(signature.manifest.digest);
    expect(await world.keys(layout.referrersPrefix(REPO, subject))).toEqual([]);
  });

  test("a dry run reports what it would delete and deletes nothing", async () => {
    const world = new World();
    const gone = await world.image(REPO, { tag: "v1" });
    await world.deleteManifest(REPO, gone.manifest.digest);
    world.later();

    const dry = await world.collect({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.removedBlobs.count).toBe(2);
    expect(dry.repositories[REPO]?.removed.links).toBe(2);
    expect(await world.hasBlob(gone.config.digest)).toBe(true);

    const real = await world.collect();
    expect(real.removedBlobs).toEqual(dry.removedBlobs);
    expect(await world.hasBlob(gone.config.digest)).toBe(false);
  });

  test("the usage report shrinks by what a collection removed", async () => {
    const world = new World();
    await world.image(REPO, { tag: "kept" });
    const gone = await world.image(REPO, { tag: "gone" });
    await world.deleteManifest(REPO, gone.manifest.digest);
    world.later();

    const first = await world.collect();
    const second = await world.collect();
    expect(second.total.bytes).toBe(first.total.bytes - first.reclaimedBytes);
    expect(first.reclaimedBytes).toBe(gone.config.size + (gone.layers[0]?.size ?? 0));
    expect(second.reclaimedBytes).toBe(0);
  });

  test("abandoned uploads are aborted with their parts; live ones stay", async () => {
    const world = new World();
    const uploads = world.registry.uploads;
    const old = await uploads.start(REPO, "sha256");
    await uploads.append(REPO, old.id, { body: new Blob([randomBytes(6 * 1024 * 1024)]).stream() });
    world.later(25);
    const fresh = await uploads.start(REPO, "sha256");

    const report = await world.collect();

    expect(report.abandonedUploads).toBe(1);
    expect(await world.keys(`uploads/${old.id}`)).toEqual([]);
    expect(uploads.status(REPO, old.id)).rejects.toThrow();
    expect((await uploads.status(REPO, fresh.id)).size).toBe(0);
  });

  test("a manifest that no longer parses keeps everything in its repository", async () => {
    const world = new World();
    const image = await world.image(REPO, { tag: "v1" });
    const key = layout.manifest(REPO, parseDigest(image.manifest.digest));
    await world.storage.put(key, utf8("not json"), { httpMetadata: { contentType: OCI_MANIFEST } });
    world.later();
    await world.collect();
    // Its blobs are unreferenced now; the manifest itself, a root, stays.
    expect(await world.has(key)).toBe(true);
  });
});
