/**
 * The garbage collection endpoint, for administrators (`registry:gc:delete`):
 *
 *   GET  /v2/_gc          the collection running, if any, and the last report
 *   POST /v2/_gc          starts a collection: `dryRun=true`, `policy=all|untagged`,
 *                         `grace=<seconds>`, `uploadTtl=<seconds>`; `pauseAfter=<phase>` stops
 *                         it after a phase until `POST /v2/_gc/resume` (a test's hook)
 *   POST /v2/_gc/resume   lets a paused collection go on
 *
 * A start answers 202 at once; the runtime carries the collection on (see `GcDriver`).
 */
import { Hono } from "hono";
import { type CollectionOptions, type Collector, PHASES, type Phase } from "../gc/collector";
import { type GcSettings, policyOf } from "../gc/settings";
import { Unsupported } from "../registry/errors";
import type { Registry } from "../registry/registry";
import type { AppContext, AppEnv } from "./env";
import { jsonBody } from "./responses";

/** Carries a collection on after a request started or resumed it. */
export type GcDriver = (c: AppContext, collector: Collector) => void;

export interface GcRoutesOptions {
  settings: GcSettings;
  drive: GcDriver;
}

export function gcRoutes(registry: Registry, options: GcRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const collector = registry.gc;

  app.get("/v2/_gc", async (c) => jsonBody(c, await collector.status()));

  app.post("/v2/_gc", async (c) => {
    const started = await collector.start(collectionOptions(c, options.settings));
    options.drive(c, collector);
    return jsonBody(c, { started, ...(await collector.status()) }, 202);
  });

  app.post("/v2/_gc/resume", async (c) => {
    await collector.resume();
    options.drive(c, collector);
    return jsonBody(c, await collector.status(), 202);
  });
  return app;
}

function collectionOptions(c: AppContext, settings: GcSettings): CollectionOptions {
  const query = (name: string) => c.req.query(name);
  const pauseAfter = query("pauseAfter");
  if (pauseAfter !== undefined && !PHASES.includes(pauseAfter as Phase)) {
    throw new Unsupported(`pauseAfter must be one of ${PHASES.join(", ")}`, 400);
  }
  try {
    return {
      dryRun: query("dryRun") === "true",
      policy: policyOf(query("policy") ?? settings.defaults.policy),
      graceMs: milliseconds(query("grace")) ?? settings.defaults.graceMs,
      uploadTtlMs: milliseconds(query("uploadTtl")) ?? settings.defaults.uploadTtlMs,
      pauseAfter: pauseAfter as Phase | undefined,
    };
  } catch (error) {
    throw new Unsupported((error as Error).message, 400);
  }
}

function milliseconds(seconds: string | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  const value = Number(seconds);
  if (seconds === "" || !Number.isFinite(value) || value < 0) {
    throw new Error("grace and uploadTtl are seconds, a number ≥ 0");
  }
  return value * 1000;
}
