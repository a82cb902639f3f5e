/**
 * Peak resident memory of the local server while skopeo pushes and pulls a single-layer image,
 * for several layer sizes: it should stay flat as the blob grows.
 *
 *   bun bench/memory.ts [MiB…]        (default: 256 1024)
 *
 * Needs skopeo. Prints a markdown table. `bun run bench` measures the same at one size, next to
 * Distribution.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBigImage } from "./big-image";
import { rssKib } from "./lib/proc";
import { startBunServer } from "./lib/servers";
import { Skopeo } from "./lib/skopeo";
import { UsageMonitor } from "./lib/usage-monitor";
import { timed } from "./phases/figures";

const sizes = process.argv.slice(2).map(Number);

/** Runs `task` while watching the server; resolves with its seconds and the peak RSS in KiB. */
async function watched(pid: number, task: () => Promise<void>) {
  const monitor = await UsageMonitor.start([pid]);
  const seconds = await timed(task);
  return { seconds, peakKib: (await monitor.stop()).peakRssKib };
}

async function measure(mib: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "r2-registry-bench-"));
  await buildBigImage(join(work, "image"), mib * 2 ** 20);
  const server = await startBunServer(work);
  const [pid = 0] = server.pids;
  const idle = await rssKib(pid);
  const skopeo = new Skopeo(work);
  const target = `docker://${server.authority}/bench/big-${mib}:latest`;

  await skopeo.forgetBlobLocations();
  const push = await watched(pid, () => skopeo.copy(`oci:${join(work, "image")}:latest`, target));
  const pull = await watched(pid, () => skopeo.copy(target, `oci:${join(work, "back")}:latest`));

  await server.stop();
  await rm(work, { recursive: true, force: true });
  const mb = (kib: number) => (kib / 1024).toFixed(0);
  const cells = [`${mib} MiB`, mb(idle), mb(push.peakKib), mb(pull.peakKib)];
  return `| ${[...cells, push.seconds.toFixed(1), pull.seconds.toFixed(1)].join(" | ")} |`;
}

console.log("| layer | idle RSS (MiB) | peak RSS in push | peak RSS in pull | push s | pull s |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const mib of sizes.length ? sizes : [256, 1024]) console.log(await measure(mib));
