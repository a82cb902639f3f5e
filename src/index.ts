/**
 * The Worker entry: the registry on Cloudflare Workers, with the R2 binding `BUCKET` as its
 * storage. Each isolate builds the app once and serves every request it gets with it; nothing
 * is kept between requests except what is in R2 (and briefly, successful password checks).
 *
 * Authentication comes from the `AUTH_CONFIG` secret. Without it the Worker serves pulls to
 * anyone and refuses every push and delete, unless `OPEN_REGISTRY` is `true`; with one it cannot
 * use, it serves nothing and says so in its log.
 */
import type { Hono } from "hono";
import { Authenticator } from "./auth/authenticator";
import { parseAuthConfig } from "./auth/config";
import { typescriptHashEngine } from "./hash/typescript-engine";
import { createApp, createUnavailableApp } from "./http/app";
import type { GcDriver } from "./http/gc";
import { type GcSettings, gcSettings } from "./gc/settings";
import type { AppEnv } from "./http/env";
import { consoleLogger } from "./http/logger";
import { createRegistry, type Registry } from "./registry/registry";
import { R2Storage } from "./worker/r2-storage";

export interface Env {
  BUCKET: R2Bucket;
  /** Size of the parts of multipart uploads, in bytes (default 8 MiB, at least 5 MiB). */
  PART_SIZE?: string;
  /** The plan's request-body limit in bytes, advertised to clients (default 100 MB). */
  CHUNK_MAX_LENGTH?: string;
  /** The authentication configuration, a JSON document (a secret: it holds password hashes). */
  AUTH_CONFIG?: string;
  /** `true` lets anyone push and delete when there is no `AUTH_CONFIG`. */
  OPEN_REGISTRY?: string;
  /** Garbage collection: see src/gc/settings.ts. */
  GC_POLICY?: string;
  GC_GRACE_SECONDS?: string;
  UPLOAD_TTL_SECONDS?: string;
  GC_INTERVAL_HOURS?: string;
  GC_STEP_OPERATIONS?: string;
}

const DEFAULT_CHUNK_MAX_LENGTH = 100_000_000;
const READ_ONLY =
  "this registry takes no pushes or deletes: it has no AUTH_CONFIG, and OPEN_REGISTRY is not true";

interface Instance {
  env: Env;
  registry: Registry;
  settings: GcSettings;
  app: Promise<Hono<AppEnv>>;
}

let built: Instance | undefined;

function instanceFor(env: Env): Instance {
  const same = built?.env;
  const unchanged =
    same?.BUCKET === env.BUCKET &&
    same.AUTH_CONFIG === env.AUTH_CONFIG &&
    same.OPEN_REGISTRY === env.OPEN_REGISTRY;
  if (built && unchanged) return built;
  const registry = createRegistry({
    storage: new R2Storage(env.BUCKET),
    hashEngine: typescriptHashEngine,
    partSize: env.PART_SIZE ? Number(env.PART_SIZE) : undefined,
    chunkMaxLength: Number(env.CHUNK_MAX_LENGTH ?? DEFAULT_CHUNK_MAX_LENGTH),
  });
  const settings = gcSettings(env as unknown as Record<string, string | undefined>);
  built = { env, registry, settings, app: buildApp(env, registry, settings) };
  return built;
}

async function buildApp(env: Env, registry: Registry, settings: GcSettings) {
  // A collection started by a request goes on for one step after the response, then by cron.
  const drive: GcDriver = (c, collector) => c.executionCtx.waitUntil(collector.step(settings.step));
  const gc = { settings, drive };
  try {
    return createApp(registry, { logger: consoleLogger, auth: await authenticator(env), gc });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    consoleLogger.error("cannot serve", { error: reason });
    return createUnavailableApp("the registry's AUTH_CONFIG cannot be used", consoleLogger);
  }
}

/**
 * The Cron Trigger: carries the running collection on by one bounded step, or starts one when
 * the last finished more than `GC_INTERVAL_HOURS` ago.
 */
async function scheduled(env: Env): Promise<void> {
  const { registry, settings } = instanceFor(env);
  const collector = registry.gc;
  const status = await collector.status();
  if (!status.running) {
    const last = status.last?.finishedAt ? Date.parse(status.last.finishedAt) : 0;
    if (Date.now() - last < settings.intervalMs) return;
    await collector.start(settings.defaults);
  }
  const phase = await collector.step(settings.step);
  consoleLogger.info("garbage collection step", { phase });
}

async function authenticator(env: Env): Promise<Authenticator | undefined> {
  if (env.AUTH_CONFIG) return Authenticator.create(parseAuthConfig(env.AUTH_CONFIG));
  if (env.OPEN_REGISTRY === "true") return undefined;
  return Authenticator.readOnly(READ_ONLY);
}

export default {
  async fetch(request, env, ctx) {
    return (await instanceFor(env).app).fetch(request, env, ctx);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(scheduled(env));
  },
} satisfies ExportedHandler<Env>;
