/**
 * Listings under load (wrk, 8 connections): the tags of one repository with many tags, and the
 * catalog of many repositories, each as the full list and as pages of 100 (wrk cycles through
 * every page, following the `Link` headers the server itself gave).
 */
import { inPool, type ListingPage, OCI_CONFIG } from "../lib/client";
import { runWrk } from "../lib/load";
import type { BenchServer } from "../lib/servers";
import { loadFigures } from "./figures";
import { configOnlyManifest, seedImage } from "./seed";
import type { Phase, PhaseContext } from "./types";

const CONNECTIONS = 8;
const SETUP_CONCURRENCY = 16;
const PAGE = 100;
const TAGS_REPOSITORY = "bench/tags";
const CATALOG_BASE = "bench/catalog-base";
/** Asked as the page size of the "full" catalog: Distribution 2.8 gives 100 without `n`. */
const FULL_CATALOG = 10_000;

const tagName = (i: number) => `t${String(i).padStart(5, "0")}`;
const repositoryName = (i: number) => `bench/catalog/r${String(i).padStart(5, "0")}`;

/** PUTs one small manifest under `sizes.tags` tags, 16 at a time (once per server). */
async function seedTags(ctx: PhaseContext, server: BenchServer): Promise<void> {
  const { client } = ctx.state(server);
  const count = ctx.options.sizes.tags;
  const started = performance.now();
  const image = await seedImage(client, TAGS_REPOSITORY, tagName(0));
  const tags = Array.from({ length: count - 1 }, (_, i) => tagName(i + 1));
  await inPool(tags, SETUP_CONCURRENCY, (tag) =>
    client.putManifest(TAGS_REPOSITORY, tag, image.manifest),
  );
  const took = ((performance.now() - started) / 1000).toFixed(1);
  ctx.note(`set-up, untimed: ${count} tag PUTs (16 at a time) took ${took} s on ${server.label}`);
}

/** Creates `sizes.repositories` repositories of one config-only image each (once per server). */
async function seedCatalog(ctx: PhaseContext, server: BenchServer): Promise<void> {
  const { client } = ctx.state(server);
  const count = ctx.options.sizes.repositories;
  const started = performance.now();
  const configBytes = new TextEncoder().encode(JSON.stringify({ architecture: "amd64" }));
  const config = await client.pushBlob(CATALOG_BASE, configBytes, OCI_CONFIG);
  const manifest = configOnlyManifest(config.digest, config.size);
  await client.putManifest(CATALOG_BASE, "latest", manifest);
  const names = Array.from({ length: count }, (_, i) => repositoryName(i));
  await inPool(names, SETUP_CONCURRENCY, async (name) => {
    await client.mountBlob(name, config.digest, CATALOG_BASE);
    await client.putManifest(name, "latest", manifest);
  });
  const took = ((performance.now() - started) / 1000).toFixed(1);
  ctx.note(
    `set-up, untimed: ${count} repositories (mount + manifest PUT, 16 at a time) took ${took} s` +
      ` on ${server.label}`,
  );
}

type Listing = "tags" | "catalog";

const LISTING_PATHS: Record<Listing, { full: string; paged: string }> = {
  tags: {
    full: `/v2/${TAGS_REPOSITORY}/tags/list`,
    paged: `/v2/${TAGS_REPOSITORY}/tags/list?n=${PAGE}`,
  },
  catalog: { full: `/v2/_catalog?n=${FULL_CATALOG}`, paged: `/v2/_catalog?n=${PAGE}` },
};

/** Seeds once, then walks the listing (every round: phases add repositories to the catalog). */
async function listingPages(ctx: PhaseContext, server: BenchServer, listing: Listing) {
  const state = ctx.state(server);
  const field = listing === "tags" ? "tags" : "repositories";
  const seeded = listing === "tags" ? state.tagPages : state.catalogPages;
  if (!seeded) await (listing === "tags" ? seedTags : seedCatalog)(ctx, server);
  const paths = LISTING_PATHS[listing];
  const full = (await state.client.listingPages(paths.full, field)).slice(0, 1);
  const paged = await state.client.listingPages(paths.paged, field);
  const pages = { full, paged };
  if (listing === "tags") state.tagPages = pages;
  else state.catalogPages = pages;
  return pages;
}

function describe(pages: ListingPage[], asked: boolean): string {
  const largest = Math.max(...pages.map((page) => page.count));
  const total = pages.reduce((sum, page) => sum + page.count, 0);
  if (pages.length > 1) return `${pages.length} pages, ${total} names, at most ${largest} a page`;
  return `1 response of ${total} names${total > PAGE && asked ? ` (n=${PAGE} is ignored)` : ""}`;
}

function listingLoad(listing: Listing, kind: "full" | "paged", number: number): Phase {
  const pagesOf = (ctx: PhaseContext, server: BenchServer) => {
    const state = ctx.state(server);
    const pages = (listing === "tags" ? state.tagPages : state.catalogPages)?.[kind] ?? [];
    return pages.map((page) => state.client.absolute(page.path));
  };
  const load = (ctx: PhaseContext, server: BenchServer, seconds: number) =>
    runWrk(
      { method: "GET", urls: pagesOf(ctx, server), headers: {}, connections: CONNECTIONS, seconds },
      ctx.work,
    );
  const path = LISTING_PATHS[listing][kind];
  return {
    id: `${listing}-${kind}`,
    number,
    group: listing,
    title: (sizes) => {
      const what = listing === "tags" ? `${sizes.tags} tags` : `${sizes.repositories} repositories`;
      const how = kind === "full" ? "full list" : `pages of ${PAGE}`;
      return `${listing} (${what}): ${how}, GET ${path} (wrk, ${CONNECTIONS} connections)`;
    },
    tools: ["wrk"],
    async prepare(ctx, server) {
      const pages = (await listingPages(ctx, server, listing))[kind];
      if (ctx.round === 1)
        ctx.note(`${path} on ${server.label}: ${describe(pages, kind === "paged")}`);
    },
    async warmup(ctx, server) {
      await load(ctx, server, ctx.options.warmup);
    },
    async run(ctx, server) {
      const result = await load(ctx, server, ctx.options.duration);
      return { figures: loadFigures(result), requests: result.requests, failures: result.failures };
    },
  };
}

export const tagsFull = listingLoad("tags", "full", 9);
export const tagsPaged = listingLoad("tags", "paged", 9);
export const catalogPaged = listingLoad("catalog", "paged", 10);
export const catalogFull = listingLoad("catalog", "full", 10);
