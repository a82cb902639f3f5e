/** Pushing and pulling images with skopeo: one big single-layer image, and many small ones. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { buildSmallImages } from "../lib/fixtures";
import type { Sizes } from "../lib/options";
import type { BenchServer } from "../lib/servers";
import { Skopeo } from "../lib/skopeo";
import { milliseconds, throughput, timed } from "./figures";
import type { Phase, PhaseContext } from "./types";

const SMALL_LAYER_BYTES = 4096;

export function sizeLabel(bytes: number): string {
  return bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / 2 ** 20} MiB`;
}

/** The big image gets new content every round, so each push uploads its layer again. */
async function refreshBigImage(ctx: PhaseContext): Promise<void> {
  await (await ctx.fixtures.bigImage()).refresh(`round-${ctx.round}`);
}

/** Pushes this round's big image to a repository of its own; resolves with the seconds. */
async function pushBigImage(ctx: PhaseContext, server: BenchServer): Promise<number> {
  const image = await ctx.fixtures.bigImage();
  const reference = `${server.authority}/bench/push-${ctx.round}:latest`;
  const skopeo = new Skopeo(ctx.work);
  await skopeo.forgetBlobLocations();
  const took = await timed(() => skopeo.copy(`oci:${image.dir}:latest`, `docker://${reference}`));
  ctx.state(server).pushed = { round: ctx.round, reference };
  return took;
}

export const push: Phase = {
  id: "push",
  number: 1,
  group: "push",
  title: (sizes: Sizes) => `${sizeLabel(sizes.bigBytes)} image push (skopeo)`,
  tools: ["skopeo", "tar"],
  beforeRound: refreshBigImage,
  async run(ctx, server) {
    const took = await pushBigImage(ctx, server);
    return { figures: [throughput((await ctx.fixtures.bigImage()).size, took)] };
  },
};

const pullDir = (ctx: PhaseContext) => join(ctx.work, "pulled");

function pullBigImage(ctx: PhaseContext, server: BenchServer): Promise<void> {
  const source = `docker://${ctx.state(server).pushed?.reference}`;
  return new Skopeo(ctx.work).copy(source, `oci:${pullDir(ctx)}:latest`);
}

export const pull: Phase = {
  id: "pull",
  number: 2,
  group: "pull",
  title: (sizes: Sizes) => `${sizeLabel(sizes.bigBytes)} image pull (skopeo, to an OCI layout)`,
  tools: ["skopeo", "tar"],
  beforeRound: refreshBigImage,
  async prepare(ctx, server) {
    await rm(pullDir(ctx), { recursive: true, force: true });
    if (ctx.state(server).pushed?.round !== ctx.round) await pushBigImage(ctx, server);
  },
  // A pull writes a GiB on the client's side, and writing into page cache that a removed file
  // just freed is several times faster here than into memory never used before: without an
  // untimed pull first, whichever server went second had the faster disk.
  async warmup(ctx, server) {
    await pullBigImage(ctx, server);
    await rm(pullDir(ctx), { recursive: true, force: true });
  },
  async run(ctx, server) {
    const took = await timed(() => pullBigImage(ctx, server));
    return { figures: [throughput((await ctx.fixtures.bigImage()).size, took)] };
  },
  async cleanup(ctx) {
    await rm(pullDir(ctx), { recursive: true, force: true });
  },
};

const smallDir = (ctx: PhaseContext) => join(ctx.work, "small-images");

export const smallPush: Phase = {
  id: "small-push",
  number: 6,
  group: "small-push",
  title: (sizes: Sizes) => `${sizes.smallImages} small image pushes in sequence (skopeo, 4 KiB)`,
  tools: ["skopeo"],
  async beforeRound(ctx) {
    await buildSmallImages(smallDir(ctx), ctx.options.sizes.smallImages, SMALL_LAYER_BYTES);
  },
  async run(ctx, server) {
    const skopeo = new Skopeo(ctx.work);
    const repository = `${server.authority}/bench/small-${ctx.round}`;
    const took = await timed(async () => {
      for (let i = 0; i < ctx.options.sizes.smallImages; i++) {
        await skopeo.forgetBlobLocations();
        await skopeo.copy(`oci:${smallDir(ctx)}:img-${i}`, `docker://${repository}:img-${i}`);
      }
    });
    return { figures: [milliseconds("time per push", took / ctx.options.sizes.smallImages)] };
  },
};
