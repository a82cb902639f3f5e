/**
 * Garbage collection with skopeo: push two images sharing a base layer to two repositories,
 * delete one with `skopeo delete`, collect, and see the deleted image's own blobs gone from the
 * registry, the storage report shrink by their size, and the other image pull back whole.
 *
 * On the Bun server the collection is `bun run gc`, run against the data directory while the
 * server serves it; on the Worker it is the endpoint and the Cron Trigger.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Report } from "../../src/gc/report";
import { collect } from "../support/gc";
import { buildImage, randomName, readImage } from "../support/oci-image";
import { isWorkerTarget, type RegistryServer, startRegistry } from "../support/server";
import { runOk } from "../support/tools";

const TIMEOUT = 120_000;
const ROOT = join(import.meta.dir, "..", "..");

let registry: RegistryServer;
let host: string;
let work: string;

beforeAll(async () => {
  registry = await startRegistry();
  host = new URL(registry.url).host;
  work = await mkdtemp(join(tmpdir(), "r2-registry-gc-"));
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function skopeo(...args: string[]) {
  return runOk(["skopeo", "--insecure-policy", ...args], { timeoutMs: TIMEOUT });
}

function copy(source: string, destination: string) {
  return skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", source, destination);
}

/** A whole collection (or dry run) with no grace period, by the target's own means. */
async function collectNow(dryRun: boolean): Promise<Report> {
  if (isWorkerTarget) return collect(registry.url, { grace: "0", dryRun: String(dryRun) });
  await Bun.sleep(5);
  const command = [process.execPath, "scripts/gc.ts", "--grace", "0", "--json"];
  if (dryRun) command.push("--dry-run");
  const output = await runOk(command, {
    timeoutMs: TIMEOUT,
    cwd: ROOT,
    env: { DATA_DIR: registry.dataDir ?? "" },
  });
  return JSON.parse(output) as Report;
}

/** Whether the registry holds the blob in any repository: a mount without `from` finds it. */
async function registryHas(digest: string): Promise<boolean> {
  const probe = randomName("e2e/probe");
  const res = await fetch(`${registry.url}/v2/${probe}/blobs/uploads/?mount=${digest}`, {
    method: "POST",
  });
  await res.arrayBuffer();
  return res.status === 201;
}

describe("garbage collection with skopeo", () => {
  test(
    "delete an image, collect: its own blobs go, the shared base and the other image stay",
    async () => {
      const base = { "base/lib.bin": new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251) };
      const mineDir = join(work, "mine");
      const theirsDir = join(work, "theirs");
      const mine = await buildImage(mineDir, {
        layers: [{ files: base }, { files: { "app/mine": 32 * 1024 } }],
        tag: "v1",
      });
      const theirs = await buildImage(theirsDir, {
        layers: [{ files: base }, { files: { "app/theirs": 32 * 1024 } }],
        tag: "v1",
      });
      expect(mine.layers[0]?.digest).toBe(theirs.layers[0]?.digest ?? "");

      const repo = randomName("e2e/gc");
      const other = randomName("e2e/gc");
      await copy(`oci:${mineDir}:v1`, `docker://${host}/${repo}:v1`);
      await copy(`oci:${theirsDir}:v1`, `docker://${host}/${other}:v1`);
      await skopeo("delete", "--tls-verify=false", `docker://${host}/${repo}:v1`);

      const before = await collectNow(true);
      const report = await collectNow(false);
      const after = await collectNow(true);

      const own = [mine.config, ...mine.layers.slice(1)];
      const ownBytes = own.reduce((sum, d) => sum + d.size, 0);
      expect(report.removedBlobs.count).toBe(own.length);
      expect(report.removedBlobs.bytes).toBe(ownBytes);
      expect(report.repositories[repo]?.removed.blobBytes).toBe(ownBytes);
      expect(after.total.bytes).toBe(before.total.bytes - ownBytes);
      expect(after.removedBlobs.count).toBe(0);
      for (const d of own) expect(await registryHas(d.digest)).toBe(false);
      expect(await registryHas(mine.layers[0]?.digest ?? "")).toBe(true);

      const back = join(work, "back");
      await copy(`docker://${host}/${other}:v1`, `oci:${back}:v1`);
      const pulled = await readImage(back, "v1");
      expect(pulled.manifest.digest).toBe(theirs.manifest.digest);
      expect(pulled.layers.map((d) => d.digest)).toEqual(theirs.layers.map((d) => d.digest));
    },
    TIMEOUT,
  );
});
