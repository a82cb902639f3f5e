/**
 * The Worker entry: the registry on Cloudflare Workers, with the R2 binding `BUCKET` as its
 * storage. Each isolate builds the app once and serves every request it gets with it; nothing
 * is kept between requests except what is in R2.
 */
import type { Hono } from "hono";
import { typescriptHashEngine } from "./hash/typescript-engine";
import { createApp } from "./http/app";
import type { AppEnv } from "./http/env";
import { consoleLogger } from "./http/logger";
import { createRegistry } from "./registry/registry";
import { R2Storage } from "./worker/r2-storage";

export interface Env {
  BUCKET: R2Bucket;
  /** Size of the parts of multipart uploads, in bytes (default 8 MiB, at least 5 MiB). */
  PART_SIZE?: string;
  /** The plan's request-body limit in bytes, advertised to clients (default 100 MB). */
  CHUNK_MAX_LENGTH?: string;
}

const DEFAULT_CHUNK_MAX_LENGTH = 100_000_000;

let built: { bucket: R2Bucket; app: Hono<AppEnv> } | undefined;

function appFor(env: Env): Hono<AppEnv> {
  if (built?.bucket === env.BUCKET) return built.app;
  const registry = createRegistry({
    storage: new R2Storage(env.BUCKET),
    hashEngine: typescriptHashEngine,
    partSize: env.PART_SIZE ? Number(env.PART_SIZE) : undefined,
    chunkMaxLength: Number(env.CHUNK_MAX_LENGTH ?? DEFAULT_CHUNK_MAX_LENGTH),
  });
  built = { bucket: env.BUCKET, app: createApp(registry, { logger: consoleLogger }) };
  return built.app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
