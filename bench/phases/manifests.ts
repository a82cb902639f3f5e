/** Manifest GET and HEAD by tag under load (hey, 32 connections). */
import { runHey } from "../lib/load";
import type { BenchServer } from "../lib/servers";
import { loadFigures } from "./figures";
import { MANIFEST_ACCEPT, seedImage } from "./seed";
import type { Phase, PhaseContext } from "./types";

const CONNECTIONS = 32;
const REPOSITORY = "bench/manifest";

async function seed(ctx: PhaseContext, server: BenchServer): Promise<void> {
  const state = ctx.state(server);
  if (state.manifestReady) return;
  await seedImage(state.client, REPOSITORY, "latest");
  state.manifestReady = true;
}

function manifestLoad(method: "GET" | "HEAD", number: number): Phase {
  const load = (ctx: PhaseContext, server: BenchServer, seconds: number) =>
    runHey({
      method,
      urls: [ctx.state(server).client.absolute(`/v2/${REPOSITORY}/manifests/latest`)],
      headers: { Accept: MANIFEST_ACCEPT },
      connections: CONNECTIONS,
      seconds,
    });
  return {
    id: `manifest-${method.toLowerCase()}`,
    number,
    group: `manifest-${method.toLowerCase()}`,
    title: () => `manifest ${method} by tag (hey, ${CONNECTIONS} connections)`,
    tools: ["hey"],
    prepare: seed,
    async warmup(ctx, server) {
      await load(ctx, server, ctx.options.warmup);
    },
    async run(ctx, server) {
      const result = await load(ctx, server, ctx.options.duration);
      return { figures: loadFigures(result), requests: result.requests, failures: result.failures };
    },
  };
}

export const manifestGet = manifestLoad("GET", 7);
export const manifestHead = manifestLoad("HEAD", 8);
